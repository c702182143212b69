"""Unit tests run with sockets disabled (see the Makefile's test command)."""

import pytest


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries without waiting (modules that drive retry loops mark themselves with it)."""
    from pipeline.generation import failures

    monkeypatch.setattr(failures, "RETRY_BASE_DELAY", 0.0)
