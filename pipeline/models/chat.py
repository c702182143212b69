"""Model keys -> LangChain models, their limits and their token counters.

One string picks a model: ``llamacpp:smollm2`` (the bundled SmolLM2-135M GGUF, the
default), ``llamacpp:/path/to/model.gguf``, or any ``provider:model`` that
``langchain.chat_models.init_chat_model`` knows (``openai:gpt-4o``,
``anthropic:claude-...``, ``ollama:llama3.1``). ``openai:`` keys with ``base_url``
set talk to an OpenAI-compatible server. Embeddings keys are
:mod:`pipeline.knowledge.embeddings`.

Example:
    .. code-block:: python

        model = load_chat_model("openai:gpt-4o", Settings())
        limits = model_limits(model, Settings())      # ModelLimits(128000, 16384, "profile")
        counter = token_counter_for(model)           # tiktoken:o200k_base
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.errors import (
    MissingAPIKeyError,
    MissingDependencyError,
    ModelLimitsError,
    ModelSetupError,
)
from pipeline.models.cache import ResponseCache
from pipeline.models.local import (
    load_local_model,
    local_model_path,
    require_llama_cpp,
)
from pipeline.models.tokens import (
    TokenCounter,
    estimate_counter,
    llama_counter,
    openai_counter,
)

if TYPE_CHECKING:  # pragma: no cover
    from langchain_core.language_models import BaseChatModel


#: Providers whose chat model takes ``timeout`` (seconds per request).
TIMEOUT_PROVIDERS = frozenset({"openai", "azure_openai", "anthropic"})
# provider -> (python module, pip package, API key variable or None)
PROVIDERS: dict[str, tuple[str, str, str | None]] = {
    "openai": ("langchain_openai", "langchain-openai", "OPENAI_API_KEY"),
    "azure_openai": ("langchain_openai", "langchain-openai", "AZURE_OPENAI_API_KEY"),
    "anthropic": ("langchain_anthropic", "langchain-anthropic", "ANTHROPIC_API_KEY"),
    "ollama": ("langchain_ollama", "langchain-ollama", None),
    "google_genai": ("langchain_google_genai", "langchain-google-genai", "GOOGLE_API_KEY"),
    "mistralai": ("langchain_mistralai", "langchain-mistralai", "MISTRAL_API_KEY"),
    "groq": ("langchain_groq", "langchain-groq", "GROQ_API_KEY"),
    "fireworks": ("langchain_fireworks", "langchain-fireworks", "FIREWORKS_API_KEY"),
    "together": ("langchain_together", "langchain-together", "TOGETHER_API_KEY"),
    "deepseek": ("langchain_deepseek", "langchain-deepseek", "DEEPSEEK_API_KEY"),
    "xai": ("langchain_xai", "langchain-xai", "XAI_API_KEY"),
    "huggingface": ("langchain_huggingface", "langchain-huggingface", "HUGGINGFACEHUB_API_TOKEN"),
}


@dataclass(frozen=True)
class ModelLimits:
    """A model's context window and output cap, and where they came from."""

    context_window: int
    max_output_tokens: int
    source: str  # "settings", "profile", "gguf" or a mix such as "profile+settings"
    reasoning: bool = False  # the profile says the model spends hidden reasoning tokens


def split_key(key: str) -> tuple[str, str]:
    """``"openai:gpt-4o"`` -> ``("openai", "gpt-4o")``; a clear error for other shapes."""
    provider, sep, name = key.partition(":")
    provider = provider.strip().lower()
    name = name.strip()
    if not sep or not provider or not name:
        raise ModelSetupError(
            f"Model key {key!r} is not 'provider:model': use e.g. 'llamacpp:smollm2', "
            f"'openai:gpt-4o' or 'ollama:llama3.1'."
        )
    return provider, name


# --------------------------------------------------------------------- local model
def check_model_key(key: str, settings: Settings) -> None:
    """Raise now, before a run starts, what loading ``key`` would raise: a malformed key,
    an unknown provider, a missing package, API key or GGUF file. A hosted model is
    built (no request is sent); a local one is only found, not loaded."""
    provider, name = split_key(key)
    if provider in ("llamacpp", "local"):
        local_model_path(name)
        require_llama_cpp()
    else:
        load_chat_model(key, settings)


def check_provider(provider: str, settings: Settings, *, api_key: str | None = None) -> None:
    if provider not in PROVIDERS:
        return  # init_chat_model decides and explains
    module, package, key_var = PROVIDERS[provider]
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(
            f"Model provider {provider!r} needs the package {package}: run pip install {package}."
        )
    if (
        key_var
        and not api_key
        and not os.environ.get(key_var)
        and not (provider == "openai" and settings.base_url)
    ):
        raise MissingAPIKeyError(
            f"No API key for {provider!r}: set the {key_var} environment variable "
            f"(or use the offline default model 'llamacpp:smollm2')."
        )


