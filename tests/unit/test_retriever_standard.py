"""The mentor retriever passes langchain-tests' standard retriever tests (offline: a
small FaissStore with deterministic keyword embeddings)."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests
from pydantic import ValidationError
from test_retrieval import KeywordEmbeddings

from pipeline.knowledge.retriever import MentorRetriever
from pipeline.knowledge.vectorstore import FaissStore


def _store():
    texts = [
        f"Hook number {i}: open with a question about agents and tools {i}." for i in range(12)
    ]
    return FaissStore.from_texts(
        texts,
        KeywordEmbeddings(),
        metadatas=[{"creator": f"creator{i % 4}", "source_id": f"reel-{i}"} for i in range(12)],
        ids=[f"id-{i}" for i in range(12)],
    )


class TestMentorRetrieverStandard(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[MentorRetriever]:
        return MentorRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"vectorstore": _store(), "per_creator_limit": 50}

    @property
    def retriever_query_example(self) -> str:
        return "a question about agents"


def test_the_calendar_mapping_still_works_and_is_traced_as_one_query():
    retriever = MentorRetriever(vectorstore=_store(), k=2, per_creator_limit=50)
    docs = retriever.invoke({"trends": ["agents", "tools"], "niche": "hooks"})
    assert docs and all(isinstance(d, Document) for d in docs)
    assert {d.metadata["query"] for d in docs} <= {"agents", "tools", "hooks"}
    with pytest.raises(ValidationError):
        MentorRetriever(vectorstore=_store(), k=0)
