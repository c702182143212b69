"""Transcript files -> LangChain ``Document`` chunks with mentor metadata.

Owns reading every transcript format reelcal accepts and cutting the text into
token-sized chunks:

- ``.txt`` / ``.md``: the whole file is one transcript.
- ``.srt`` / ``.vtt``: subtitles; cue numbers, timestamps, ``WEBVTT``/``NOTE``
  blocks and inline tags are stripped, repeated caption lines collapsed.
- ``.json``: one record, a list of records, or Whisper output ``{text, segments}``.
- ``.jsonl``: one record a line.
- ``.csv``: one record a row; columns named like the record fields.

A record has the fields ``reel_id, creator, url, hook, caption, hashtags, views,
likes, posted_at, niche`` and its text in ``transcript`` (or ``text``). Files that
carry no creator get ``creator=`` from the caller, else the name of the sub-folder
they were found in (``mentors/<creator>/reel.txt``), else the file stem.

A file that cannot be read or parsed is skipped and reported with the reason;
it never stops the others. Each chunk's metadata carries ``source_id`` (the
reel_id, or ``<creator>:<file name>#<record index>``), ``chunk`` (its index) and
``content_hash`` (sha256 of source_id and chunk text), which indexing uses to
dedupe.

Example:
    .. code-block:: python

        result = load_files(["mentors/"], creator=None)
        result.documents[0].metadata["creator"]
        [(s.path, s.reason) for s in result.skipped]
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from pipeline.errors import ConfigError, IngestError
from pipeline.models.tokens import ensure_tiktoken_cache

SUFFIXES = (".txt", ".md", ".srt", ".vtt", ".json", ".jsonl", ".csv")
RECORD_FIELDS = (
    "reel_id",
    "creator",
    "url",
    "hook",
    "caption",
    "hashtags",
    "views",
    "likes",
    "posted_at",
    "niche",
)
ENCODING = "cl100k_base"
#: all-MiniLM-L6-v2 reads at most 256 word pieces; 200 cl100k tokens stay under it.
DEFAULT_CHUNK_TOKENS = 200
#: Tokens shared by neighbouring chunks, so a sentence cut at a boundary is whole in one.
DEFAULT_CHUNK_OVERLAP = 40
# Paragraphs, lines, sentence ends, words, characters: chunks end on a sentence
# whenever one fits.
_SEPARATORS = ["\n\n", "\n", r"(?<=[.!?])\s+", " ", ""]


@dataclass(frozen=True)
class FileReport:
    """What one readable file gave: its records and chunks."""

    path: str
    records: int
    chunks: int


@dataclass(frozen=True)
class SkippedFile:
    """A file that was not read, and why (one line that says the fix)."""

    path: str
    reason: str


@dataclass
class IngestResult:
    """The chunks of every readable file, and a report per file."""

    documents: list[Document] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


# --------------------------------------------------------------------- public API
def load_files(
    paths: Iterable[str | Path] | str | Path,
    *,
    creator: str | None = None,
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS,
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
) -> IngestResult:
    """Read transcript files and folders (walked recursively) into chunks.

    Raises:
        ConfigError: chunk settings out of range. Unreadable files are skipped, not raised.
    """
    splitter = make_splitter(chunk_tokens=chunk_tokens, chunk_overlap=chunk_overlap)
    result = IngestResult()
    for path, default_creator in _expand(paths):
        try:
            records = read_records(path, default_creator=creator or default_creator)
        except IngestError as exc:
            result.skipped.append(SkippedFile(str(path), str(exc)))
            continue
        if not records:
            result.skipped.append(
                SkippedFile(
                    str(path), f"{path.name} holds no transcript text: add some or leave it out."
                )
            )
            continue
        chunks = chunk_documents(records, splitter=splitter)
        result.documents.extend(chunks)
        result.files.append(FileReport(str(path), len(records), len(chunks)))
    return result


def make_splitter(
    *, chunk_tokens: int = DEFAULT_CHUNK_TOKENS, chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
) -> Any:
    """A sentence-aware splitter that measures chunks in cl100k_base tokens."""
    if chunk_tokens < 16:
        raise ConfigError(
            f"chunk_tokens={chunk_tokens} is too small: use 16 or more (default {DEFAULT_CHUNK_TOKENS})."
        )
    if not 0 <= chunk_overlap < chunk_tokens:
        raise ConfigError(
            f"chunk_overlap={chunk_overlap} must be between 0 and chunk_tokens-1 "
            f"({chunk_tokens - 1}): lower it (default 40)."
        )
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    ensure_tiktoken_cache()  # the splitter loads cl100k_base through tiktoken: offline cache
    return RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name=ENCODING,
        disallowed_special=(),
        chunk_size=chunk_tokens,
        chunk_overlap=chunk_overlap,
        separators=_SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        strip_whitespace=True,
    )


def chunk_documents(records: list[Document], *, splitter: Any) -> list[Document]:
    """Split whole-transcript Documents into chunks carrying ``chunk`` and ``content_hash``."""
    chunks: list[Document] = []
    for record in records:
        source_id = record.metadata["source_id"]
        for index, text in enumerate(splitter.split_text(record.page_content)):
            digest = hashlib.sha256(f"{source_id}\n{text}".encode()).hexdigest()
            meta = {**record.metadata, "chunk": index, "content_hash": digest}
            chunks.append(Document(page_content=text, metadata=meta))
    return chunks


def read_records(path: Path, *, default_creator: str) -> list[Document]:
    """One whole-transcript Document per record in ``path`` (not yet chunked).

    Raises:
        IngestError: the file cannot be read or parsed; the message names it and the fix.
    """
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise IngestError(f"{path.name} is not UTF-8 text: re-save it as UTF-8.") from None
    except OSError as exc:
        raise IngestError(
            f"{path.name} cannot be read ({exc.strerror}): check the path and permissions."
        ) from None
    if suffix in (".txt", ".md"):
        raw = [{"transcript": text}]
    elif suffix in (".srt", ".vtt"):
        raw = [{"transcript": subtitles_to_text(text)}]
    elif suffix == ".json":
        raw = _json_records(path, text)
    elif suffix == ".jsonl":
        raw = _jsonl_records(path, text)
    elif suffix == ".csv":
        raw = _csv_records(path, text)
    else:
        raise IngestError(f"{path.name}: unsupported file type; use one of {', '.join(SUFFIXES)}.")
    docs = []
    for index, rec in enumerate(raw):
        doc = _record_document(rec, path=path, index=index, default_creator=default_creator)
        if doc is not None:
            docs.append(doc)
    return docs


# --------------------------------------------------------------------- formats
_TIMESTAMP = re.compile(r"^\s*(\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->")
_INLINE_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")


def subtitles_to_text(text: str) -> str:
    """The spoken text of an SRT or WebVTT file, one space between cues."""
    lines: list[str] = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    for block in blocks:
        rows = [r.strip() for r in block.strip().split("\n") if r.strip()]
        if not rows or rows[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        stamp = next((i for i, r in enumerate(rows) if _TIMESTAMP.match(r)), None)
        if stamp is None:
            continue  # not a cue (a stray header or a broken block)
        for row in rows[stamp + 1 :]:
            row = _INLINE_TAG.sub("", row).strip()
            if row and (not lines or lines[-1] != row):  # auto-captions repeat lines
                lines.append(row)
    return " ".join(lines)


def _json_records(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"{path.name} is not valid JSON (line {exc.lineno}): fix it or leave it out."
        ) from None
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(item, dict) for item in items):
        raise IngestError(f"{path.name} must hold a record or a list of records (JSON objects).")
    return [_whisper(item) for item in items]


def _whisper(item: dict[str, Any]) -> dict[str, Any]:
    """Whisper output ``{text, segments: [{text, start, end}]}`` -> a record."""
    if item.get("transcript") or not isinstance(item.get("segments"), list):
        return item
    if not item.get("text"):
        parts = (s.get("text", "") for s in item["segments"] if isinstance(s, dict))
        item = {**item, "text": " ".join(p.strip() for p in parts if p and p.strip())}
    return {k: v for k, v in item.items() if k != "segments"}


def _jsonl_records(path: Path, text: str) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise IngestError(
                f"{path.name} line {number} is not valid JSON: fix that line or leave the file out."
            ) from None
        if not isinstance(item, dict):
            raise IngestError(
                f"{path.name} line {number} is not a JSON object: write one record a line."
            )
        records.append(_whisper(item))
    return records


def _csv_records(path: Path, text: str) -> list[dict[str, Any]]:
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = [{(k or "").strip().lower(): v for k, v in row.items()} for row in reader]
    except csv.Error as exc:
        raise IngestError(
            f"{path.name} is not valid CSV ({exc}): fix it or leave it out."
        ) from None
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    if not columns & {"transcript", "text"}:
        raise IngestError(
            f"{path.name} has no 'transcript' or 'text' column: "
            f"name the transcript column 'transcript'."
        )
    return rows


# --------------------------------------------------------------------- records
def _record_document(
    rec: dict[str, Any], *, path: Path, index: int, default_creator: str
) -> Document | None:
    text = rec.get("transcript") or rec.get("text") or ""
    text = re.sub(r"[ \t]+", " ", str(text)).strip()
    if not text:
        return None
    creator = str(rec.get("creator") or default_creator).strip().lstrip("@")
    meta: dict[str, Any] = {key: _clean(key, rec.get(key)) for key in RECORD_FIELDS}
    meta["creator"] = creator
    meta["source_id"] = str(meta.pop("reel_id") or f"{creator}:{path.name}#{index}")
    meta["source_file"] = path.name
    return Document(page_content=text, metadata=meta)


def _clean(key: str, value: Any) -> Any:
    if value is None or value == "":
        return [] if key == "hashtags" else None
    if key in ("views", "likes"):
        try:
            return int(str(value).replace(",", "").replace("_", "").strip())
        except ValueError:
            return None
    if key == "hashtags":
        items = value if isinstance(value, list) else re.split(r"[\s,;]+", str(value))
        return [str(tag).strip() for tag in items if str(tag).strip()]
    return str(value).strip()


def _expand(paths: Iterable[str | Path] | str | Path) -> Iterator[tuple[Path, str]]:
    """Each file to read with its default creator; folders walked recursively, sorted."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    seen: set[Path] = set()
    for given in paths:
        root = Path(given).expanduser()
        if root.is_dir():
            files = sorted(
                p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
            )
            found = [(p, p.parent.name if p.parent != root else p.stem) for p in files]
        else:
            found = [(root, root.stem)]
        for path, creator in found:
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                yield path, creator
