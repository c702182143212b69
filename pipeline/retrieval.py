"""The mentor knowledge base: building the FAISS index and retrieving from it by trend.

Owns:

- :func:`build_index`: transcripts -> chunks -> embeddings -> a saved index folder,
  deduped by ``content_hash`` (re-indexing a file adds nothing; ``append=True`` adds
  only new chunks). :func:`rebuild_bundled_index` rebuilds ``vectorstore/index``
  (also ``python -m pipeline.retrieval --rebuild-bundled``).
- :func:`load_vectorstore`: the store named by ``Settings`` (or the bundled one).
- :class:`MentorRetriever`: the chain's ``retrieve`` step. One query per trend plus
  the niche, embedded in one batch; MMR per query (or a BM25 + vector blend with
  ``hybrid``); results merged by best score, deduped by ``source_id``, capped per
  creator and filtered by ``min_similarity``. Each returned Document carries
  ``score``, ``similarity`` (cosine) and the ``query`` that found it.
- :func:`format_documents`: retrieved examples as escaped ``<example ...>`` blocks,
  the exact text that goes into the prompt (and that the trimmer counts).
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_community.vectorstores import FAISS
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict, Field

from pipeline.bundled import bundled_dir
from pipeline.config import DEFAULT_EMBEDDINGS, Settings
from pipeline.errors import IngestError, ModelCallError, VectorStoreError
from pipeline.failures import call_with_retries
from pipeline.ingest import (
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_TOKENS,
    ENCODING,
    FileReport,
    SkippedFile,
    load_files,
)
from pipeline.models import load_embeddings
from pipeline.store import (
    MANIFEST_FILE,
    UnitEmbeddings,
    empty_store,
    load_store,
    read_manifest,
    save_store,
    store_documents,
)


# --------------------------------------------------------------------- building
@dataclass
class IndexReport:
    """What :func:`build_index` did."""

    out_dir: str
    embeddings_key: str
    files_read: list[FileReport] = field(default_factory=list)
    files_skipped: list[SkippedFile] = field(default_factory=list)
    chunks_added: int = 0
    chunks_present: int = 0  # already in the index (or repeated in the input): not added
    chunks_total: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        skipped = f", {len(self.files_skipped)} skipped" if self.files_skipped else ""
        return (
            f"{self.out_dir}: {len(self.files_read)} files read{skipped}; "
            f"{self.chunks_added} chunks added, {self.chunks_present} already present, "
            f"{self.chunks_total} in total ({self.embeddings_key}, {self.seconds:.1f}s)"
        )


def build_index(
    paths: Iterable[str | Path] | str | Path,
    *,
    out_dir: str | Path,
    embeddings_key: str = DEFAULT_EMBEDDINGS,
    creator: str | None = None,
    append: bool = False,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
    progress: bool = True,
    batch_size: int = 32,
) -> IndexReport:
    """Index transcript files and folders into ``out_dir``.

    Without ``append`` the folder is rebuilt from ``paths`` alone (the old index
    stays usable until the new one is written). With ``append`` the existing index
    is loaded and only chunks whose ``content_hash`` it lacks are embedded and added.

    Raises:
        IngestError: no readable transcript text in ``paths`` (when building anew).
        VectorStoreError: appending to an index built with another embedding model,
            other chunk settings, or one that is corrupted.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    chunking = {"chunk_tokens": chunk_tokens, "chunk_overlap": chunk_overlap, "encoding": ENCODING}
    ingest = load_files(
        paths, creator=creator, chunk_tokens=chunk_tokens, chunk_overlap=chunk_overlap
    )
    report = IndexReport(str(out_dir), embeddings_key, ingest.files, ingest.skipped)
    embeddings = load_embeddings(embeddings_key)

    existing = append and (out_dir / MANIFEST_FILE).is_file()
    store: FAISS | None = None
    if existing:
        built = (read_manifest(out_dir) or {}).get("chunking") or {}
        if (built.get("chunk_tokens"), built.get("chunk_overlap")) != (chunk_tokens, chunk_overlap):
            raise VectorStoreError(
                f"Vector store {out_dir} was built with chunk_tokens={built.get('chunk_tokens')}, "
                f"chunk_overlap={built.get('chunk_overlap')}: append with the same settings or "
                f"rebuild without --append."
            )
        store = load_store(out_dir, embeddings, embeddings_key=embeddings_key)
    elif not ingest.documents:
        reasons = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in ingest.skipped[:3])
        raise IngestError(
            f"No transcript text found to index{' (' + reasons + ')' if reasons else ''}: "
            f"give .txt, .md, .srt, .vtt, .json, .jsonl or .csv files."
        )

    seen = {d.metadata.get("content_hash") for d in store_documents(store)} if store else set()
    new: list[Document] = []
    for doc in ingest.documents:
        digest = doc.metadata["content_hash"]
        if digest in seen:
            report.chunks_present += 1
        else:
            seen.add(digest)
            new.append(doc)

    if new:
        vectors = _embed(
            [d.page_content for d in new],
            UnitEmbeddings(embeddings),
            batch_size=batch_size,
            progress=progress,
        )
        if store is None:
            store = empty_store(embeddings, dimension=vectors.shape[1])
        store.add_embeddings(
            list(zip([d.page_content for d in new], vectors.tolist(), strict=True)),
            metadatas=[d.metadata for d in new],
            ids=[d.metadata["content_hash"] for d in new],
        )
    if store is not None and (new or not existing):
        save_store(store, out_dir, embeddings_key=embeddings_key, chunk_settings=chunking)
    report.chunks_added = len(new)
    report.chunks_total = store.index.ntotal if store is not None else 0
    report.seconds = time.perf_counter() - started
    return report


