"""The response cache behind the ``cache: PATH`` setting: one SQLite file that answers a
model call seen before (same prompt, same model settings) without sending it.

Owns the file's format::

    header      application_id 0x72636C63 ("rclc"), user_version = SCHEMA_VERSION
    responses   prompt TEXT, llm_string TEXT, generations TEXT (JSON), primary key
                (prompt, llm_string): the two strings langchain-core keys a cache with

A row's ``generations`` is a JSON list, one object per generation::

    {"class": "ChatGeneration", "generation_info": {...} | null,
     "message": {"type": "ai", "data": {...AIMessage fields...}}}
    {"class": "Generation", "text": "...", "generation_info": {...} | null}

Nothing is pickled and nothing is loaded by class path: a row names its class, and only
the classes in :data:`GENERATIONS` and :data:`MESSAGES` are built from it. A reply that
does not fit this format (another message class, a value that is not JSON) is not
cached; a row that does not read back is a miss, and the next reply replaces it.

The file is checked when it is opened. A file that is not SQLite, another program's
database, a cache written by an earlier reelcal (langchain-community's ``SQLiteCache``,
table ``full_llm_cache``) or a cache of another schema version raises
:class:`~pipeline.errors.CacheFileError`, one line that names the fix. Writers from
several threads (the engine sends calls at once) and processes share the file: each
operation opens its own connection, every write is one ``BEGIN IMMEDIATE`` transaction,
and a writer waits up to :data:`BUSY_TIMEOUT` seconds for another. The file keeps
SQLite's default rollback journal: switching a new file to WAL races with a second
opener (``database is locked``), and reads and writes here take a millisecond.

Example:
    .. code-block:: python

        cache = ResponseCache("cache/responses.sqlite")
        model = model.model_copy(update={"cache": cache})   # what with_response_cache does
"""

# Written here rather than imported: langchain-community's SQLiteCache is in a package its
# maintainers have sunset (archived), and langchain-core ships only the in-memory cache.

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import (
    ChatGeneration,
    ChatGenerationChunk,
    Generation,
    GenerationChunk,
)

from pipeline.errors import CacheFileError

logger = logging.getLogger("reelcal")

#: The file's format version (SQLite's ``user_version``); bump it when rows change shape.
SCHEMA_VERSION = 1
#: Marks the file as a reelcal response cache (SQLite's ``application_id``): "rclc".
APPLICATION_ID = int.from_bytes(b"rclc", "big")
#: Seconds a connection waits for another one's write before it fails.
BUSY_TIMEOUT = 30.0
#: The table langchain-community's SQLiteCache writes (the cache's format before this one).
OLD_TABLE = "full_llm_cache"

#: The generation classes a row may name, by class name.
GENERATIONS: dict[str, type[Generation]] = {
    cls.__name__: cls for cls in (Generation, GenerationChunk, ChatGeneration, ChatGenerationChunk)
}
#: The message classes a chat generation's row may hold, by their ``type`` field.
MESSAGES: dict[str, type[BaseMessage]] = {"ai": AIMessage, "AIMessageChunk": AIMessageChunk}

_CREATE = """
CREATE TABLE responses (
    prompt TEXT NOT NULL,
    llm_string TEXT NOT NULL,
    generations TEXT NOT NULL,
    PRIMARY KEY (prompt, llm_string)
)
"""


