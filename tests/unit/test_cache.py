"""The opt-in response cache (``cache: PATH``): a rerun of identical prompts is free."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk
from scripted import (
    FIXED_RETRIEVER,
    SCRIPTED_SCRIPT_WORDS,
    ScriptedChatModel,
    ScriptedToolModel,
    rows_for,
)

from pipeline.config import Settings
from pipeline.errors import CacheFileError
from pipeline.generation.chains import generate_calendar
from pipeline.models.cache import SCHEMA_VERSION, ResponseCache
from pipeline.models.chat import with_response_cache

pytestmark = pytest.mark.usefixtures("no_backoff")


def _run(model, tmp_path, run_id: str, **overrides):
    settings = Settings(
        output_dir=tmp_path,
        context_window=16_385,
        max_output_tokens=4096,
        tokens_per_day=120,
        max_concurrency=1,
        script_words=SCRIPTED_SCRIPT_WORDS,
        **overrides,
    )
    return generate_calendar(
        "2026-02",
        ["AI agents"],
        "AI tools",
        model=model,
        settings=settings,
        retriever=FIXED_RETRIEVER,
        run_id=run_id,
    )


def test_a_rerun_of_identical_prompts_is_answered_from_the_cache(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cache = tmp_path / "cache" / "responses.sqlite"
    first = _run(model, tmp_path, "first", cache=cache)
    sent = len(model.prompts)
    assert first.is_complete and sent and not any(u.cached for u in first.usage)

    second = _run(model, tmp_path, "second", cache=cache)
    assert len(model.prompts) == sent, "a cached prompt reached the model"
    assert second.is_complete and all(u.cached for u in second.usage)
    assert second.total_input_tokens == second.total_output_tokens == 0
    assert "from the cache" in second.usage_summary()
    assert [p.title for p in second.days] == [p.title for p in first.days]
    assert model.cache is None, "the caller's model object was changed"


def test_without_the_setting_nothing_is_cached(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    _run(model, tmp_path, "one")
    sent = len(model.prompts)
    _run(model, tmp_path, "two")
    assert len(model.prompts) == 2 * sent


def test_the_cache_holds_json_not_pickles(tmp_path):
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    cache = tmp_path / "responses.sqlite"
    _run(model, tmp_path, "json", cache=cache)
    with closing(sqlite3.connect(cache)) as db:
        stored = [row[0] for row in db.execute("SELECT generations FROM responses")]
    assert len(stored) == len(model.prompts)
    for text in stored:
        (row,) = json.loads(text)
        assert row["class"] == "ChatGeneration" and row["message"]["type"] == "ai"
        assert row["message"]["data"]["content"].strip()  # the reply's text, readable as is


def test_a_tool_call_reply_is_answered_from_the_cache_too(tmp_path):
    model = ScriptedToolModel()
    cache = tmp_path / "responses.sqlite"
    first = _run(model, tmp_path, "first", cache=cache)
    sent = len(model.prompts)
    second = _run(model, tmp_path, "second", cache=cache)
    assert len(model.prompts) == sent and all(u.cached for u in second.usage)
    assert [p.title for p in second.days] == [p.title for p in first.days]


# --------------------------------------------------------------------- the file
def _reply(text: str, **fields) -> list[ChatGeneration]:
    return [ChatGeneration(message=AIMessage(content=text, **fields))]


def test_a_reply_reads_back_as_it_was_written(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    reply = _reply(
        "",
        tool_calls=[{"name": "calendar_days", "args": {"days": [{"lc": 1}]}, "id": "c1"}],
        usage_metadata={"input_tokens": 9, "output_tokens": 4, "total_tokens": 13},
        response_metadata={"finish_reason": "tool_calls"},
    ) + [ChatGenerationChunk(message=AIMessageChunk(content="a"), generation_info={"n": 1})]
    cache.update("prompt", "llm", reply)
    assert ResponseCache(tmp_path / "c.sqlite").lookup("prompt", "llm") == reply
    assert cache.lookup("prompt", "other llm") is None


def test_threads_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "c.sqlite"
    shared = ResponseCache(path)

    def write(worker: int) -> None:
        # half the workers share one cache object, half open the file as another run would
        cache = shared if worker % 2 else ResponseCache(path)
        for i in range(25):
            cache.update(f"prompt {worker}-{i}", "llm", _reply(f"reply {worker}-{i}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(8)))
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT count(*) FROM responses").fetchone()[0] == 8 * 25
    assert all(
        shared.lookup(f"prompt {w}-{i}", "llm")[0].text == f"reply {w}-{i}"
        for w in range(8)
        for i in range(25)
    )


def _old_sqlite_cache(path):
    """A file as langchain-community's SQLiteCache left it (its table, one JSON row)."""
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "CREATE TABLE full_llm_cache (prompt VARCHAR NOT NULL, llm VARCHAR NOT NULL, "
            "idx INTEGER NOT NULL, response VARCHAR, PRIMARY KEY (prompt, llm, idx))"
        )
        db.execute("INSERT INTO full_llm_cache VALUES ('p', 'l', 0, '{\"lc\": 1}')")
        db.commit()


def test_a_cache_of_the_earlier_sqlitecache_is_refused_before_any_call(tmp_path):
    path = tmp_path / "responses.sqlite"
    _old_sqlite_cache(path)
    model = ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days))
    with pytest.raises(CacheFileError, match="SQLiteCache.*delete it") as caught:
        _run(model, tmp_path, "old", cache=path)
    assert "\n" not in str(caught.value) and caught.value.exit_code == 2
    assert model.prompts == [], "a model call was sent"
    with closing(sqlite3.connect(path)) as db:  # the file is left as it was
        assert db.execute("SELECT count(*) FROM full_llm_cache").fetchone()[0] == 1
    path.unlink()
    assert _run(model, tmp_path, "after", cache=path).is_complete


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param(lambda p: p.write_text("day,title\n1,x\n"), "not an SQLite file", id="text"),
        pytest.param(
            lambda p: _sql(p, "CREATE TABLE notes (body TEXT)"), "something else", id="other-db"
        ),
        pytest.param(
            lambda p: (ResponseCache(p), _sql(p, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")),
            "newer than this reelcal reads",
            id="newer-format",
        ),
    ],
)
def test_a_file_that_is_not_this_cache_is_refused_with_the_fix(tmp_path, setup, message):
    path = tmp_path / "responses.sqlite"
    setup(path)
    before = path.read_bytes()
    with pytest.raises(CacheFileError, match=message):
        with_response_cache(ScriptedChatModel(), Settings(cache=path))
    assert path.read_bytes() == before


def _sql(path, statement: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute(statement)
        db.commit()


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('[{"class": "ChatPromptTemplate", "text": "x"}]', id="other-class"),
        pytest.param(
            '[{"class": "ChatGeneration", "message": {"type": "human", "data": {"content": "x"}}}]',
            id="other-message",
        ),
    ],
)
def test_a_row_that_does_not_read_back_is_a_miss_and_is_replaced(tmp_path, stored):
    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path)
    cache.update("p", "l", _reply("first"))
    _sql(path, f"UPDATE responses SET generations = '{stored}'")
    assert cache.lookup("p", "l") is None
    cache.update("p", "l", _reply("again"))
    assert cache.lookup("p", "l")[0].text == "again"


def test_a_reply_that_is_not_json_is_not_cached(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.update("p", "l", _reply("x", additional_kwargs={"parsed": object()}))
    cache.update("p2", "l", [ChatGeneration(message=HumanMessage(content="x"))])
    assert cache.lookup("p", "l") is None and cache.lookup("p2", "l") is None
