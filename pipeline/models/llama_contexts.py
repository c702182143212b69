"""llama.cpp contexts: a GGUF loaded into ``llama_cpp.Llama`` once per process for each
set of load settings, each with the lock that gives it one request at a time, and the
context length a GGUF's header records. :mod:`pipeline.models.llamacpp`'s chat model
loads through here on its first call.

Example:
    .. code-block:: python

        context = loaded_context(LoadSettings("model.gguf", 4096, 1, 2, 512))
        with context.lock:
            context.llama.create_chat_completion(messages=[...])
        gguf_context_length(Path("model.gguf"))        # 8192, read from the header
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pipeline.errors import MissingDependencyError, ModelLimitsError, ModelSetupError

INSTALL_HINT = "run pip install 'reelcal[local]' (or make demo)"


@lru_cache(maxsize=8)
def gguf_context_length(path: Path) -> int:
    """The context length a GGUF was trained with, read from its header with the
    ``gguf`` package (loading even a vocab-only llama.cpp context prints warnings)."""
    try:
        from gguf import GGUFReader
    except ImportError:
        raise MissingDependencyError(f"Reading a GGUF header needs gguf: {INSTALL_HINT}.") from None
    try:
        fields = GGUFReader(str(path)).fields
    except (OSError, ValueError) as exc:
        raise ModelSetupError(f"Cannot read the GGUF file {str(path)!r}: {exc}") from None
    arch_field = fields.get("general.architecture")
    arch = arch_field.contents() if arch_field is not None else "llama"
    value_field = fields.get(f"{arch}.context_length")
    value = value_field.contents() if value_field is not None else None
    if not value:
        raise ModelLimitsError(
            f"{path.name} does not record its context length: set context_window "
            f"(or give LlamaCppChatModel n_ctx)."
        )
    return int(value)


@dataclass(frozen=True)
class LoadSettings:
    """What a llama.cpp context is loaded with; equal settings share one context."""

    path: str
    n_ctx: int
    n_threads: int | None
    n_threads_batch: int | None
    n_batch: int


@dataclass
class LlamaContext:
    """A loaded ``llama_cpp.Llama`` and the lock that gives it one request at a time
    (its KV cache and sampler are state of the one context)."""

    llama: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


_CONTEXTS: dict[LoadSettings, LlamaContext] = {}
_LOADING = threading.Lock()


def loaded_context(settings: LoadSettings) -> LlamaContext:
    """The context of ``settings``, loaded on first use and kept for the process (freed at
    exit): copies of a model, and models built again with the same settings, share it."""
    with _LOADING:
        if settings not in _CONTEXTS:
            _CONTEXTS[settings] = LlamaContext(load_llama(settings))
        return _CONTEXTS[settings]


def load_llama(settings: LoadSettings) -> Any:
    """Load a GGUF into a new llama.cpp context (a :func:`counting_llama_class` one)."""
    # llama.cpp's OpenMP threads spin while they wait; when the cores are shared (a
    # notebook, a test run, another process) that spin makes decoding 5-10x slower.
    # Passive waiting costs little when the machine is idle. Must be set before
    # llama_cpp loads libgomp; a value the user set wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    llama_class = counting_llama_class()
    # RoPE settings are left to the GGUF's own (ChatLlamaCpp passed rope_freq_base=10000,
    # a tenth of SmolLM2's 100000: its perplexity on the mentor transcripts rose from 38
    # to 131 past 1,500 tokens).
    try:
        llama = llama_class(
            model_path=settings.path,
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            n_threads_batch=settings.n_threads_batch,
            n_batch=settings.n_batch,
            verbose=False,
        )
    except ValueError as exc:  # llama-cpp-python's "Failed to load model from file"
        raise ModelSetupError(f"llama.cpp cannot load {settings.path!r}: {exc}") from None
    # Free the context while the interpreter is still whole: left to __del__ at shutdown,
    # it prints "free_model ... 'NoneType' object is not callable".
    atexit.register(llama.close)
    return llama


@cache
def counting_llama_class() -> type:
    """``llama_cpp.Llama`` that counts the tokens of its last generation.

    llama-cpp-python reports ``usage`` on whole replies only; a stream carries none. Its
    ``generate`` receives the whole prompt and yields every sampled token, and a reply
    keeps each token but an end-of-generation one, so counting here gives the numbers
    llama.cpp reports for the same reply unstreamed.
    """
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependencyError(
            f"Local models need llama-cpp-python: {INSTALL_HINT}."
        ) from None

    class CountingLlama(llama_cpp.Llama):
        last_usage: tuple[int, int] = (0, 0)  # (prompt tokens, completion tokens)

        def generate(self, tokens: Any, *args: Any, **kwargs: Any) -> Iterator[int]:
            vocab = llama_cpp.llama_model_get_vocab(self.model)
            prompt, completion = len(tokens), 0
            self.last_usage = (prompt, 0)
            # llama-cpp-python's completion loop only iterates (it never sends tokens in)
            for token in super().generate(tokens, *args, **kwargs):
                if not llama_cpp.llama_vocab_is_eog(vocab, token):
                    completion += 1
                    self.last_usage = (prompt, completion)
                yield token

    return CountingLlama