class ResponseCache(BaseCache):
    """A langchain-core cache in a SQLite file of JSON rows (see the module docstring).

    Opening checks the file, or creates it with its folder.

    Raises:
        CacheFileError: the file is not a reelcal response cache of this schema version.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._write_lock = _write_lock(self.path.resolve())
        self._prepare()

    # ------------------------------------------------------------------ the BaseCache API
    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT generations FROM responses WHERE prompt = ? AND llm_string = ?",
                (prompt, llm_string),
            ).fetchone()
        if row is None:
            return None
        try:
            return decode_generations(row[0])
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning(
                "A response cache row of %s does not read back (%s): asking.", self.path, exc
            )
            return None

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        try:
            text = encode_generations(return_val)
        except (ValueError, TypeError) as exc:
            logger.warning("A reply is not cached: %s", exc)
            return
        with self._writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO responses (prompt, llm_string, generations) "
                "VALUES (?, ?, ?)",
                (prompt, llm_string, text),
            )

    def clear(self, **kwargs: Any) -> None:
        with self._writing() as db:
            db.execute("DELETE FROM responses")

    # async variants: BaseCache runs the methods above in an executor

    # ------------------------------------------------------------------ the file
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own for one operation, closed after it: threads never share
        one. Autocommit, so a read holds no lock once its statement is done."""
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)) as db:
            yield db

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. ``BEGIN IMMEDIATE`` takes the write lock before reading
        anything, so two writers queue (up to BUSY_TIMEOUT) instead of deadlocking, which
        a read lock upgraded to a write lock can; an error rolls back (closing the
        connection does). The path's thread lock spares this process's writers SQLite's
        polling."""
        with self._write_lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")

    def _prepare(self) -> None:
        """Create the file, or check that it is a cache of this schema version."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._writing() as db:  # two runs creating it at once: one at a time
                self._check_or_create(db)
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                raise CacheFileError(
                    f"The cache file {self.path} is not a reelcal response cache (not an "
                    f"SQLite file): set cache to a new file path."
                ) from None
            raise CacheFileError(
                f"Cannot open the cache file {self.path} ({exc}): check the path and its "
                f"permissions, or set cache to another file path."
            ) from None
        except OSError as exc:
            raise CacheFileError(
                f"Cannot create the folder of the cache file {self.path} ({exc.strerror}): "
                f"set cache to a writable file path."
            ) from None

    def _check_or_create(self, db: sqlite3.Connection) -> None:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise CacheFileError(
                    f"The cache file {self.path} has format {version}, newer than this "
                    f"reelcal reads ({SCHEMA_VERSION}): upgrade reelcal or set cache to "
                    f"another file path."
                )
            if version < SCHEMA_VERSION:
                raise CacheFileError(
                    f"The cache file {self.path} has an older format ({version}, this "
                    f"reelcal reads {SCHEMA_VERSION}): delete it (the cache is rebuilt on "
                    f"the next run) or set cache to another file path."
                )
            return
        if app_id == 0 and OLD_TABLE in tables:
            raise CacheFileError(
                f"The cache file {self.path} was written by an earlier reelcal "
                f"(langchain-community's SQLiteCache), which this one does not read: "
                f"delete it (the cache is rebuilt on the next run) or set cache to a new "
                f"file path."
            )
        if app_id != 0 or tables:
            raise CacheFileError(
                f"The cache file {self.path} is not a reelcal response cache (an SQLite "
                f"database of something else): set cache to a new file path."
            )
        db.execute(_CREATE)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


_WRITE_LOCKS: dict[Path, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(path: Path) -> threading.Lock:
    """One lock per file for the whole process, shared by every cache object on it."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(path, threading.Lock())


# ---------------------------------------------------------------------- rows
def encode_generations(generations: Sequence[Generation]) -> str:
    """A row's JSON text for ``generations``.

    Raises:
        ValueError: a class outside :data:`GENERATIONS` / :data:`MESSAGES`.
        TypeError: a value that is not JSON (such as an object in ``additional_kwargs``).
    """
    rows: list[dict[str, Any]] = []
    for generation in generations:
        name = type(generation).__name__
        if GENERATIONS.get(name) is not type(generation):
            raise ValueError(f"{name} is not a generation class the cache stores")
        row: dict[str, Any] = {"class": name, "generation_info": generation.generation_info}
        if isinstance(generation, ChatGeneration):
            message = generation.message
            if MESSAGES.get(message.type) is not type(message):
                raise ValueError(
                    f"{type(message).__name__} is not a message class the cache stores"
                )
            row["message"] = {"type": message.type, "data": message.model_dump()}
        else:
            row["text"] = generation.text
        rows.append(row)
    return json.dumps(rows, ensure_ascii=False, allow_nan=False)


def decode_generations(text: str) -> list[Generation]:
    """The generations of a row's JSON text; only allow-listed classes are built.

    Raises:
        ValueError, TypeError, KeyError: text that :func:`encode_generations` did not write.
    """
    rows = json.loads(text)
    if not isinstance(rows, list):
        raise TypeError("a row is not a JSON list")
    generations: list[Generation] = []
    for row in rows:
        cls = GENERATIONS[row["class"]]
        info = row.get("generation_info")
        if issubclass(cls, ChatGeneration):
            message = row["message"]
            message_cls = MESSAGES[message["type"]]
            generations.append(cls(message=message_cls(**message["data"]), generation_info=info))
        else:
            generations.append(cls(text=row["text"], generation_info=info))
    return generations
