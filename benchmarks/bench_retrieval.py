"""Retrieval benchmark: FAISS vs a brute-force numpy scan, store save/load, MiniLM speed.

Measures, in one run and on the same vectors:

1. Index build at 1k / 10k / 100k chunks of synthetic text with random unit vectors
   (384-d, like ``fake:384`` / MiniLM): raw ``IndexFlatIP.add`` and
   ``FaissStore.add_vectors`` (what ``build_index`` calls, documents by id included).
2. Query latency (p50 / p95 over ``--queries`` single queries, top-4): FAISS
   ``index.search`` (default threads, and one thread) vs numpy ``vectors @ q`` +
   ``argpartition``, each in its own loop, then the two alternating query by query
   (as the MMR retriever alternates FAISS and numpy work); both must return the
   same ids (IndexFlatIP is exact). Also all queries in one batch.
3. The whole ``retrieve`` step (``MentorRetriever.invoke``: 3 trends + niche, MMR,
   dedupe, per-creator cap) and its hybrid BM25 mode, with ``fake:384`` embeddings.
4. ``save_store`` / ``load_store`` (checksums, JSON docstore) at each size.
5. Real ``local:all-MiniLM-L6-v2`` throughput on ~200 corpus chunks.

Not part of the test suite. Run from the repo root::

    .venv/bin/python benchmarks/bench_retrieval.py            # about 2-4 minutes
    .venv/bin/python benchmarks/bench_retrieval.py --sizes 1000 10000 --queries 50
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", category=DeprecationWarning)

import faiss
from langchain_core.documents import Document

from pipeline.knowledge.embeddings import load_embeddings
from pipeline.knowledge.retriever import MentorRetriever
from pipeline.knowledge.store import load_store, save_store
from pipeline.knowledge.vectorstore import FaissStore

DIM = 384
TOP_K = 4
VOCAB = np.array(
    [
        "agents",
        "automation",
        "budget",
        "savings",
        "squats",
        "protein",
        "meal",
        "prep",
        "dinner",
        "rice",
        "hook",
        "reel",
        "creator",
        "pricing",
        "clients",
        "invest",
        "salary",
        "workout",
        "gym",
        "recipe",
        "pan",
        "oven",
        "tools",
        "workflow",
        "prompt",
        "script",
        "camera",
        "caption",
        "trend",
        "audio",
        "story",
        "comment",
        "save",
        "share",
        "follow",
        "growth",
        "money",
        "habit",
        "week",
    ]
)
CREATORS = ["ai.toolsmith", "15minkitchen", "liftwithleo", "centsible.sara", "growthwithmaya"]


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(fn, inputs) -> list[float]:
    samples = []
    for item in inputs:
        t = time.perf_counter()
        fn(item)
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def numpy_top_k(vectors: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    scores = vectors @ q
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def bench_size(n: int, queries: int, retrieves: int, rng: np.random.Generator) -> dict:
    vectors = unit_vectors(rng, n)
    words = rng.choice(VOCAB, size=(n, 30))
    texts = [" ".join(row) for row in words]
    metas = [
        {
            "source_id": f"s{i}",
            "creator": CREATORS[i % 5],
            "views": int(i),
            "hook": texts[i][:40],
            "content_hash": f"h{i}",
        }
        for i in range(n)
    ]
    row: dict = {"chunks": n}

    t = time.perf_counter()
    index = faiss.IndexFlatIP(DIM)
    index.add(vectors)
    row["faiss_add_s"] = time.perf_counter() - t

    store = FaissStore(load_embeddings(f"fake:{DIM}"), dimension=DIM)
    t = time.perf_counter()
    store.add_vectors(
        [
            Document(page_content=text, metadata=meta)
            for text, meta in zip(texts, metas, strict=True)
        ],
        vectors,
        ids=[m["content_hash"] for m in metas],
    )
    row["store_add_s"] = time.perf_counter() - t

    qs = unit_vectors(rng, queries)
    threads = faiss.omp_get_max_threads()

    def faiss_single(q: np.ndarray) -> np.ndarray:
        return index.search(q[None, :], TOP_K)[1][0]

    def numpy_single(q: np.ndarray) -> np.ndarray:
        return numpy_top_k(vectors, q, TOP_K)

    # each method in its own loop (no interference), then alternating (as in MMR)
    for label, fn, nthreads in (
        ("faiss", faiss_single, threads),
        ("faiss1", faiss_single, 1),
        ("numpy", numpy_single, threads),
    ):
        faiss.omp_set_num_threads(nthreads)
        row[f"{label}_p50_ms"], row[f"{label}_p95_ms"] = percentiles(timed(fn, qs))
    faiss.omp_set_num_threads(threads)
    alternating_faiss, alternating_numpy = [], []
    for q in qs:
        alternating_faiss += timed(faiss_single, [q])
        alternating_numpy += timed(numpy_single, [q])
    row["alt_faiss_p50_ms"], row["alt_faiss_p95_ms"] = percentiles(alternating_faiss)
    row["alt_numpy_p50_ms"], row["alt_numpy_p95_ms"] = percentiles(alternating_numpy)
    row["same_top_k"] = sum(list(faiss_single(q)) == list(numpy_single(q)) for q in qs) / queries
    t = time.perf_counter()
    index.search(qs, TOP_K)
    row["faiss_batch_ms_per_q"] = (time.perf_counter() - t) * 1000 / queries
    t = time.perf_counter()
    scores = qs @ vectors.T
    np.argpartition(-scores, TOP_K, axis=1)[:, :TOP_K]
    row["numpy_batch_ms_per_q"] = (time.perf_counter() - t) * 1000 / queries

    for hybrid in (False, True):
        retriever = MentorRetriever(vectorstore=store, k=TOP_K, fetch_k=20, hybrid=hybrid)
        retriever.invoke({"trends": ["warm up"]})  # builds BM25 once for hybrid
        samples = []
        for i in range(retrieves):
            trends = [" ".join(rng.choice(VOCAB, 2)) for _ in range(3)]
            t = time.perf_counter()
            retriever.invoke({"trends": trends, "niche": f"niche {i}"})
            samples.append((time.perf_counter() - t) * 1000)
        key = "hybrid" if hybrid else "retrieve"
        row[f"{key}_p50_ms"], row[f"{key}_p95_ms"] = percentiles(samples)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "index"
        t = time.perf_counter()
        save_store(
            store, folder, embeddings_key=f"fake:{DIM}", chunk_settings={"chunk_tokens": 300}
        )
        row["save_s"] = time.perf_counter() - t
        t = time.perf_counter()
        load_store(folder, load_embeddings(f"fake:{DIM}"), embeddings_key=f"fake:{DIM}")
        row["load_s"] = time.perf_counter() - t
        row["folder_mb"] = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    return row


def bench_minilm(target: int = 200) -> dict:
    from pipeline.bundled import bundled_dir
    from pipeline.knowledge.ingest import load_files
    from pipeline.models.tokens import tiktoken_counter

    chunks = [
        d.page_content
        for d in load_files(
            sorted((bundled_dir("vectorstore") / "corpus").glob("*.jsonl"))
        ).documents
    ]
    texts = (chunks * (target // max(1, len(chunks)) + 1))[:target]
    short = [" ".join(t.split()[:100]) for t in texts]
    embeddings = load_embeddings("local:all-MiniLM-L6-v2")
    embeddings.embed_documents(texts[:8])  # load and warm up
    result = {
        "chunks": len(texts),
        "distinct": len(set(texts)),
        "mean_tokens": statistics.mean(tiktoken_counter("cl100k_base").count(t) for t in texts),
    }
    for label, batch in (("corpus_chunks", texts), ("first_100_words", short)):
        t = time.perf_counter()
        embeddings.embed_documents(batch)
        result[f"{label}_per_s"] = len(batch) / (time.perf_counter() - t)
    return result


def table(title: str, header: list[str], lines: list[list[str]]) -> None:
    print(f"\n{title}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for cells in lines:
        print("| " + " | ".join(cells) + " |")


def print_tables(rows: list[dict]) -> None:
    def pair(r: dict, key: str, digits: int = 3) -> str:
        return f"{r[key + '_p50_ms']:.{digits}f} / {r[key + '_p95_ms']:.{digits}f}"

    table(
        "Search, top-4 of one query, p50 / p95 ms: each method in its own loop, then FAISS and "
        "numpy alternating query by query",
        [
            "chunks",
            "FAISS add (vec/s)",
            "FAISS",
            "FAISS 1 thread",
            "numpy scan",
            "numpy÷FAISS p50",
            "alternating: FAISS",
            "alternating: numpy",
            "all queries in one batch, ms/query FAISS / numpy",
            "same top-4",
        ],
        [
            [
                f"{r['chunks']:,}",
                f"{r['chunks'] / r['faiss_add_s']:,.0f}",
                pair(r, "faiss"),
                pair(r, "faiss1"),
                pair(r, "numpy"),
                f"{r['numpy_p50_ms'] / r['faiss_p50_ms']:.2f}x",
                pair(r, "alt_faiss"),
                pair(r, "alt_numpy"),
                f"{r['faiss_batch_ms_per_q']:.3f} / {r['numpy_batch_ms_per_q']:.3f}",
                f"{r['same_top_k']:.0%}",
            ]
            for r in rows
        ],
    )
    table(
        "The reelcal layer: FaissStore add (what build_index calls), the retrieve step "
        "(3 trends + niche), save/load",
        [
            "chunks",
            "FaissStore add (vec/s)",
            "retrieve p50 / p95 ms",
            "hybrid p50 / p95 ms",
            "save_store s",
            "load_store s",
            "folder MB",
        ],
        [
            [
                f"{r['chunks']:,}",
                f"{r['chunks'] / r['store_add_s']:,.0f}",
                pair(r, "retrieve", 1),
                pair(r, "hybrid", 1),
                f"{r['save_s']:.2f}",
                f"{r['load_s']:.2f}",
                f"{r['folder_mb']:.1f}",
            ]
            for r in rows
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--retrieves", type=int, default=50)
    parser.add_argument("--no-minilm", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    started = time.perf_counter()
    print(
        f"python {platform.python_version()}, faiss {faiss.__version__}, numpy {np.__version__}, "
        f"faiss threads {faiss.omp_get_max_threads()}, cpus {os.cpu_count()}, "
        f"load average at start {os.getloadavg()[0]:.2f} (other processes share these cores)"
    )
    rows = []
    for n in args.sizes:
        rows.append(bench_size(n, args.queries, args.retrieves, rng))
        print(
            json.dumps(
                {k: round(v, 4) if isinstance(v, float) else v for k, v in rows[-1].items()}
            ),
            flush=True,
        )

    print_tables(rows)
    minilm = None if args.no_minilm else bench_minilm()
    if minilm:
        print(
            f"\nMiniLM ({minilm['chunks']} chunks, {minilm['distinct']} distinct, "
            f"mean {minilm['mean_tokens']:.0f} cl100k tokens): "
            f"{minilm['corpus_chunks_per_s']:.1f} chunks/s; "
            f"first 100 words of each: {minilm['first_100_words_per_s']:.1f} chunks/s"
        )
    elapsed = time.perf_counter() - started
    print(f"\ntotal {elapsed:.0f}s, load average at end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "minilm": minilm}, indent=2))


if __name__ == "__main__":
    main()
