"""One shared rate limiter per provider and key (requests_per_second)."""

from __future__ import annotations

from langchain_core.rate_limiters import InMemoryRateLimiter
from langchain_openai import ChatOpenAI
from scripted import FIXED_RETRIEVER, SCRIPTED_SCRIPT_WORDS, ScriptedChatModel, rows_for

from pipeline.config import Settings
from pipeline.generation.chains import generate_calendar
from pipeline.models.ratelimits import account_of, rate_limiter_for, with_rate_limit


def _openai(key: str, base_url: str | None = None) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o", api_key=key, base_url=base_url)


def test_one_limiter_per_account():
    first = rate_limiter_for(_openai("sk-a"), 5)
    assert rate_limiter_for(_openai("sk-a"), 5) is first  # another model object, same key
    assert rate_limiter_for(_openai("sk-b"), 5) is not first
    assert rate_limiter_for(_openai("sk-a", "http://127.0.0.1:9/v1"), 5) is not first


def test_the_account_holds_a_fingerprint_never_the_key():
    provider, server, fingerprint = account_of(_openai("sk-secret-value"))
    assert provider == "openai-chat" and len(fingerprint) == 12
    assert "sk-secret-value" not in (provider + server + fingerprint)


def test_without_the_setting_the_model_is_untouched():
    model = _openai("sk-a")
    assert with_rate_limit(model, Settings()) is model
    limited = with_rate_limit(model, Settings(requests_per_second=3))
    assert isinstance(limited.rate_limiter, InMemoryRateLimiter) and model.rate_limiter is None


def test_every_call_of_a_run_goes_through_the_limiter(tmp_path, monkeypatch):
    acquired = []
    original = InMemoryRateLimiter.acquire

    def counting(self, *, blocking: bool = True) -> bool:
        acquired.append(self)
        return original(self, blocking=blocking)

    monkeypatch.setattr(InMemoryRateLimiter, "acquire", counting)
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    settings = Settings(
        output_dir=tmp_path,
        context_window=16_385,
        max_output_tokens=4096,
        requests_per_second=50,
        speed="fast",
        script_words=SCRIPTED_SCRIPT_WORDS,
    )
    cal = generate_calendar(
        "2026-02",
        ["AI agents"],
        "AI tools",
        model=model,
        settings=settings,
        retriever=FIXED_RETRIEVER,
    )
    assert cal.is_complete and len(acquired) == len(cal.usage) > 1
    assert len({id(limiter) for limiter in acquired}) == 1
