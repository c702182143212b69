"""Saving and loading a :class:`~.vectorstore.FaissStore` safely: no pickle, checksummed,
atomic.

Owns the on-disk format of an index folder::

    index.faiss     the FAISS index (faiss.write_index format; IndexFlatIP)
    docstore.json   [{id, page_content, metadata}] in index order
    manifest.json   format version, embeddings key, dimension, metric, chunk
                    settings, counts, sha256 of the two files above, times

Similarity is cosine: the store keeps unit vectors (L2-normalised by
:class:`~.vectorstore.UnitEmbeddings`) in an inner-product index. The manifest records
this (``"metric": "cosine"``). Folders written while reelcal used langchain-community's
``FAISS`` have this same format and load unchanged.

langchain-community's ``FAISS.load_local`` unpickles ``index.pkl`` (a tampered file can
run code); this module never unpickles anything. :func:`load_store` checks the manifest
before trusting anything and refuses, with a one-line :class:`VectorStoreError`
that says what to do, a folder with missing files, changed checksums, or another
embedding model or dimension. :func:`save_store` writes a new folder beside the
old one and swaps the two, so a crash mid-write leaves the old index usable.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from pipeline.errors import VectorStoreError
from pipeline.knowledge.vectorstore import FaissStore

FORMAT = "reelcal-faiss"
FORMAT_VERSION = 1
INDEX_FILE = "index.faiss"
DOCSTORE_FILE = "docstore.json"
MANIFEST_FILE = "manifest.json"


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when there is none (nothing is verified here)."""
    path = Path(folder) / MANIFEST_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------- save