def _embed(
    texts: Sequence[str], embeddings: UnitEmbeddings, *, batch_size: int, progress: bool
) -> np.ndarray:
    """Embed in batches, with a progress bar when there is more than one batch."""
    from tqdm import tqdm

    batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    vectors: list[list[float]] = []
    with tqdm(
        total=len(texts),
        unit="chunk",
        desc="Embedding",
        file=sys.stderr,
        disable=not progress or len(batches) < 2,
    ) as bar:
        for batch in batches:
            try:
                vectors.extend(
                    call_with_retries(
                        lambda batch=batch: embeddings.embed_documents(list(batch)),
                        max_retries=2,
                        describe=f"embedding {len(batch)} chunks",
                    )
                )
            except ModelCallError as exc:
                raise ModelCallError(
                    f"Embedding failed ({exc}): check the embeddings key and that its service "
                    f"is reachable, or use embeddings: local:all-MiniLM-L6-v2 (offline)."
                ) from exc.__cause__
            bar.update(len(batch))
    return np.asarray(vectors, dtype=np.float32)


def bundled_store_dir() -> Path:
    """The prebuilt index of the sample mentor corpus."""
    return bundled_dir("vectorstore") / "index"


def rebuild_bundled_index(
    *, embeddings_key: str = DEFAULT_EMBEDDINGS, progress: bool = True
) -> IndexReport:
    """Rebuild ``vectorstore/index`` from ``vectorstore/corpus/*.jsonl``."""
    corpus = sorted((bundled_dir("vectorstore") / "corpus").glob("*.jsonl"))
    return build_index(
        corpus, out_dir=bundled_store_dir(), embeddings_key=embeddings_key, progress=progress
    )


def load_vectorstore(settings: Settings) -> FAISS:
    """The store at ``settings.vectorstore`` (the bundled one when unset), verified."""
    folder = settings.vectorstore or bundled_store_dir()
    return load_store(
        folder, load_embeddings(settings.embeddings), embeddings_key=settings.embeddings
    )


# --------------------------------------------------------------------- retrieving
_BM25_CACHE: weakref.WeakKeyDictionary[FAISS, tuple[int, Any]] = weakref.WeakKeyDictionary()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _bm25(store: FAISS) -> Any:
    """BM25 over the store's chunk texts and hooks, built once per store (and size)."""
    from rank_bm25 import BM25Okapi

    cached = _BM25_CACHE.get(store)
    if cached is None or cached[0] != store.index.ntotal:
        corpus = [
            _words(f"{d.metadata.get('hook') or ''} {d.page_content}")
            for d in store_documents(store)
        ]
        cached = (store.index.ntotal, BM25Okapi(corpus))
        _BM25_CACHE[store] = cached
    return cached[1]


