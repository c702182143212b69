"""Shared test setup: no provider keys leak in from the developer's environment."""

from __future__ import annotations

import pytest
from hypothesis import settings

# Hypothesis's 200 ms per-example deadline is a timing assertion; on a shared 2-core
# machine it fails at random. Speed is measured in benchmarks/, not asserted here.
settings.register_profile("reelcal", deadline=None)
settings.load_profile("reelcal")

PROVIDER_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "OPENAI_BASE_URL",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    for var in PROVIDER_VARS:
        monkeypatch.delenv(var, raising=False)
    import os

    for var in list(os.environ):
        if var.startswith("REELCAL_"):
            monkeypatch.delenv(var, raising=False)
    # Settings.load() reads ./reelcal.yaml when present: run each test from an empty dir
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