def load_chat_model(
    key: str, settings: Settings | None = None, *, api_key: str | None = None
) -> BaseChatModel:
    """Turn a model key into a LangChain chat model.

    ``api_key`` is for building a model that is never called (``reelcal plan``); keys
    for real calls come from the provider's environment variable.

    Raises:
        ModelSetupError: a malformed key, an unknown provider or a missing GGUF file.
        MissingDependencyError: the provider's package is not installed.
        MissingAPIKeyError: a hosted model whose API key is not set.
    """
    settings = settings or Settings()
    provider, name = split_key(key)
    if provider in ("llamacpp", "local"):
        return load_local_model(name, settings)
    check_provider(provider, settings, api_key=api_key)
    from langchain.chat_models import init_chat_model

    # reelcal retries itself (pipeline.models.failures): the client's own retries are off
    kwargs: dict[str, Any] = {"temperature": settings.temperature, "max_retries": 0}
    if provider in TIMEOUT_PROVIDERS:
        kwargs["timeout"] = settings.request_timeout
    if api_key:
        kwargs["api_key"] = api_key
    if provider == "openai" and settings.base_url:
        kwargs["base_url"] = settings.base_url
        kwargs.setdefault("api_key", os.environ.get("OPENAI_API_KEY") or "not-needed")
    if provider == "ollama" and settings.context_window:
        kwargs["num_ctx"] = settings.context_window  # else Ollama truncates to its default
    try:
        model = init_chat_model(name, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise MissingDependencyError(
            f"Model provider {provider!r} needs a package that is missing ({exc}): "
            f"pip install langchain-{provider.replace('_', '-')}."
        ) from None
    except ValueError as exc:
        raise ModelSetupError(f"Cannot load model {key!r}: {exc}".replace("\n", " ")) from None
    return with_reasoning_effort(model, settings)


def with_response_cache(model: BaseChatModel, settings: Settings) -> BaseChatModel:
    """A copy of ``model`` that answers identical requests from ``settings.cache`` (a
    SQLite file of JSON rows, never pickles: :mod:`pipeline.models.cache`). The copy
    keeps the caller's model untouched; without ``cache`` the model is returned as is.

    Raises:
        CacheFileError: the file is not a response cache this reelcal reads.
    """
    if settings.cache is None:
        return model
    cache = ResponseCache(Path(settings.cache).expanduser().resolve())
    return model.model_copy(update={"cache": cache})


def is_cached_reply(message: Any) -> bool:
    """Whether a reply came from the response cache: langchain-core marks a cache hit by
    setting ``usage_metadata["total_cost"]`` to 0 (providers do not report that key)."""
    usage = getattr(message, "usage_metadata", None) or {}
    return usage.get("total_cost") == 0


def with_reasoning_effort(model: BaseChatModel, settings: Settings) -> BaseChatModel:
    """``model`` with ``settings.reasoning_effort`` when it is a reasoning model whose class
    takes the option (ChatOpenAI's ``reasoning_effort``); otherwise ``model`` itself."""
    profile = getattr(model, "profile", None) or {}
    fields = getattr(type(model), "model_fields", {})
    if (
        settings.reasoning_effort
        and profile.get("reasoning_output")
        and "reasoning_effort" in fields
    ):
        return model.model_copy(update={"reasoning_effort": settings.reasoning_effort})
    return model


# --------------------------------------------------------------------- introspection
def model_label(model: Any) -> str:
    """A short name for a model object: ``openai:gpt-4o``, ``llamacpp:SmolLM2-...``."""
    path = getattr(model, "model_path", None)
    if path:
        return f"llamacpp:{Path(path).stem}"
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    provider = _provider_of(model)
    if isinstance(name, str) and name:
        return f"{provider}:{name}" if provider else name
    return type(model).__name__


def _provider_of(model: Any) -> str:
    module = type(model).__module__
    for provider, (package_module, _, _) in PROVIDERS.items():
        if module.startswith(package_module):
            return provider
    return ""


def model_limits(model: Any, settings: Settings | None = None) -> ModelLimits:
    """Context window and output cap of ``model``.

    Settings ``context_window`` / ``max_output_tokens`` override, then the model's
    ``profile`` (``max_input_tokens``, ``max_output_tokens``), then, for a local GGUF,
    its loaded context (which also caps its output).

    Raises:
        ModelLimitsError: neither is known; the message names the two settings.
    """
    settings = settings or Settings()
    profile = getattr(model, "profile", None) or {}
    window, cap, sources = settings.context_window, settings.max_output_tokens, set()
    if window or cap:
        sources.add("settings")
    if window is None and profile.get("max_input_tokens"):
        window = int(profile["max_input_tokens"])
        sources.add("profile")
    if cap is None and profile.get("max_output_tokens"):
        cap = int(profile["max_output_tokens"])
        sources.add("profile")
    client = getattr(model, "client", None)
    if client is not None and hasattr(client, "n_ctx") and getattr(model, "model_path", None):
        loaded = int(client.n_ctx())
        window = min(window, loaded) if window else loaded
        cap = cap or window
        sources.add("gguf")
    if not window or not cap:
        raise ModelLimitsError(
            f"The limits of model {model_label(model)!r} are unknown: set context_window "
            f"and max_output_tokens (in reelcal.yaml, REELCAL_CONTEXT_WINDOW / "
            f"REELCAL_MAX_OUTPUT_TOKENS, or Settings(context_window=..., max_output_tokens=...))."
        )
    return ModelLimits(
        int(window),
        int(min(cap, window)),
        "+".join(sorted(sources)),
        reasoning=bool(profile.get("reasoning_output")),
    )


def token_counter_for(model: Any) -> TokenCounter:
    """The model's own tokenizer where reelcal can load it, else the cl100k estimate.

    A model object may bring its own counter as a ``reelcal_token_counter`` attribute.
    """
    own = getattr(model, "reelcal_token_counter", None)
    if isinstance(own, TokenCounter):
        return own
    path = getattr(model, "model_path", None)
    client = getattr(model, "client", None)
    if path and client is not None and hasattr(client, "tokenize"):
        return llama_counter(client, label=f"llama.cpp:{Path(path).stem}")
    if _provider_of(model) in ("openai", "azure_openai") and not getattr(
        model, "openai_api_base", None
    ):
        name = getattr(model, "model_name", None) or "gpt-4o"
        return openai_counter(name)
    return estimate_counter()
