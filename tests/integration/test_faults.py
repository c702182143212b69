"""Faults between reelcal and an OpenAI-compatible server, survived or ended resumably.

A fast scripted server (answers at once with the requested days) sits behind a proxy
that injects faults in order: 429 with Retry-After, 500, a dropped connection, a reply
slower than ``request_timeout``, a truncated body. reelcal talks to the proxy through
``ChatOpenAI`` with ``base_url``, as a user would. Checked: the month completes, the
Retry-After is honoured, no finished day is lost and no day whose reply arrived whole
is asked for again; after too many faults the run ends as ``IncompleteCalendarError``
with every finished day saved, and a resume completes it.
"""

from __future__ import annotations

import pytest
from loopback import FaultProxy, ScriptedOpenAIServer, asked_after, delivered_days
from scripted import FIXED_RETRIEVER, SCRIPTED_SCRIPT_WORDS

from pipeline.calendar import Calendar
from pipeline.config import Settings
from pipeline.errors import IncompleteCalendarError
from pipeline.generation.chains import generate_calendar
from pipeline.models import failures

pytestmark = pytest.mark.integration

REQUEST_TIMEOUT = 1.0


@pytest.fixture
def server():
    scripted = ScriptedOpenAIServer()
    yield scripted
    scripted.close()


@pytest.fixture(autouse=True)
def _short_backoff(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-faults")
    monkeypatch.setattr(failures, "RETRY_BASE_DELAY", 0.05)  # Retry-After still applies


def _settings(tmp_path, proxy: FaultProxy, **overrides) -> Settings:
    base = {
        "model": "openai:scripted-server",
        "base_url": proxy.url,
        "context_window": 16_385,
        "max_output_tokens": 4096,
        "request_timeout": REQUEST_TIMEOUT,
        "max_retries": 3,
        "max_concurrency": 2,
        "output_dir": tmp_path,
        "script_words": SCRIPTED_SCRIPT_WORDS,
    }
    return Settings(**{**base, **overrides})


def _generate(tmp_path, proxy: FaultProxy, **kwargs) -> Calendar:
    return generate_calendar(
        "2026-03",
        ["AI agents"],
        "AI tools",
        settings=_settings(tmp_path, proxy),
        retriever=FIXED_RETRIEVER,
        **kwargs,
    )


def test_the_month_completes_through_every_kind_of_fault(tmp_path, server):
    schedule = ["429", "ok", "500", "drop", "slow", "truncated", "429", "500"]
    proxy = FaultProxy(server.url, schedule=list(schedule), slow_seconds=REQUEST_TIMEOUT + 1.5)
    try:
        calendar = _generate(tmp_path, proxy)
    finally:
        proxy.close()
    assert calendar.is_complete
    assert set(proxy.faults_met()) == {"ok", "429", "500", "drop", "slow", "truncated"}
    days = delivered_days(proxy.exchanges)
    assert len(days) == len(set(days)) == 31, "a day whose reply arrived was asked again"
    gaps = asked_after(proxy.exchanges, "429")
    assert gaps and min(gaps) >= proxy.retry_after - 0.05, gaps  # Retry-After honoured
    assert sum(u.input_tokens or 0 for u in calendar.usage) > 0


def test_too_many_faults_end_resumable_with_every_finished_day_saved(tmp_path, server):
    # the outline call, then one writing call, then nothing but errors
    proxy = FaultProxy(server.url, schedule=["ok", "ok"], then="500")
    try:
        with pytest.raises(IncompleteCalendarError) as raised:
            _generate(tmp_path, proxy, run_id="faulty-run")
    finally:
        proxy.close()
    error = raised.value
    saved = Calendar.from_json(error.saved_to)
    first = delivered_days(proxy.exchanges)
    assert first and sorted(p.day for p in saved.days) == sorted(first)
    assert error.run_id == "faulty-run" and set(error.missing_days).isdisjoint(first)
    assert {e.fault for e in proxy.exchanges[2:]} == {"500"}

    healthy = FaultProxy(server.url)
    try:
        calendar = _generate(tmp_path, healthy, run_id="faulty-run")
    finally:
        healthy.close()
    assert calendar.is_complete
    assert not any(e.outline for e in healthy.exchanges)  # the outline was saved, not redone
    asked_again = {day for e in healthy.exchanges for day in e.days}
    assert asked_again.isdisjoint(first), "a saved day was asked for again"
    assert asked_again == set(error.missing_days)
