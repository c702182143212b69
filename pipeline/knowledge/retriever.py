"""Retrieving mentor examples by trend, and the text they go into the prompt as.

Owns :class:`MentorRetriever`, the chain's ``retrieve`` step: one query per trend plus
the niche, embedded in one batch; MMR per query (or a BM25 + vector blend with
``hybrid``); results merged by best score, deduped by ``source_id``, capped per creator
and filtered by ``min_similarity``. Each returned Document carries ``score``,
``similarity`` (cosine) and the ``query`` that found it. :func:`format_documents`
renders retrieved examples as escaped ``<example ...>`` blocks, the exact text that goes
into the prompt (and that :mod:`.trimming` counts).
"""

from __future__ import annotations

import html
import re
import weakref
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict, Field

from pipeline.config import Settings
from pipeline.knowledge.index import load_vectorstore
from pipeline.knowledge.vectorstore import FaissStore

_BM25_CACHE: weakref.WeakKeyDictionary[FaissStore, tuple[tuple[Document, ...], Any]] = (
    weakref.WeakKeyDictionary()
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _bm25(store: FaissStore) -> Any:
    """BM25 over the store's chunk texts and hooks (in row order), built once per store
    and rebuilt after the store changes (its ``documents`` tuple is then a new one)."""
    from rank_bm25 import BM25Okapi

    documents = store.documents
    cached = _BM25_CACHE.get(store)
    if cached is None or cached[0] is not documents:
        corpus = [_words(f"{d.metadata.get('hook') or ''} {d.page_content}") for d in documents]
        cached = (documents, BM25Okapi(corpus))
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
    vectorstore: FaissStore
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
        cls, settings: Settings, *, vectorstore: FaissStore | None = None
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
        total = len(self.vectorstore.documents)
        if not queries or total == 0:
            return []
        # One batch for all queries; the store's embeddings give unit vectors.
        vectors = np.asarray(self.vectorstore.embeddings.embed_documents(queries), np.float32)
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
            source = source_id(doc)
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
        documents = store.documents  # row i of store.index is documents[i]
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
        cosine = store.index.reconstruct_batch(ids) @ vector
        blended = self.vector_weight * _minmax(cosine) + (1 - self.vector_weight) * _minmax(
            keyword[ids]
        )
        top = np.argsort(-blended, kind="stable")[:k]
        return [(documents[int(ids[j])], float(blended[j]), float(cosine[j])) for j in top]


# --------------------------------------------------------------------- prompt text
def source_id(document: Document) -> str:
    """A retrieved chunk's source id (its ``source_id`` metadata, else its id)."""
    return str(document.metadata.get("source_id") or document.id or "")


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
