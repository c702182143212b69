"""Record the legacy index fixture: an index folder and what the code answers from it.

``index/`` and ``answers.json`` were made by reelcal 09c1da9, the last version whose
vector store was langchain-community's ``FAISS``, from ``corpus.jsonl`` with
``fake:32`` embeddings (deterministic hash vectors), by running from a checkout of it
(``minilm.json``, the bundled index queried as text with the real local embeddings, is
checked by tests/integration/test_bundled_index.py)::

    PYTHONPATH=<checkout> python tests/unit/data/legacy/record.py <this folder> 09c1da9

It uses only calls both versions have (``build_index``, ``load_store``, the store's
search methods, ``MentorRetriever``), so it runs on the current code too: that is what
tests/unit/test_store_compat.py compares. Queries of the bundled index are weighted sums
of two stored vectors, so they need no model and have no exact ties.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from pipeline.config import Settings
from pipeline.knowledge.embeddings import load_embeddings
from pipeline.knowledge.index import build_index, bundled_store_dir, load_vectorstore
from pipeline.knowledge.retriever import MentorRetriever
from pipeline.knowledge.store import load_store

KEY = "fake:32"
QUERIES = ["AI agents", "meal prep", "squats", "savings budget"]
TRENDS = [["AI agents", "automation"], ["dinner"], ["protein", "savings"]]
BUNDLED_QUERIES = [(0, 40), (55, 120), (90, 91), (150, 10)]


def bundled_query(vectors: np.ndarray, i: int, j: int) -> list[float]:
    q = 0.75 * vectors[i] + 0.25 * vectors[j]
    return (q / np.linalg.norm(q)).tolist()


def answers(folder: Path, bundled_folder: Path) -> dict:
    """What the store and the retriever answer from the two folders."""
    store = load_store(folder, load_embeddings(KEY), embeddings_key=KEY)
    record: dict = {"similarity": {}, "mmr": {}, "retriever": {}, "hybrid": {}, "bundled": {}}
    for q in QUERIES:
        hits = store.similarity_search_with_score(q, k=4)
        record["similarity"][q] = [[d.id, round(float(s), 6)] for d, s in hits]
        mmr = store.max_marginal_relevance_search(q, k=3, fetch_k=8, lambda_mult=0.5)
        record["mmr"][q] = [d.id for d in mmr]
    for name, hybrid in (("retriever", False), ("hybrid", True)):
        retriever = MentorRetriever(
            vectorstore=store, k=3, fetch_k=8, per_creator_limit=2, hybrid=hybrid
        )
        for trends in TRENDS:
            docs = retriever.invoke({"trends": trends, "niche": "creators"})
            record[name][" | ".join(trends)] = [
                [d.id, d.metadata["score"], d.metadata["similarity"]] for d in docs
            ]
    bundled = load_store(
        bundled_folder,
        load_embeddings("fake:384"),  # queries below are vectors: no model is needed
        embeddings_key="local:all-MiniLM-L6-v2",
        check_dimension=False,
    )
    vectors = bundled.index.reconstruct_n(0, bundled.index.ntotal)
    for i, j in BUNDLED_QUERIES:
        q = bundled_query(vectors, i, j)
        hits = bundled.similarity_search_with_score_by_vector(q, k=5)
        mmr = bundled.max_marginal_relevance_search_with_score_by_vector(
            q, k=4, fetch_k=20, lambda_mult=0.7
        )
        record["bundled"][f"{i},{j}"] = {
            "similarity": [[d.id, round(float(s), 6)] for d, s in hits],
            "mmr": [[d.id, round(float(s), 6)] for d, s in mmr],
        }
    return record


def minilm_answers() -> dict:
    """The bundled index queried as text with the real local embeddings (MiniLM)."""
    store = load_vectorstore(Settings(embeddings="local:all-MiniLM-L6-v2", vectorstore=None))
    record: dict = {"similarity": {}, "retriever": {}}
    for q in ["AI agents", "meal prep", "budgeting", "squat form", "growing an audience"]:
        hits = store.similarity_search_with_score(q, k=4)
        record["similarity"][q] = [[d.id, round(float(s), 5)] for d, s in hits]
    for hybrid in (False, True):
        settings = Settings(niche="creator economy", hybrid=hybrid)
        retriever = MentorRetriever.from_settings(settings, vectorstore=store)
        for trends in (["AI agents", "automation"], ["meal prep"], ["budgeting", "strength"]):
            key = ("hybrid: " if hybrid else "") + " | ".join(trends)
            record["retriever"][key] = [d.id for d in retriever.invoke({"trends": trends})]
    return record


def main(out: Path, version: str) -> None:
    build_index(
        [Path(__file__).with_name("corpus.jsonl")],
        out_dir=out / "index",
        embeddings_key=KEY,
        progress=False,
    )
    record = {"recorded_with": f"reelcal {version}", **answers(out / "index", bundled_store_dir())}
    (out / "answers.json").write_text(json.dumps(record, indent=1) + "\n")
    minilm = {"recorded_with": f"reelcal {version}", **minilm_answers()}
    (out / "minilm.json").write_text(json.dumps(minilm, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
