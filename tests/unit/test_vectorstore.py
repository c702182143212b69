"""FaissStore: langchain-tests' standard vector-store suite (offline, with its
deterministic fake embeddings), then what reelcal adds: cosine scores and relevance,
filters, upserts and deletes that keep the index and the documents in step."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from pipeline.knowledge.vectorstore import FaissStore, unit_rows


class TestFaissStoreStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> FaissStore:
        return FaissStore(self.get_embeddings())


class AxisEmbeddings(Embeddings):
    """Texts are words from ``AXES``, each word one axis (``not-<word>`` the opposite
    way): cosines are known by hand."""

    AXES = ("agents", "tools", "dinner", "squats")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [
            [float(text.split().count(a) - text.split().count(f"not-{a}")) for a in self.AXES]
            for text in texts
        ]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def _store() -> FaissStore:
    texts = ["agents", "agents tools", "tools", "dinner", "squats", "dinner squats"]
    return FaissStore.from_texts(
        texts,
        AxisEmbeddings(),
        metadatas=[{"creator": c, "views": v} for c, v in zip("aabbcc", range(6), strict=True)],
        ids=[f"d{i}" for i in range(len(texts))],
    )


def test_scores_are_cosines_and_relevance_is_the_cosine_floored_at_zero():
    store = FaissStore.from_texts(
        ["not-agents", "agents tools", "agents"], AxisEmbeddings(), ids=["far", "near", "same"]
    )
    hits = store.similarity_search_with_score("agents", k=3)
    assert [d.id for d, _ in hits] == ["same", "near", "far"]
    assert [s for _, s in hits] == pytest.approx([1.0, 2**-0.5, -1.0], abs=1e-6)
    relevance = store.similarity_search_with_relevance_scores("agents", k=3)
    # langchain-community's FAISS gave 0.0, 0.29 and 1.0 here: the opposite text ranked first
    assert [s for _, s in relevance] == pytest.approx([1.0, 2**-0.5, 0.0], abs=1e-6)
    kept = store.similarity_search_with_relevance_scores("agents", k=3, score_threshold=0.5)
    assert [d.id for d, _ in kept] == ["same", "near"]


def test_vectors_are_stored_and_searched_at_unit_length():
    store = FaissStore(DeterministicFakeEmbedding(size=16))
    store.add_texts(["a", "b", "c"])
    rows = store.index.reconstruct_n(0, 3)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-6)
    raw = DeterministicFakeEmbedding(size=16).embed_query("b")
    ((hit, score),) = store.similarity_search_with_score_by_vector([10 * x for x in raw], k=1)
    assert hit.page_content == "b" and score == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"creator": "b"}, ["d2", "d3"]),
        ({"creator": ["a", "c"]}, ["d0", "d1", "d4", "d5"]),
        ({"creator": "a", "views": 1}, ["d1"]),
        (lambda metadata: metadata["views"] >= 4, ["d4", "d5"]),
        ({"creator": "nobody"}, []),
    ],
    ids=["equal", "any-of", "all-fields", "function", "none"],
)
def test_filters_search_only_the_documents_that_pass(filter, expected):
    store = _store()
    found = store.similarity_search("agents", k=6, filter=filter)
    assert sorted(d.id for d in found) == expected
    mmr = store.max_marginal_relevance_search("agents", k=6, fetch_k=6, filter=filter)
    assert sorted(d.id for d in mmr) == expected


def test_a_filter_finds_the_best_passing_document_however_far_down_it_is():
    texts = ["agents"] * 50 + ["dinner agents"]
    store = FaissStore.from_texts(
        texts, AxisEmbeddings(), metadatas=[{"n": i} for i in range(len(texts))]
    )
    ((hit, score),) = store.similarity_search_with_score("agents", k=1, filter={"n": 50})
    assert hit.metadata == {"n": 50} and score == pytest.approx(2**-0.5, abs=1e-6)


def test_filter_operators_are_refused_with_the_alternative():
    with pytest.raises(ValueError, match=r"\$gt .*function of the metadata"):
        _store().similarity_search("agents", filter={"$gt": {"views": 2}})


def test_mmr_prefers_variety_and_reports_each_cosine():
    store = FaissStore(AxisEmbeddings(), dimension=3)
    store.add_vectors(
        [Document(page_content=name) for name in ("x0", "x0 again", "x2")],
        [[1.0, 0.0, 0.0], [0.99, 0.14, 0.0], [0.8, 0.0, 0.6]],
        ids=["x0", "x1", "x2"],
    )
    query = [1.0, 0.05, 0.05]
    # cosines to the query: x0 0.9975, x1 0.9947, x2 0.8279; x1 is x0 again (0.99)
    nearest = store.similarity_search_with_score_by_vector(query, k=2)
    assert [d.id for d, _ in nearest] == ["x0", "x1"]
    # MMR, lambda 0.5: x1 gains 0.5 * 0.9947 - 0.5 * 0.9901, x2 0.5 * 0.8279 - 0.5 * 0.8
    hits = store.max_marginal_relevance_search_with_score_by_vector(
        query, k=2, fetch_k=3, lambda_mult=0.5
    )
    assert [d.id for d, _ in hits] == ["x0", "x2"]
    assert [s for _, s in hits] == pytest.approx([0.99751, 0.82794], abs=1e-5)


def test_upserts_and_deletes_keep_rows_and_documents_in_step():
    store = _store()
    store.add_texts(["squats"], [{"creator": "z"}], ids=["d0"])  # d0 replaced, now last
    store.delete(["d2", "missing"])
    assert [d.id for d in store.documents] == ["d1", "d3", "d4", "d5", "d0"]
    _assert_rows_match_documents(store)
    assert store.get_by_ids(["d0"])[0].metadata == {"creator": "z"}


def _assert_rows_match_documents(store: FaissStore) -> None:
    texts = [d.page_content for d in store.documents]
    expected = unit_rows(AxisEmbeddings().embed_documents(texts))
    assert store.index.ntotal == len(texts)
    assert np.allclose(store.index.reconstruct_n(0, len(texts)), expected, atol=1e-6)


def test_a_repeated_id_in_one_call_keeps_the_last_document():
    store = FaissStore(AxisEmbeddings())
    ids = store.add_texts(["agents", "tools"], ids=["x", "x"])
    assert ids == ["x", "x"] and [d.page_content for d in store.documents] == ["tools"]


def test_delete_without_ids_empties_the_store_as_langchain_core_documents():
    store = _store()
    assert store.delete() is True
    assert store.documents == () and store.index.ntotal == 0
    assert store.similarity_search("agents") == []


def test_documents_given_and_returned_are_copies():
    metadata = {"creator": "a"}
    store = FaissStore(AxisEmbeddings())
    store.add_documents([Document(page_content="agents", metadata=metadata)], ids=["x"])
    metadata["creator"] = "changed"
    store.similarity_search("agents", k=1)[0].metadata["creator"] = "changed too"
    assert store.get_by_ids(["x"])[0].metadata == {"creator": "a"}


def test_wrong_shapes_and_unknown_options_are_refused():
    store = FaissStore(AxisEmbeddings(), dimension=4)
    with pytest.raises(ValueError, match="3 dimensions for a store of 4"):
        store.add_vectors([Document(page_content="x")], [[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="1 documents, 2 vectors and 1 ids"):
        store.add_vectors([Document(page_content="x")], [[1.0] * 4, [0.0] * 4])
    with pytest.raises(TypeError, match="unknown options: batch_size"):
        store.add_texts(["agents"], batch_size=2)
    with pytest.raises(ValueError, match="id of its own"):
        FaissStore(
            AxisEmbeddings(),
            index=_store().index,
            documents=[Document(id="same", page_content=str(i)) for i in range(6)],
        )


async def test_concurrent_async_writes_and_searches_stay_consistent():
    store = FaissStore(AxisEmbeddings())
    words = AxisEmbeddings.AXES
    await asyncio.gather(
        *(store.aadd_texts([words[i % 4]], ids=[f"id-{i % 10}"]) for i in range(40)),
        *(store.asimilarity_search("agents", k=3) for _ in range(20)),
        *(store.adelete([f"id-{i}"]) for i in range(10, 15)),
    )
    assert {d.id for d in store.documents} == {f"id-{i}" for i in range(10)}
    _assert_rows_match_documents(store)
    found = await store.amax_marginal_relevance_search("dinner", k=1, fetch_k=10)
    assert found[0].page_content == "dinner"


def test_as_retriever_with_mmr_and_a_filter():
    retriever = _store().as_retriever(
        search_type="mmr", search_kwargs={"k": 2, "filter": {"creator": "c"}}
    )
    assert {d.id for d in retriever.invoke("squats")} == {"d4", "d5"}