def _minmax(values: np.ndarray) -> np.ndarray:
    span = float(values.max() - values.min()) if values.size else 0.0
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


@contextmanager
def _faiss_single_thread() -> Iterator[None]:
    """One OpenMP thread for FAISS in this thread while single queries alternate with
    numpy work (MMR): otherwise FAISS's and BLAS's idle threads spin against each
    other, 4-8x slower on 2 cores (benchmarks/README.md). Per-thread, restored after."""
    import faiss

    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


class MentorRetriever(BaseRetriever):
    """The chain's ``retrieve`` step, and a LangChain retriever like any other.

    A string is one query; the calendar's ``{"trends": [...], "niche": ...}`` is one query
    per trend plus the niche. ``k`` documents per query (``invoke(query, k=2)`` overrides
    it for a call), MMR for variety, at most ``per_creator_limit`` per creator, one chunk
    per source. Build it with :meth:`from_settings`.

    Example:
        .. code-block:: python

            retriever = MentorRetriever.from_settings(Settings())
            retriever.invoke("hooks for AI tools", k=2)
            retriever.invoke({"trends": ["AI agents"], "niche": "creator economy"})
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    name: str | None = "retrieve"
    vectorstore: FAISS
    k: int = Field(4, ge=1, le=50, description="Documents per query.")
    fetch_k: int = Field(20, ge=1, description="Candidates per query for MMR / hybrid.")
    lambda_mult: float = Field(
        0.7, ge=0.0, le=1.0, description="MMR: 0 most diverse .. 1 most similar."
    )
    per_creator_limit: int = Field(5, ge=1)
    min_similarity: float | None = Field(None, ge=-1.0, le=1.0)
    hybrid: bool = False
    vector_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Hybrid: weight of vector scores."
    )
    niche: str | None = Field(None, description="Niche used when the input gives none.")

    @classmethod
    def from_settings(
        cls, settings: Settings, *, vectorstore: FAISS | None = None
    ) -> MentorRetriever:
        return cls(
            vectorstore=vectorstore if vectorstore is not None else load_vectorstore(settings),
            k=settings.retrieval_k,
            fetch_k=max(20, 4 * settings.retrieval_k),
            per_creator_limit=settings.per_creator_limit,
            min_similarity=settings.min_similarity,
            hybrid=settings.hybrid,
            niche=settings.niche,
        )

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        """A string query, or the calendar's trends/niche mapping (traced as one query)."""
        if isinstance(input, str):
            return super().invoke(input, config, **kwargs)
        queries = self.queries(input)
        return super().invoke(" | ".join(queries), config, queries=queries, **kwargs)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        queries: list[str] | None = None,
        k: int | None = None,
    ) -> list[Document]:
        return self._retrieve(queries if queries is not None else self.queries(query), k=k)

    def queries(self, input: Any) -> list[str]:
        """One query per trend, plus the niche; blanks and repeats removed."""
        if isinstance(input, str):
            trends: Any = [input]
            niche = None
        else:
            trends = input.get("trends") or []
            trends = [trends] if isinstance(trends, str) else trends
            niche = input.get("niche") or self.niche
        candidates = [str(t).strip() for t in [*trends, niche] if t and str(t).strip()]
        return list(dict.fromkeys(candidates))

    def _retrieve(self, queries: list[str], *, k: int | None = None) -> list[Document]:
        total = self.vectorstore.index.ntotal
        if not queries or total == 0:
            return []
        embed = self.vectorstore.embeddings or UnitEmbeddings(self.vectorstore.embedding_function)
        vectors = np.asarray(UnitEmbeddings(embed).embed_documents(queries), dtype=np.float32)
        k = k or self.k
        k, fetch_k = min(k, total), min(max(self.fetch_k, k), total)
        search = self._hybrid_hits if self.hybrid else self._mmr_hits
        best: dict[str, tuple[float, float, str, Document]] = {}
        with _faiss_single_thread():
            hits = [
                (query, hit)
                for query, vector in zip(queries, vectors, strict=True)
                for hit in search(query, vector, k, fetch_k)
            ]
        for query, (doc, score, similarity) in hits:
            if self.min_similarity is not None and similarity < self.min_similarity:
                continue
            source = str(doc.metadata.get("source_id") or doc.id)
            if source not in best or score > best[source][0]:
                best[source] = (score, similarity, query, doc)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))
        per_creator: Counter[str] = Counter()
        results = []
        for _, (score, similarity, query, doc) in ranked:
            creator = str(doc.metadata.get("creator") or "")
            if per_creator[creator] >= self.per_creator_limit:
                continue
            per_creator[creator] += 1
            meta = {
                **doc.metadata,
                "score": round(score, 4),
                "similarity": round(similarity, 4),
                "query": query,
            }
            results.append(Document(id=doc.id, page_content=doc.page_content, metadata=meta))
        return results

    def _mmr_hits(
        self, query: str, vector: np.ndarray, k: int, fetch_k: int
    ) -> list[tuple[Document, float, float]]:
        hits = self.vectorstore.max_marginal_relevance_search_with_score_by_vector(
            vector.tolist(), k=k, fetch_k=fetch_k, lambda_mult=self.lambda_mult
        )
        return [(doc, float(score), float(score)) for doc, score in hits]

    def _hybrid_hits(
        self, query: str, vector: np.ndarray, k: int, fetch_k: int
    ) -> list[tuple[Document, float, float]]:
        store = self.vectorstore
        _, vector_ids = store.index.search(vector[None, :], fetch_k)
        keyword = np.asarray(_bm25(store).get_scores(_words(query)), dtype=np.float32)
        keyword_ids = (
            np.argpartition(-keyword, fetch_k - 1)[:fetch_k]
            if fetch_k < keyword.size
            else np.arange(keyword.size)
        )
        ids = np.array(
            sorted({int(i) for i in vector_ids[0] if i >= 0} | {int(i) for i in keyword_ids})
        )
        cosine = np.vstack([store.index.reconstruct(int(i)) for i in ids]) @ vector
        blended = self.vector_weight * _minmax(cosine) + (1 - self.vector_weight) * _minmax(
            keyword[ids]
        )
        top = np.argsort(-blended, kind="stable")[:k]
        return [
            (
                store.docstore.search(store.index_to_docstore_id[int(ids[j])]),
                float(blended[j]),
                float(cosine[j]),
            )
            for j in top
        ]