def save_store(
    vectorstore: FaissStore,
    folder: str | Path,
    *,
    embeddings_key: str,
    chunk_settings: dict[str, Any],
) -> dict[str, Any]:
    """Write ``vectorstore`` to ``folder`` atomically; returns the manifest written."""
    import faiss

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    documents, index = vectorstore.documents, vectorstore.index
    if index is None:
        raise VectorStoreError(
            f"Cannot save to {folder}: the store has no documents and no dimension yet; "
            f"add documents (or create it with dimension=...) first."
        )
    if len(documents) != index.ntotal:
        raise VectorStoreError(
            f"Cannot save to {folder}: the store's index has {index.ntotal} vectors for "
            f"{len(documents)} documents (they disagree); rebuild it."
        )
    index_bytes = faiss.serialize_index(index).tobytes()
    try:
        docstore_bytes = json.dumps(
            [
                {"id": d.id, "page_content": d.page_content, "metadata": d.metadata}
                for d in documents
            ],
            ensure_ascii=False,
            indent=0,
        ).encode("utf-8")
    except TypeError as exc:
        raise VectorStoreError(
            f"Cannot save to {folder}: document metadata must be JSON values ({exc}); "
            f"convert dates and other objects to strings first."
        ) from None
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    previous = read_manifest(folder) or {}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "embeddings": embeddings_key,
        "dimension": int(index.d),
        "metric": "cosine",
        "normalization": (
            "vectors L2-normalised by reelcal (pipeline.knowledge.vectorstore.UnitEmbeddings)"
        ),
        "faiss_index": type(index).__name__,
        "chunking": dict(chunk_settings),
        "counts": {
            "chunks": len(documents),
            "sources": len({d.metadata.get("source_id") for d in documents}),
            "creators": len({d.metadata.get("creator") for d in documents}),
        },
        "files": {
            INDEX_FILE: {"sha256": _sha256(index_bytes), "bytes": len(index_bytes)},
            DOCSTORE_FILE: {"sha256": _sha256(docstore_bytes), "bytes": len(docstore_bytes)},
        },
        "created_at": previous.get("created_at", now),
        "updated_at": now,
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    try:
        for name, data in (
            (INDEX_FILE, index_bytes),
            (DOCSTORE_FILE, docstore_bytes),
            (MANIFEST_FILE, json.dumps(manifest, indent=2).encode("utf-8")),
        ):
            with open(staging / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(staging, 0o755)
        _swap_in(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # after a swap: the old index
    return manifest


def _swap_in(staging: Path, folder: Path) -> None:
    """Put ``staging`` at ``folder``; the old folder ends up at ``staging``."""
    if not folder.exists():
        os.rename(staging, folder)
        return
    if _exchange(staging, folder):
        return
    # No atomic exchange here: move the old folder aside for the instant of the swap.
    aside = folder.with_name(f".{folder.name}.previous")
    shutil.rmtree(aside, ignore_errors=True)
    os.rename(folder, aside)
    os.rename(staging, folder)
    os.rename(aside, staging)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux renameat2(RENAME_EXCHANGE); False if unavailable."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


# --------------------------------------------------------------------- load
def verify_store(
    folder: str | Path, *, embeddings_key: str
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Check an index folder without loading any model: the files, the manifest, the
    embeddings key it was built with and the checksums. Returns the manifest and the
    verified file contents.

    Raises:
        VectorStoreError: the message names the folder and the rebuild command.
    """
    folder = Path(folder)
    rebuild = (
        f"rebuild it with `reelcal index <transcripts> --out {folder} "
        f"--embeddings {embeddings_key}`"
    )
    if not folder.is_dir():
        aside = folder.with_name(f".{folder.name}.previous")
        if aside.is_dir():
            raise VectorStoreError(
                f"No vector store at {folder}, but an interrupted save left {aside}: "
                f"rename it back to {folder.name} or {rebuild}."
            )
        raise VectorStoreError(f"No vector store at {folder}: {rebuild}.")
    for name in (MANIFEST_FILE, INDEX_FILE, DOCSTORE_FILE):
        if not (folder / name).is_file():
            raise VectorStoreError(
                f"Vector store {folder} is incomplete ({name} is missing): {rebuild}."
            )
    manifest = read_manifest(folder)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise VectorStoreError(
            f"Vector store {folder} has no valid reelcal manifest.json: {rebuild}."
        )
    if manifest.get("format_version") != FORMAT_VERSION:
        raise VectorStoreError(
            f"Vector store {folder} has format version {manifest.get('format_version')!r}, "
            f"this reelcal "
            f"reads version {FORMAT_VERSION}: {rebuild}."
        )
    built_with = manifest.get("embeddings")
    if built_with != embeddings_key:
        raise VectorStoreError(
            f"Vector store {folder} was built with embeddings {built_with!r}, "
            f"not {embeddings_key!r}: "
            f"set embeddings: {built_with} (REELCAL_EMBEDDINGS), or rebuild it with "
            f"`reelcal index <transcripts> --out {folder} --embeddings {embeddings_key}`."
        )
    blobs = {}
    for name in (INDEX_FILE, DOCSTORE_FILE):
        data = (folder / name).read_bytes()
        expected = (manifest.get("files") or {}).get(name, {}).get("sha256")
        if _sha256(data) != expected:
            raise VectorStoreError(
                f"Vector store {folder}: {name} does not match its checksum in manifest.json "
                f"(changed or corrupted): {rebuild}."
            )
        blobs[name] = data
    return manifest, blobs


def load_store(
    folder: str | Path,
    embeddings: Embeddings | Callable[[], Embeddings],
    *,
    embeddings_key: str,
    check_dimension: bool = True,
) -> FaissStore:
    """Load an index folder written by :func:`save_store`, verifying it first.

    ``embeddings`` may be a function that loads them: it is called only once the folder
    has passed :func:`verify_store`, so a bad folder fails before a model loads.

    Raises:
        VectorStoreError: missing, corrupted or tampered files, another embedding
            model or dimension; the message names the folder and what to do.
    """
    import faiss

    folder = Path(folder)
    rebuild = (
        f"rebuild it with `reelcal index <transcripts> --out {folder} "
        f"--embeddings {embeddings_key}`"
    )
    manifest, blobs = verify_store(folder, embeddings_key=embeddings_key)
    if not isinstance(embeddings, Embeddings):
        embeddings = embeddings()
    try:
        index = faiss.deserialize_index(np.frombuffer(blobs[INDEX_FILE], dtype=np.uint8))
        records = json.loads(blobs[DOCSTORE_FILE].decode("utf-8"))
        documents = [
            Document(id=str(r["id"]), page_content=r["page_content"], metadata=dict(r["metadata"]))
            for r in records
        ]
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise VectorStoreError(
            f"Vector store {folder} cannot be read ({type(exc).__name__}): {rebuild}."
        ) from None
    dimension = manifest.get("dimension")
    if index.d != dimension or index.ntotal != len(documents):
        raise VectorStoreError(
            f"Vector store {folder} is inconsistent (index has {index.ntotal} vectors of {index.d} "
            f"dimensions, manifest says {dimension}, docstore has {len(documents)} documents): "
            f"{rebuild}."
        )
    if check_dimension:
        probe = len(embeddings.embed_query("dimension probe"))
        if probe != dimension:
            raise VectorStoreError(
                f"Vector store {folder} holds {dimension}-dimensional vectors but embeddings "
                f"{embeddings_key!r} give {probe}: use the embeddings it was built with or "
                f"{rebuild}."
            )
    try:
        return FaissStore(embeddings, index=index, documents=documents)
    except ValueError as exc:
        raise VectorStoreError(
            f"Vector store {folder} cannot be used ({exc}): {rebuild}."
        ) from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
