"""Errors sorted by type: overflow, transient (with Retry-After), or a failed call."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAuthenticationError,
    ModelRateLimitError,
    ModelTimeoutError,
)

from pipeline.errors import ModelCallError
from pipeline.models import failures
from pipeline.models.failures import (
    call_with_retries,
    is_context_overflow,
    is_transient,
    retry_delay,
)


class StatusError(Exception):
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status_code = status
        self.response = httpx.Response(status, headers=headers or {})


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        pytest.param(ModelRateLimitError("slow down"), True, id="typed-rate-limit"),
        pytest.param(ModelTimeoutError("timed out"), True, id="typed-timeout"),
        pytest.param(ModelAuthenticationError("bad key"), False, id="typed-auth"),
        pytest.param(StatusError(503), True, id="status-503"),
        pytest.param(StatusError(429), True, id="status-429"),
        pytest.param(StatusError(400), False, id="status-400"),
        pytest.param(StatusError(401), False, id="status-401"),
        pytest.param(httpx.ConnectError("refused"), True, id="httpx-connect"),
        pytest.param(httpx.ReadTimeout("slow"), True, id="httpx-timeout"),
        pytest.param(TimeoutError(), True, id="timeout"),
        pytest.param(ConnectionResetError(), True, id="connection-reset"),
        pytest.param(
            RuntimeError("RateLimitError in the text"), False, id="names-in-text-mean-nothing"
        ),
        pytest.param(ValueError("boom"), False, id="value-error"),
    ],
)
def test_transient_by_type_then_status_then_transport(exc, transient):
    assert is_transient(exc) is transient


def _raised_from(cause: Exception, wrapper: Exception) -> Exception:
    try:
        try:
            raise cause
        except type(cause) as exc:
            raise wrapper from exc
    except type(wrapper) as raised:
        return raised


def test_the_sdks_own_connection_and_timeout_errors_are_transient_raised_as_they_are():
    import openai

    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    assert is_transient(openai.APIConnectionError(request=request))
    assert is_transient(openai.APITimeoutError(request=request))
    assert not is_transient(
        openai.BadRequestError("bad", response=httpx.Response(400, request=request), body=None)
    )


def test_the_cause_chain_decides_when_the_error_itself_does_not_know():
    dropped = httpx.ConnectError("connection reset by peer")
    assert is_transient(_raised_from(dropped, RuntimeError("the model call failed")))
    assert not is_transient(_raised_from(StatusError(400), RuntimeError("the model call failed")))
    # the nearest link that knows wins: a typed auth error around a dropped connection
    assert not is_transient(_raised_from(dropped, ModelAuthenticationError("bad key")))


def test_overflow_by_type_first_then_message():
    assert is_context_overflow(ContextOverflowError("too long"))
    assert is_context_overflow(ValueError("This model's maximum context length is 4096 tokens"))
    assert not is_context_overflow(ModelRateLimitError("context window busy"))  # typed otherwise
    assert not is_context_overflow(ValueError("bad request"))


def test_retry_after_seconds_and_http_date_are_honoured():
    assert retry_delay(StatusError(429, {"retry-after": "7"}), attempt=0) == 7
    assert retry_delay(StatusError(429, {"retry-after-ms": "1500"}), attempt=3) == 1.5
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 15 <= retry_delay(StatusError(429, {"retry-after": when}), attempt=0) <= 20
    assert retry_delay(StatusError(429, {"retry-after": "9999"}), 0) == failures.RETRY_MAX_DELAY


def test_backoff_doubles_with_bounded_jitter():
    for attempt in range(4):
        base = failures.RETRY_BASE_DELAY * 2**attempt
        delay = retry_delay(RuntimeError(), attempt)
        assert base <= delay <= base * 1.25


def test_call_with_retries_retries_only_transient_errors_and_counts_retries():
    slept: list[float] = []
    outcomes = [StatusError(503), StatusError(429, {"retry-after": "2"}), "ok"]

    def call():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert call_with_retries(call, max_retries=2, describe="t", sleep=slept.append) == "ok"
    assert len(slept) == 2 and slept[1] == 2

    def always_503():
        raise StatusError(503)

    slept.clear()
    with pytest.raises(ModelCallError, match="after 3 attempts") as err:
        call_with_retries(always_503, max_retries=2, describe="t", sleep=slept.append)
    assert len(slept) == 2 and isinstance(err.value.__cause__, StatusError)


def test_a_non_transient_error_is_a_failed_call_at_once():
    slept: list[float] = []

    def auth():
        raise ModelAuthenticationError("invalid api key")

    with pytest.raises(ModelCallError, match="invalid api key"):
        call_with_retries(auth, max_retries=5, describe="t", sleep=slept.append)
    assert slept == []


def test_overflow_is_raised_typed_and_never_retried():
    calls = []

    def too_long():
        calls.append(1)
        raise ValueError("Requested tokens (5000) exceed context window of 4096 (context window)")

    with pytest.raises(ContextOverflowError):
        call_with_retries(too_long, max_retries=5, describe="t", sleep=lambda s: None)
    assert calls == [1]


def test_llama_cpp_overflow_message_is_recognised():
    from pipeline.models.llamacpp import LLAMA_OVERFLOW

    assert LLAMA_OVERFLOW.search("Requested tokens (5000) exceed context window of 4096")