# --------------------------------------------------------------------- prompt text
def format_documents(docs: Sequence[Document]) -> str:
    """Render retrieved examples as ``<example ...>`` blocks of quoted data.

    ``<``, ``>`` and ``&`` are escaped in the text and quotes too in attributes, so
    a transcript can neither close its tag nor open a new one.
    """
    return "\n\n".join(render_document(doc) for doc in docs)


def render_document(doc: Document) -> str:
    """One ``<example creator="@handle" views="1,200,000" hook="...">`` block."""
    meta = doc.metadata
    attrs: list[tuple[str, str]] = []
    if meta.get("creator"):
        attrs.append(("creator", "@" + str(meta["creator"]).lstrip("@")))
    if isinstance(meta.get("views"), int):
        attrs.append(("views", f"{meta['views']:,}"))
    if meta.get("hook"):
        attrs.append(("hook", " ".join(str(meta["hook"]).split())))
    head = "".join(f' {key}="{html.escape(value, quote=True)}"' for key, value in attrs)
    return f"<example{head}>\n{html.escape(doc.page_content.strip(), quote=False)}\n</example>"


# --------------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.retrieval", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--rebuild-bundled",
        action="store_true",
        help="rebuild vectorstore/index from vectorstore/corpus",
    )
    parser.add_argument(
        "--embeddings", default=DEFAULT_EMBEDDINGS, help="embeddings key (default %(default)s)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not args.rebuild_bundled:
        parser.error(
            "nothing to do: pass --rebuild-bundled (use `reelcal index` for your own files)"
        )
    report = rebuild_bundled_index(embeddings_key=args.embeddings, progress=not args.quiet)
    print(report.summary())
    for skipped in report.files_skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
