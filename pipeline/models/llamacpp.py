"""reelcal's chat model over llama-cpp-python: :class:`LlamaCppChatModel`, a LangChain
``BaseChatModel`` that runs a GGUF file through ``llama_cpp.Llama``.

Owns a call to llama.cpp: chat completion and streaming, a grammar or JSON schema per
call, token usage and finish reasons, context overflow as langchain-core's
``ContextOverflowError``, and the model's ``profile`` (its window, from ``n_ctx`` or the
GGUF header). The GGUF loads on the first call, never at construction, into a context
of :mod:`pipeline.models.llama_contexts` (shared by models with equal load settings, one
request at a time). Which GGUF, how many threads and what reelcal sets by default live
in :mod:`pipeline.models.local`.

Example:
    .. code-block:: python

        model = LlamaCppChatModel(model_path="model.gguf", n_ctx=4096)   # nothing loaded
        schema = {"type": "object", "properties": {"day": {"type": "integer"}}}
        reply = model.bind(max_tokens=200,
                           response_format={"type": "json_object", "schema": schema}
                           ).invoke("Day 4 as JSON")                    # loads, then calls
        reply.usage_metadata, reply.response_metadata["finish_reason"]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.exceptions import ContextOverflowError
from langchain_core.language_models import BaseChatModel, LangSmithParams, ModelProfile
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    UsageMetadata,
    convert_to_openai_messages,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from pipeline.errors import ModelLimitsError
from pipeline.models.llama_contexts import (
    LlamaContext,
    LoadSettings,
    gguf_context_length,
    loaded_context,
)

#: A GGUF gets at most this context when ``n_ctx`` is not given (the KV cache of a
#: 128k context would need many GB).
DEFAULT_CONTEXT_CAP = 8192
#: How llama-cpp-python words a prompt that does not fit its context (a plain ValueError).
LLAMA_OVERFLOW = re.compile(r"exceed(s)? context window", re.IGNORECASE)


@contextmanager
def overflow_as_context_error() -> Iterator[None]:
    """llama.cpp says "Requested tokens (N) exceed context window of M" with a plain
    ValueError; raise it as the type hosted providers use."""
    try:
        yield
    except ValueError as exc:
        if LLAMA_OVERFLOW.search(str(exc)):
            raise ContextOverflowError(str(exc)) from exc
        raise


# ------------------------------------------------------------------ the chat model
class LlamaCppChatModel(BaseChatModel):
    """A GGUF model through llama.cpp, loaded on first use.

    Per call (``invoke(..., **kw)`` or ``bind``) it takes ``max_tokens``, ``stop``,
    ``temperature``, ``seed`` and the other sampling options of
    ``Llama.create_chat_completion``, plus ``response_format={"type": "json_object",
    "schema": {...}}`` (llama.cpp turns the JSON schema into a grammar) or ``grammar``
    (GBNF text or a ``LlamaGrammar``). ``client`` is the loaded ``llama_cpp.Llama``
    (reading it loads the GGUF).
    """

    model_config = ConfigDict(extra="forbid")

    model_path: str
    """The GGUF file."""
    n_ctx: int | None = Field(None, ge=16)
    """Context window. Unset: the GGUF's own, at most :data:`DEFAULT_CONTEXT_CAP`."""
    n_threads: int | None = Field(None, ge=1)
    """Threads that decode; None: llama.cpp's choice."""
    n_threads_batch: int | None = Field(None, ge=1)
    """Threads that read the prompt; None: llama.cpp's choice."""
    n_batch: int = Field(512, ge=1)
    """Prompt tokens evaluated per batch."""
    max_tokens: int | None = Field(256, ge=1)
    """Most tokens a reply may have; None: up to the end of the window."""
    temperature: float = Field(0.8, ge=0.0, le=2.0)
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    top_k: int = Field(40, ge=0)
    min_p: float = Field(0.05, ge=0.0, le=1.0)
    repeat_penalty: float = Field(1.1, ge=0.0)
    seed: int | None = None
    """Sampling seed; None: the next seed of the loaded context's own sequence."""
    stop: list[str] | None = None
    """Strings that end a reply."""
    streaming: bool = False
    """Stream ``invoke`` too (usage is counted either way)."""

    _context: LlamaContext | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _context_from_the_gguf(cls, data: Any) -> Any:
        """Unset ``n_ctx`` becomes the GGUF's trained context, capped: read from the file's
        header now, so the profile holds the window before anything is loaded."""
        if isinstance(data, dict) and data.get("n_ctx") is None and data.get("model_path"):
            trained = gguf_context_length(Path(data["model_path"]).expanduser())
            data = {**data, "n_ctx": min(trained, DEFAULT_CONTEXT_CAP)}
        return data

    def _resolve_model_profile(self) -> ModelProfile | None:
        # llama.cpp fits prompt and reply in one window: a reply may take all that the
        # prompt leaves (it cuts max_tokens to fit), so the output cap is the window too.
        return {
            "max_input_tokens": self.context_window,
            "max_output_tokens": self.context_window,
            "text_inputs": True,
            "text_outputs": True,
            "image_inputs": False,
            "audio_inputs": False,
            "video_inputs": False,
            "pdf_inputs": False,
            "tool_calling": False,
            "structured_output": False,
            "open_weights": True,
        }

    @property
    def context_window(self) -> int:
        """``n_ctx`` as loaded (set at construction when it was not given)."""
        if self.n_ctx is None:  # pragma: no cover - the validator sets it
            raise ModelLimitsError(f"{self.model_path}: n_ctx is unknown")
        return self.n_ctx

    @property
    def load_settings(self) -> LoadSettings:
        return LoadSettings(
            path=str(Path(self.model_path).expanduser().resolve()),
            n_ctx=self.context_window,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads_batch,
            n_batch=self.n_batch,
        )

    def loaded(self) -> LlamaContext:
        """The llama.cpp context, loaded on the first call."""
        if self._context is None:
            self._context = loaded_context(self.load_settings)
        return self._context

    @property
    def client(self) -> Any:
        """The loaded ``llama_cpp.Llama`` (its tokenizer counts reelcal's prompts)."""
        return self.loaded().llama

    @property
    def _llm_type(self) -> str:
        return "reelcal-llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, **self._sampling()}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="llamacpp",
            ls_model_name=kwargs.get("model") or self.model_name,
            ls_model_type="chat",
            ls_temperature=kwargs.get("temperature", self.temperature),
        )
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        if stop or self.stop:
            params["ls_stop"] = stop or self.stop
        return params

    @property
    def model_name(self) -> str:
        """The GGUF's file name without ``.gguf`` (as usage records and traces show it)."""
        return Path(self.model_path).stem

    # ------------------------------------------------------------------ calls
    def _sampling(self) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "min_p": self.min_p,
            "repeat_penalty": self.repeat_penalty,
            "seed": self.seed,
        }

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """The keyword arguments of ``create_chat_completion``: the model's options, then
        the call's (an unknown option fails there, as a TypeError naming it)."""
        kwargs = {k: v for k, v in kwargs.items() if k != "stream"}  # set by the caller
        grammar = kwargs.get("grammar")
        if grammar is not None and kwargs.get("response_format") is not None:
            raise ValueError("Give a call either grammar or response_format, not both.")
        if isinstance(grammar, str):
            from llama_cpp import LlamaGrammar

            kwargs["grammar"] = LlamaGrammar.from_string(grammar, verbose=False)
        return {
            **self._sampling(),
            "stop": stop or self.stop or [],
            **kwargs,
            "messages": convert_to_openai_messages(messages),
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request = self._request(messages, stop, kwargs)
        context = self.loaded()
        with context.lock, overflow_as_context_error():
            response = context.llama.create_chat_completion(**request)
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        metadata = self._metadata(choice.get("finish_reason"))
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata=usage_metadata(
                usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
            ),
            response_metadata=metadata,
        )
        generation = ChatGeneration(
            message=message, generation_info={"finish_reason": metadata["finish_reason"]}
        )
        return ChatResult(
            generations=[generation],
            llm_output={"token_usage": usage, "model_name": self.model_name},
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Token by token; the last chunk carries the finish reason and the usage."""
        request = self._request(messages, stop, kwargs)
        context = self.loaded()
        finish = None
        with context.lock, overflow_as_context_error():  # held until the stream ends
            for part in context.llama.create_chat_completion(**request, stream=True):
                choice = part["choices"][0]
                finish = choice.get("finish_reason") or finish
                text = (choice.get("delta") or {}).get("content")
                if text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
            prompt_tokens, completion_tokens = getattr(context.llama, "last_usage", (0, 0))
        metadata = self._metadata(finish)
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=usage_metadata(prompt_tokens, completion_tokens),
                response_metadata=metadata,
                chunk_position="last",
            ),
            generation_info={"finish_reason": finish},
        )

    def _metadata(self, finish_reason: str | None) -> dict[str, Any]:
        return {"model_name": self.model_name, "finish_reason": finish_reason}


def usage_metadata(input_tokens: int, output_tokens: int) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )
