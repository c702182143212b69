"""Building the mentor index: transcripts -> chunks -> embeddings -> a saved index folder.

Owns :func:`build_index` (deduped by ``content_hash``: re-indexing a file adds nothing;
``append=True`` adds only new chunks; ``reelcal index`` calls it), the bundled index
(:func:`bundled_store_dir`, :func:`rebuild_bundled_index`, also
``python -m pipeline.knowledge.index --rebuild-bundled``) and :func:`load_vectorstore`
(the store named by ``Settings``, verified against its manifest). Reading files into
chunks is :mod:`.ingest`; the store is :mod:`.vectorstore`, its folder format :mod:`.store`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from pipeline.bundled import bundled_dir
from pipeline.config import DEFAULT_EMBEDDINGS, Settings
from pipeline.errors import IngestError, ModelCallError, VectorStoreError
from pipeline.knowledge.embeddings import load_embeddings
from pipeline.knowledge.ingest import (
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_TOKENS,
    ENCODING,
    FileReport,
    SkippedFile,
    load_files,
)
from pipeline.knowledge.store import (
    MANIFEST_FILE,
    load_store,
    read_manifest,
    save_store,
    verify_store,
)
from pipeline.knowledge.vectorstore import FaissStore
from pipeline.models.failures import call_with_retries


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
    store: FaissStore | None = None
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

    seen = {d.metadata.get("content_hash") for d in store.documents} if store else set()
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
            [d.page_content for d in new], embeddings, batch_size=batch_size, progress=progress
        )
        if store is None:
            store = FaissStore(embeddings, dimension=vectors.shape[1])
        # add_vectors normalises the rows (cosine); ids are the content hashes.
        store.add_vectors(new, vectors, ids=[d.metadata["content_hash"] for d in new])
    if store is not None and (new or not existing):
        save_store(store, out_dir, embeddings_key=embeddings_key, chunk_settings=chunking)
    report.chunks_added = len(new)
    report.chunks_total = len(store.documents) if store is not None else 0
    report.seconds = time.perf_counter() - started
    return report


def _embed(
    texts: Sequence[str], embeddings: Embeddings, *, batch_size: int, progress: bool
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


def check_vectorstore(settings: Settings) -> None:
    """Raise ``VectorStoreError`` now, before any model loads, if the store named by
    ``settings`` is missing, built with other embeddings, or corrupt."""
    verify_store(settings.vectorstore or bundled_store_dir(), embeddings_key=settings.embeddings)


def load_vectorstore(settings: Settings) -> FaissStore:
    """The store at ``settings.vectorstore`` (the bundled one when unset), verified
    (before the embeddings model loads)."""
    return load_store(
        settings.vectorstore or bundled_store_dir(),
        lambda: load_embeddings(settings.embeddings),
        embeddings_key=settings.embeddings,
    )


# --------------------------------------------------------------------- entry point
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.knowledge.retriever", description=__doc__.splitlines()[0]
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
