"""The bundled index with the real local embeddings: it loads, verifies, and follows the trends."""

from __future__ import annotations

from collections import Counter

import pytest

from pipeline.config import Settings
from pipeline.knowledge.index import bundled_store_dir, load_vectorstore
from pipeline.knowledge.retriever import MentorRetriever
from pipeline.knowledge.store import read_manifest

pytestmark = pytest.mark.integration
pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="module")
def vectorstore():
    return load_vectorstore(Settings(embeddings="local:all-MiniLM-L6-v2", vectorstore=None))


def _dominant(retriever: MentorRetriever, trends: list[str]) -> tuple[str, Counter[str]]:
    creators = Counter(d.metadata["creator"] for d in retriever.invoke({"trends": trends}))
    return creators.most_common(1)[0][0], creators


def test_bundled_index_is_built_with_the_local_model():
    manifest = read_manifest(bundled_store_dir())
    assert manifest["embeddings"] == "local:all-MiniLM-L6-v2" and manifest["dimension"] == 384
    assert manifest["counts"]["creators"] >= 2


def test_trends_pull_different_creators(vectorstore):
    assert len({d.metadata["creator"] for d in vectorstore.documents}) >= 2
    retriever = MentorRetriever(vectorstore=vectorstore, k=4, per_creator_limit=5)
    agents, agents_counts = _dominant(retriever, ["AI agents"])
    meals, meals_counts = _dominant(retriever, ["meal prep"])
    assert agents != meals, (agents_counts, meals_counts)
    assert agents == "ai.toolsmith" and meals == "15minkitchen"


def test_settings_path_with_niche_and_hybrid(vectorstore):
    for hybrid in (False, True):
        settings = Settings(niche="personal finance", hybrid=hybrid)
        docs = MentorRetriever.from_settings(settings, vectorstore=vectorstore).invoke(
            {"trends": ["budgeting"]}
        )
        assert (
            docs
            and Counter(d.metadata["creator"] for d in docs).most_common(1)[0][0]
            == "centsible.sara"
        )
        assert all(-1.0 <= d.metadata["similarity"] <= 1.0 for d in docs)


def test_text_queries_find_what_the_langchain_community_version_found():
    """tests/unit/data/legacy/minilm.json was recorded by reelcal 09c1da9 (its store was
    langchain-community's FAISS) with the same model and index."""
    import importlib.util
    import json
    from pathlib import Path

    legacy = Path(__file__).parents[1] / "unit" / "data" / "legacy"
    spec = importlib.util.spec_from_file_location("legacy_record", legacy / "record.py")
    record = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(record)
    then = json.loads((legacy / "minilm.json").read_text(encoding="utf-8"))
    now = record.minilm_answers()
    assert now["retriever"] == then["retriever"]
    for query, hits in then["similarity"].items():
        assert [h[0] for h in now["similarity"][query]] == [h[0] for h in hits], query
        assert [h[1] for h in now["similarity"][query]] == pytest.approx(
            [h[1] for h in hits], abs=1e-4
        )
