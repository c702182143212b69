"""Index folders written while reelcal's store was langchain-community's ``FAISS`` load
into :class:`FaissStore` unchanged and answer as they did; so does the bundled index.

``data/legacy/index`` and ``data/legacy/answers.json`` were written by reelcal 09c1da9
(the last version on langchain-community) running ``data/legacy/record.py``; the same
script's :func:`answers` runs here on the current code.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.knowledge.embeddings import load_embeddings
from pipeline.knowledge.index import bundled_store_dir
from pipeline.knowledge.store import load_store, read_manifest, save_store, verify_store

LEGACY = Path(__file__).parent / "data" / "legacy"
TRENDS = ["AI agents | automation", "dinner", "protein | savings"]


def _record_script():
    spec = importlib.util.spec_from_file_location("legacy_record", LEGACY / "record.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads((LEGACY / "answers.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def answered() -> dict:
    return _record_script().answers(LEGACY / "index", bundled_store_dir())


def _ids(hits: list) -> list[str]:
    return [hit[0] for hit in hits]


def _scores(hits: list) -> list[float]:
    return [hit[1] for hit in hits]


def test_the_fixture_was_written_by_the_langchain_community_version(recorded):
    manifest = read_manifest(LEGACY / "index")
    assert recorded["recorded_with"] == "reelcal 09c1da9"
    assert manifest["format_version"] == 1 and manifest["faiss_index"] == "IndexFlatIP"
    assert "pipeline.knowledge.store.UnitEmbeddings" in manifest["normalization"]
    assert manifest["counts"] == {"chunks": 12, "sources": 12, "creators": 4}


@pytest.mark.parametrize("query", ["AI agents", "meal prep", "squats", "savings budget"])
def test_similarity_and_mmr_find_what_they_found(recorded, answered, query):
    then, now = recorded["similarity"][query], answered["similarity"][query]
    assert _ids(now) == _ids(then)
    assert _scores(now) == pytest.approx(_scores(then), abs=1e-5)
    assert answered["mmr"][query] == recorded["mmr"][query]


@pytest.mark.parametrize("mode", ["retriever", "hybrid"])
@pytest.mark.parametrize("trends", TRENDS)
def test_the_mentor_retriever_returns_the_same_examples(recorded, answered, mode, trends):
    then, now = recorded[mode][trends], answered[mode][trends]
    assert _ids(now) == _ids(then)
    for column in (1, 2):  # score, then cosine similarity
        assert [hit[column] for hit in now] == pytest.approx(
            [hit[column] for hit in then], abs=1e-4
        )


@pytest.mark.parametrize("query", ["0,40", "55,120", "90,91", "150,10"])
def test_the_bundled_index_loads_and_answers_as_before(recorded, answered, query):
    for kind in ("similarity", "mmr"):
        then, now = recorded["bundled"][query][kind], answered["bundled"][query][kind]
        assert _ids(now) == _ids(then), kind
        assert _scores(now) == pytest.approx(_scores(then), abs=1e-5)


def test_the_bundled_index_passes_its_checks_and_finds_its_own_vectors():
    folder = bundled_store_dir()
    manifest, _ = verify_store(folder, embeddings_key="local:all-MiniLM-L6-v2")
    # fake:384 has the model's dimension, so the dimension probe runs; queries are vectors
    store = load_store(folder, load_embeddings("fake:384"), embeddings_key=manifest["embeddings"])
    assert len(store.documents) == manifest["counts"]["chunks"] == store.index.ntotal
    rows = store.index.reconstruct_n(0, store.index.ntotal)
    for row in (0, 77, len(rows) - 1):
        ((hit, score),) = store.similarity_search_with_score_by_vector(rows[row].tolist(), k=1)
        assert hit.id == store.documents[row].id and score == pytest.approx(1.0, abs=1e-5)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)


def test_a_legacy_folder_saved_again_has_the_same_bytes(tmp_path):
    store = load_store(LEGACY / "index", load_embeddings("fake:32"), embeddings_key="fake:32")
    manifest = save_store(
        store,
        tmp_path / "index",
        embeddings_key="fake:32",
        chunk_settings=read_manifest(LEGACY / "index")["chunking"],
    )
    for name in ("index.faiss", "docstore.json"):
        assert (tmp_path / "index" / name).read_bytes() == (LEGACY / "index" / name).read_bytes()
    old = read_manifest(LEGACY / "index")
    for key in ("format", "format_version", "dimension", "metric", "faiss_index", "counts"):
        assert manifest[key] == old[key], key
    assert manifest["files"] == old["files"]
