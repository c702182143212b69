"""The response cache passes langchain-tests' standard cache suites (sync and async), each
test on an empty SQLite file of its own."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests.cache import AsyncCacheTestSuite, SyncCacheTestSuite

from pipeline.models.cache import ResponseCache


class TestResponseCacheSync(SyncCacheTestSuite):
    @pytest.fixture
    def cache(self, tmp_path) -> ResponseCache:
        return ResponseCache(tmp_path / "responses.sqlite")


class TestResponseCacheAsync(AsyncCacheTestSuite):
    @pytest.fixture
    async def cache(self, tmp_path) -> ResponseCache:
        return ResponseCache(tmp_path / "responses.sqlite")
