"""Unit tests run with sockets disabled (see the Makefile's test command)."""

import pytest


@pytest.fixture
def no_backoff(monkeypatch):
    """Retries without waiting (modules that drive retry loops mark themselves with it)."""
    from pipeline.models import failures

    monkeypatch.setattr(failures, "RETRY_BASE_DELAY", 0.0)


@pytest.fixture(autouse=True)
def _titles_by_hash_vectors(monkeypatch):
    """Titles are compared with hash vectors (the same text alike, any other not) instead of
    loading MiniLM (seconds, and hundreds of MB) in every test that writes a month. Tests
    of the comparison pass their own embeddings; the integration tests use the real
    model (tests/integration/test_outline_titles.py)."""
    from pipeline.generation.review import titles
    from pipeline.knowledge.embeddings import load_embeddings

    monkeypatch.setattr(titles, "title_embeddings", lambda settings: load_embeddings("fake:384"))
