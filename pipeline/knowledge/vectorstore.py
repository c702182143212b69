"""reelcal's vector store: documents kept by id over a FAISS inner-product index of unit
vectors, so every score is a cosine.

Owns :class:`FaissStore`, a langchain-core ``VectorStore`` (``as_retriever()``, the async
methods and ``similarity_search_with_relevance_scores`` come from the base class), and
:class:`UnitEmbeddings`, the L2 normalisation that makes inner product cosine. Writing
and reading the index folder is :mod:`.store`; nothing here touches the disk.

Row ``i`` of :attr:`FaissStore.index` is the vector of ``FaissStore.documents[i]``. Adding a
document whose id is already stored replaces it (upsert); :meth:`FaissStore.delete`
removes rows and the rows after them move up, keeping their order. Filters are a mapping
(``{"creator": "dev"}`` equal, ``{"creator": ["dev", "ana"]}`` any of) or a function of
a document's metadata; the index searches only the rows that pass, so a filtered search
is as exact as an unfiltered one.

Example:
    .. code-block:: python

        store = FaissStore.from_texts(
            ["AI agents answer your inbox.", "Meal prep on Sunday."],
            embeddings,
            metadatas=[{"creator": "dev"}, {"creator": "ana"}],
            ids=["dev-1", "ana-1"],
        )
        store.similarity_search_with_score("agents", k=1)  # [(Document(id="dev-1"), cosine)]
        store.max_marginal_relevance_search("dinner", k=2, filter={"creator": "ana"})
        store.as_retriever(search_type="mmr").invoke("agents")
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

MetadataFilter = Mapping[str, Any] | Callable[[dict[str, Any]], bool]


class UnitEmbeddings(Embeddings):
    """Wraps an ``Embeddings`` so every vector has length 1 (cosine = inner product)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner.inner if isinstance(inner, UnitEmbeddings) else inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return unit_rows(self.inner.embed_documents(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return unit_rows([self.inner.embed_query(text)])[0].tolist()


def unit_rows(vectors: Any) -> np.ndarray:
    """``vectors`` as float32 rows of length 1 (a zero row stays zero)."""
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return array / np.where(norms == 0, 1.0, norms)


# Not langchain-community's FAISS: sunset by its maintainers (archived, its cosine
# relevance bug unfixed) and its folders are pickles. Not langchain-core's
# InMemoryVectorStore: it keeps vectors in a dict and rebuilds a matrix on every search,
# where FAISS keeps rows reelcal's saved index folders already hold.
class FaissStore(VectorStore):
    """Documents by id, searched by cosine over a FAISS ``IndexFlatIP`` of unit vectors.

    ``dimension`` creates the index now; without it the first add creates it. ``index``
    and ``documents`` (one per row, in row order, unique ids) restore a saved store.
    Scores are cosines in [-1, 1]; relevance scores are the cosine floored at 0.
    """

    def __init__(
        self,
        embedding: Embeddings,
        *,
        dimension: int | None = None,
        index: Any = None,
        documents: Sequence[Document] = (),
    ) -> None:
        import faiss

        # The base class runs the async methods in executor threads: a write must not
        # interleave with a search that maps rows to documents.
        self._lock = threading.RLock()
        if index is None and dimension is not None:
            index = faiss.IndexFlatIP(dimension)
        documents = tuple(documents)
        rows = index.ntotal if index is not None else 0
        if rows != len(documents):
            raise ValueError(f"the index has {rows} vectors but {len(documents)} documents came")
        if index is not None and index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise ValueError(f"{type(index).__name__} does not rank by inner product")
        ids = [d.id for d in documents]
        if not all(ids) or len(set(ids)) != len(ids):
            raise ValueError("every document needs an id of its own")
        self._embeddings = UnitEmbeddings(embedding)
        self.index = index
        self._set_documents(documents)

    # ----------------------------------------------------------------- contents
    @property
    def embeddings(self) -> UnitEmbeddings:
        """The embeddings queries and documents go through (unit length)."""
        return self._embeddings

    @property
    def documents(self) -> tuple[Document, ...]:
        """The stored documents in row order (a new tuple after every change; the
        Documents are the store's own: read them, copy before changing)."""
        return self._documents

    def _set_documents(self, documents: tuple[Document, ...]) -> None:
        self._documents = documents
        self._rows = {d.id: row for row, d in enumerate(documents)}

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """Copies of the stored documents with these ids, in that order; unknown ids
        are left out."""
        with self._lock:
            return [_copy(self._documents[self._rows[i]]) for i in ids if i in self._rows]

    def add_documents(
        self, documents: list[Document], *, ids: list[str] | None = None, **kwargs: Any
    ) -> list[str]:
        """Embed and add ``documents``; an id already stored is replaced (upsert). Ids
        come from ``ids``, else each document's ``id``, else a new uuid4."""
        if kwargs:
            raise TypeError(f"add_documents got unknown options: {', '.join(sorted(kwargs))}")
        vectors = self._embeddings.embed_documents([d.page_content for d in documents])
        return self.add_vectors(documents, vectors, ids=ids)

    def add_vectors(
        self,
        documents: Sequence[Document],
        vectors: Any,
        *,
        ids: Sequence[str] | None = None,
    ) -> list[str]:
        """Add documents whose vectors are already computed (normalised here). Within
        one call a repeated id keeps its last document, as assigning to a dict would."""
        import faiss

        ids = list(ids) if ids is not None else [d.id or str(uuid.uuid4()) for d in documents]
        unit = unit_rows(vectors) if len(documents) else np.zeros((0, 0), np.float32)
        if not len(ids) == len(unit) == len(documents):
            raise ValueError(
                f"{len(documents)} documents, {len(unit)} vectors and {len(ids)} ids: "
                f"give one of each per document"
            )
        if not documents:
            return ids
        last = {id_: position for position, id_ in enumerate(ids)}
        keep = sorted(last.values())
        with self._lock:
            if self.index is None:
                self.index = faiss.IndexFlatIP(unit.shape[1])
            if unit.shape[1] != self.index.d:
                raise ValueError(
                    f"vectors of {unit.shape[1]} dimensions for a store of {self.index.d}"
                )
            self.delete([id_ for id_ in last if id_ in self._rows])
            self.index.add(unit[keep])
            added = tuple(_copy(documents[i], id=ids[i]) for i in keep)
            self._set_documents(self._documents + added)
        return ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Remove these ids (unknown ones are ignored); ``None`` removes everything, as
        langchain-core's ``VectorStore.delete`` documents."""
        if kwargs:
            raise TypeError(f"delete got unknown options: {', '.join(sorted(kwargs))}")
        with self._lock:
            if self.index is None:
                return True
            if ids is None:
                self.index.reset()
                self._set_documents(())
                return True
            drop = {self._rows[i] for i in ids if i in self._rows}
            if drop:
                # IndexFlat.remove_ids compacts the rows that stay, in their order.
                self.index.remove_ids(np.fromiter(drop, dtype=np.int64))
                self._set_documents(
                    tuple(d for row, d in enumerate(self._documents) if row not in drop)
                )
        return True

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> FaissStore:
        """A new store (``kwargs`` go to the constructor) holding ``texts``."""
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    # ----------------------------------------------------------------- search
    def _search(
        self, vector: Sequence[float], k: int, filter: MetadataFilter | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and cosines of the ``k`` nearest documents that pass ``filter``, best
        first, equal cosines in row order. The caller holds the lock."""
        import faiss

        total = len(self._documents)
        if self.index is None or total == 0 or k < 1:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        params = None
        if filter is not None:
            passes = _matcher(filter)
            allowed = [row for row, d in enumerate(self._documents) if passes(d.metadata)]
            if not allowed:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            # FAISS skips the other rows itself: the top k of what passes, exactly.
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
            total = len(allowed)
        scores, rows = self.index.search(unit_rows([vector]), min(k, total), params=params)
        found = rows[0] >= 0
        rows, scores = rows[0][found], scores[0][found]
        # FAISS returns equal scores in heap order; keep them in row (insertion) order.
        order = np.lexsort((rows, -scores))
        return rows[order], scores[order]

    def similarity_search_with_score_by_vector(
        self, embedding: Sequence[float], k: int = 4, *, filter: MetadataFilter | None = None
    ) -> list[tuple[Document, float]]:
        """The ``k`` documents nearest ``embedding`` with their cosine, best first."""
        with self._lock:
            rows, scores = self._search(embedding, k, filter)
            return [
                (_copy(self._documents[row]), float(score))
                for row, score in zip(rows, scores, strict=True)
            ]

    def similarity_search_by_vector(
        self, embedding: Sequence[float], k: int = 4, *, filter: MetadataFilter | None = None
    ) -> list[Document]:
        hits = self.similarity_search_with_score_by_vector(embedding, k, filter=filter)
        return [doc for doc, _ in hits]

    def similarity_search_with_score(
        self, query: str, k: int = 4, *, filter: MetadataFilter | None = None
    ) -> list[tuple[Document, float]]:
        vector = self._embeddings.embed_query(query)
        return self.similarity_search_with_score_by_vector(vector, k, filter=filter)

    def similarity_search(
        self, query: str, k: int = 4, *, filter: MetadataFilter | None = None
    ) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter=filter)]

    def max_marginal_relevance_search_with_score_by_vector(
        self,
        embedding: Sequence[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        *,
        filter: MetadataFilter | None = None,
    ) -> list[tuple[Document, float]]:
        """MMR over the ``fetch_k`` nearest documents: ``k`` of them, each with its
        cosine to ``embedding``, in the order MMR chose them."""
        with self._lock:
            rows, scores = self._search(embedding, max(k, fetch_k), filter)
            if not rows.size:
                return []
            # langchain-core's MMR, the one langchain-community's FAISS called: indexes
            # saved before answer with the same picks.
            chosen = maximal_marginal_relevance(
                unit_rows([embedding]),
                self.index.reconstruct_batch(rows),
                k=k,
                lambda_mult=lambda_mult,
            )
            return [(_copy(self._documents[rows[i]]), float(scores[i])) for i in chosen]

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: Sequence[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        *,
        filter: MetadataFilter | None = None,
    ) -> list[Document]:
        hits = self.max_marginal_relevance_search_with_score_by_vector(
            embedding, k, fetch_k, lambda_mult, filter=filter
        )
        return [doc for doc, _ in hits]

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        *,
        filter: MetadataFilter | None = None,
    ) -> list[Document]:
        return self.max_marginal_relevance_search_by_vector(
            self._embeddings.embed_query(query), k, fetch_k, lambda_mult, filter=filter
        )

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        # langchain-core wants relevance in [0, 1], 1 most similar. Its inner-product
        # function turns a cosine of 0.9 into 0.1 (the FAISS score bug that
        # langchain-community never fixed); here relevance is the cosine itself, with
        # a negative cosine (opposite meaning) as irrelevant as an orthogonal one.
        return _cosine_relevance


def _cosine_relevance(cosine: float) -> float:
    return min(1.0, max(0.0, cosine))


def _copy(document: Document, *, id: str | None = None) -> Document:
    """A Document (with ``id`` if given) one side may change without changing the other."""
    return Document(
        id=id or document.id, page_content=document.page_content, metadata=dict(document.metadata)
    )


def _matcher(filter: MetadataFilter) -> Callable[[dict[str, Any]], bool]:
    """A function of metadata from a filter: a mapping of field to a value (equal) or
    to a list, tuple or set of values (any of), all fields at once; or a function."""
    if callable(filter):
        return filter
    if not isinstance(filter, Mapping):
        raise TypeError(f"A filter is a mapping or a function of metadata, not {filter!r}")
    operators = [key for key in filter if str(key).startswith("$")]
    if operators:
        raise ValueError(
            f"Filter operators such as {operators[0]} are not supported: pass a function "
            f"of the metadata instead, e.g. filter=lambda m: m.get('views', 0) > 1000"
        )
    wanted: dict[str, Iterable[Any]] = {
        key: value if isinstance(value, list | tuple | set | frozenset) else [value]
        for key, value in filter.items()
    }
    return lambda metadata: all(metadata.get(key) in values for key, values in wanted.items())
