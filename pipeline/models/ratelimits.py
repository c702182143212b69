"""One rate limiter per provider and API key, shared by every run in the process.

``requests_per_second`` (a setting; off when unset) caps how fast requests leave for one
account, however many chunks, runs or batch jobs send them: the limiter is looked up in
one registry by (provider, server, key fingerprint), so two runs on the same key share it
and a different key gets its own. Limiters are langchain-core's ``InMemoryRateLimiter``
(a token bucket), set on a copy of the chat model (its ``rate_limiter`` field), so the
caller's model object is left as it is.

Example:
    .. code-block:: python

        model = with_rate_limit(load_chat_model("openai:gpt-4o"), Settings(requests_per_second=2))
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.rate_limiters import InMemoryRateLimiter

from pipeline.config import Settings

_REGISTRY: dict[tuple[str, str, str, float], InMemoryRateLimiter] = {}
_LOCK = threading.Lock()

#: Attributes that hold a chat model's API key and server, across partner packages.
_KEY_FIELDS = ("openai_api_key", "anthropic_api_key", "api_key", "google_api_key")
_SERVER_FIELDS = ("openai_api_base", "anthropic_api_url", "base_url")


def account_of(model: Any) -> tuple[str, str, str]:
    """(provider, server, key fingerprint) of a chat model: who the requests count
    against. The fingerprint is 12 hex digits of the key's SHA-256, never the key."""
    provider = str(getattr(model, "_llm_type", type(model).__name__))
    server = next((str(v) for f in _SERVER_FIELDS if (v := getattr(model, f, None))), "")
    key = next((v for f in _KEY_FIELDS if (v := getattr(model, f, None))), "")
    secret = key.get_secret_value() if hasattr(key, "get_secret_value") else str(key)
    fingerprint = hashlib.sha256(secret.encode()).hexdigest()[:12] if secret else ""
    return provider, server, fingerprint


def rate_limiter_for(model: Any, requests_per_second: float) -> InMemoryRateLimiter:
    """The shared limiter of ``model``'s account at ``requests_per_second``."""
    key = (*account_of(model), requests_per_second)
    with _LOCK:
        limiter = _REGISTRY.get(key)
        if limiter is None:
            limiter = InMemoryRateLimiter(
                requests_per_second=requests_per_second,
                check_every_n_seconds=min(0.1, 1 / requests_per_second / 4),
                max_bucket_size=max(1.0, requests_per_second),
            )
            _REGISTRY[key] = limiter
        return limiter


def with_rate_limit(model: BaseChatModel, settings: Settings) -> BaseChatModel:
    """A copy of ``model`` whose requests go through its account's shared limiter; the
    model itself when ``requests_per_second`` is unset."""
    if settings.requests_per_second is None:
        return model
    limiter = rate_limiter_for(model, settings.requests_per_second)
    return model.model_copy(update={"rate_limiter": limiter})
