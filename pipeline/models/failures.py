"""What a failed model call means, and the one retry loop that acts on it.

A call fails in one of three ways:

- **context overflow**: the request does not fit the provider's window. Not retried as
  is: the engine splits the chunk. langchain-core's ``ContextOverflowError`` says so
  (OpenAI and Anthropic raise it); llama.cpp's plain ``ValueError`` is mapped to it by
  :mod:`pipeline.models.llamacpp`; other providers are recognised by their message, last.
- **transient**: rate limits, timeouts, lost connections, 5xx. Retried with exponential
  backoff and jitter, honouring ``Retry-After``. Decided by langchain-core's
  ``ModelError.is_retryable`` first, then the HTTP status, then the exception type
  (``TimeoutError``, ``ConnectionError``, httpx transport errors, and the SDKs' own
  connection and timeout errors: ``openai.APIConnectionError`` and
  ``anthropic.APIConnectionError``, raised directly by models built on the SDK without
  langchain's mapping). The exception's cause chain is walked: a wrapper around one of
  these is transient too.
- **anything else** from the model: raised as :class:`~pipeline.errors.ModelCallError`
  (the engine records a failed call and goes on).

Example:
    .. code-block:: python

        message = call_with_retries(lambda: model.invoke(messages), max_retries=3,
                                    describe="main call for Day 1 to Day 8")
"""

from __future__ import annotations

import email.utils
import logging
import random
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from langchain_core.exceptions import ContextOverflowError
from langchain_core.exceptions import ModelError as ProviderModelError

from pipeline.errors import ModelCallError

logger = logging.getLogger("reelcal")

T = TypeVar("T")

#: Seconds before the first retry; doubles each retry, plus up to 25% jitter.
RETRY_BASE_DELAY = 1.0
#: The longest wait between two attempts, whatever Retry-After asks for.
RETRY_MAX_DELAY = 60.0

TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
# Last resort, for providers that do not map their overflow error to a type.
_OVERFLOW_PHRASES = (
    "context_length_exceeded",
    "maximum context length",
    "context window",
    "prompt is too long",
    "exceed context window",
    "exceeds the context",
    "too many tokens",
)


def _transport_errors() -> tuple[type[BaseException], ...]:
    kinds: list[type[BaseException]] = [TimeoutError, ConnectionError]
    try:
        import httpx

        kinds.append(httpx.TransportError)  # timeouts, refused/dropped connections
    except ImportError:  # pragma: no cover - httpx comes with langchain-openai
        pass
    return tuple(kinds)


TRANSPORT_ERRORS = _transport_errors()
#: SDKs whose own connection error (their timeout errors subclass it) a model built on
#: the SDK without langchain's mapping raises as it is.
SDK_CONNECTION_ERRORS = ("openai", "anthropic")


def _sdk_connection_errors() -> tuple[type[BaseException], ...]:
    """The SDKs' ``APIConnectionError`` types, of the SDKs already imported (an exception
    of an SDK that was never imported cannot have been raised; importing one here would
    cost every run its import time)."""
    kinds = []
    for name in SDK_CONNECTION_ERRORS:
        kind = getattr(sys.modules.get(name), "APIConnectionError", None)
        if isinstance(kind, type) and issubclass(kind, BaseException):
            kinds.append(kind)
    return tuple(kinds)


def status_code(exc: BaseException) -> int | None:
    """The HTTP status a provider error carries (openai, anthropic, httpx), if any."""
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def is_context_overflow(exc: BaseException) -> bool:
    if isinstance(exc, ContextOverflowError):
        return True
    if isinstance(exc, ProviderModelError):
        return False  # typed, and typed as something else
    text = str(exc).lower()
    return any(phrase in text for phrase in _OVERFLOW_PHRASES)


#: How deep :func:`is_transient` follows ``__cause__`` / ``__context__``.
MAX_CAUSE_DEPTH = 8


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from (``__cause__``, else
    ``__context__``), nearest first, without loops."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < MAX_CAUSE_DEPTH:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _transient_itself(exc: BaseException) -> bool | None:
    """What ``exc`` alone says: True or False when it is typed or carries a status, else
    None (it does not know)."""
    if isinstance(exc, ProviderModelError):
        return bool(exc.is_retryable)
    status = status_code(exc)
    if status is not None:
        return status in TRANSIENT_STATUS
    if isinstance(exc, TRANSPORT_ERRORS + _sdk_connection_errors()):
        return True
    return None


def is_transient(exc: BaseException) -> bool:
    """Worth sending again unchanged: rate limits, timeouts, connection errors, 5xx; the
    first exception of the cause chain that knows decides (a wrapper around a dropped
    connection is transient, a wrapper around a 400 is not)."""
    for link in causes(exc):
        verdict = _transient_itself(link)
        if verdict is not None:
            return verdict
    return False


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked to wait (``Retry-After``: seconds or an HTTP date)."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def retry_delay(exc: BaseException, attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): Retry-After when the provider
    gives it, else ``RETRY_BASE_DELAY * 2**attempt`` plus up to 25% jitter; at most
    ``RETRY_MAX_DELAY``."""
    asked = retry_after(exc)
    if asked is not None:
        return min(asked, RETRY_MAX_DELAY)
    delay = RETRY_BASE_DELAY * 2**attempt
    return min(delay + random.uniform(0, delay / 4), RETRY_MAX_DELAY)


def call_with_retries(
    call: Callable[[], T],
    *,
    max_retries: int,
    describe: str,
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """Run ``call``; retry transient errors up to ``max_retries`` times (after the first
    attempt).

    Raises:
        ContextOverflowError: the request does not fit (never retried as is).
        ModelCallError: any other failure, or a transient one that outlived the retries;
            the original exception is its ``__cause__``.
    """
    attempt = 0
    while True:
        try:
            return call()
        except Exception as exc:  # sorted below; nothing is retried unless transient
            if is_context_overflow(exc):
                if isinstance(exc, ContextOverflowError):
                    raise
                raise ContextOverflowError(str(exc)) from exc
            if not is_transient(exc) or attempt >= max_retries:
                tries = f" after {attempt + 1} attempts" if attempt else ""
                raise ModelCallError(f"{type(exc).__name__}{tries}: {exc}"[:400]) from exc
            delay = retry_delay(exc, attempt)
            logger.warning(
                "%s failed (%s); retry %d of %d in %.1fs",
                describe,
                type(exc).__name__,
                attempt + 1,
                max_retries,
                delay,
            )
            sleep(delay)
            attempt += 1
