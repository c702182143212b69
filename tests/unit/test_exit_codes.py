"""Exit codes and error lines of the ``reelcal`` CLI, one table row per bad input.

The README promises: errors are one line on stderr, bad input exits with 2, a failed run
with 1 (Ctrl-C with 130, covered in test_cli.py). Every row checks the exit code, that
stderr is exactly one ``error: ...`` line containing the expected text, and that no
exception escaped (CliRunner swallows uncaught exceptions, so a missing traceback alone
proves nothing).

No row loads the local LLM or the local embeddings, and none sends a request: hosted
models are ``openai:gpt-4o`` with a fake key, embeddings are ``fake:384``, and every
TCP connection is refused and recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app

runner = CliRunner()
HOSTED = ("-m", "openai:gpt-4o")


# ------------------------------------------------------------------ inputs on disk
def write_config(**settings: object) -> Callable[[Path, pytest.MonkeyPatch], None]:
    def prepare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        lines = [f"{key}: {value}" for key, value in settings.items()]
        (tmp_path / "r.yaml").write_text("\n".join(lines) + "\n")

    return prepare


def fake_store(folder: Path) -> Path:
    """A valid one-document store built with the ``fake:384`` embeddings."""
    from langchain_core.documents import Document
    from langchain_core.embeddings import DeterministicFakeEmbedding

    from pipeline.knowledge.store import save_store
    from pipeline.knowledge.vectorstore import FaissStore

    store = FaissStore(DeterministicFakeEmbedding(size=384), dimension=384)
    store.add_documents(
        [Document(page_content="Open with a hook.", metadata={"creator": "m", "source_id": "a"})]
    )
    save_store(store, folder, embeddings_key="fake:384", chunk_settings={})
    return folder


def garbage_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "manifest.json").write_text("{not json at all")
    (store / "index.faiss").write_bytes(b"\x00" * 64)
    (store / "docstore.json").write_text("[]")


def tampered_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid store, then one byte of index.faiss flipped (its sha256 no longer matches)."""
    index = fake_store(tmp_path / "store") / "index.faiss"
    data = bytearray(index.read_bytes())
    data[-1] ^= 0xFF
    index.write_bytes(bytes(data))


def february_calendar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.calendar import Calendar

    Calendar(year=2026, month=2).save(tmp_path / "feb.json")


def scripted_failing_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """test_cli.py's ``scripted_cli``, with a model whose every writing call after the first
    fails."""
    from langchain_core.documents import Document
    from langchain_core.runnables import RunnableLambda
    from scripted import ScriptedChatModel, rows_for

    from pipeline.generation.month import engine

    writing_calls: list[list[int]] = []  # the outline's calls (the default) come first

    def behaviour(days: list[int], index: int, max_tokens: int) -> str:
        writing_calls.append(days)
        if len(writing_calls) == 1:
            return rows_for(days)
        raise RuntimeError("the provider is down")

    docs = [Document(page_content="Open with a hook.", metadata={"creator": "m", "source_id": "a"})]
    monkeypatch.setattr(
        engine, "load_chat_model", lambda key, settings: ScriptedChatModel(behaviour=behaviour)
    )
    monkeypatch.setattr(
        engine.CalendarEngine, "retriever", property(lambda self: RunnableLambda(lambda _: docs))
    )
    (tmp_path / "r.yaml").write_text(
        f"output_dir: {tmp_path / 'out'}\ncontext_window: 4096\nmax_output_tokens: 1024\n"
        "tokens_per_day: 400\nmax_concurrency: 1\nmax_retries: 0\nscript_words: [5, 250]\n"
    )


# ------------------------------------------------------------------ the table
@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]  # "{tmp}" is replaced by the test's tmp_path
    code: int
    message: str  # a substring of the one stderr line
    absent: str | None = None  # must not appear in the line
    env: dict[str, str | None] = field(default_factory=dict)  # None: unset
    prepare: Callable[[Path, pytest.MonkeyPatch], None] | None = None


CASES = [
    # --- month
    Case("month-13", ("generate", "--month", "2026-13", *HOSTED), 2, "month 13 is not 1 to 12"),
    Case(
        "month-unreadable",
        ("generate", "--month", "Smarch 2026x", *HOSTED),
        2,
        "Cannot read month 'Smarch 2026x'",
    ),
    Case("month-plan", ("plan", "--month", "Foo 2026", *HOSTED), 2, "'March 2026', '2026-03'"),
    # --- model key: unknown provider, no model name
    Case(
        "model-unknown-provider-models",
        ("models", "nosuchprovider:foo"),
        2,
        "Unsupported provider='nosuchprovider'",
    ),
    Case(
        "model-unknown-provider-generate",
        ("generate", "--month", "2026-03", "-m", "nosuchprovider:foo"),
        2,
        "Unsupported provider='nosuchprovider'",
    ),
    Case(
        "model-no-name-plan",
        ("plan", "--month", "2026-03", "-m", "openai"),
        2,
        "is not 'provider:model'",
    ),
    Case(
        "model-no-name-generate",
        ("generate", "--month", "2026-03", "-m", "openai"),
        2,
        "is not 'provider:model'",
    ),
    # --- provider package not installed (langchain-anthropic, langchain-ollama)
    Case(
        "missing-package-anthropic-models",
        ("models", "anthropic:claude-3-5-sonnet-latest"),
        2,
        "pip install langchain-anthropic",
    ),
    Case(
        "missing-package-ollama-plan",
        ("plan", "--month", "2026-03", "-m", "ollama:llama3"),
        2,
        "pip install langchain-ollama",
    ),
    Case(
        "missing-package-anthropic-generate",
        ("generate", "--month", "2026-03", "-m", "anthropic:claude-3-5-sonnet-latest"),
        2,
        "pip install langchain-anthropic",
    ),
    # --- vector store: missing folder, garbage manifest, checksum mismatch
    Case(
        "vectorstore-missing-env-plan",
        ("plan", "--month", "2026-03", *HOSTED),
        2,
        "No vector store at /nonexistent",
        env={"REELCAL_VECTORSTORE": "/nonexistent"},
    ),
    Case(
        "vectorstore-missing-config-generate",
        ("generate", "--month", "2026-03", *HOSTED, "-c", "{tmp}/r.yaml"),
        2,
        "No vector store at /nonexistent",
        env={"REELCAL_VECTORSTORE": None},  # the file's setting, not the default store
        prepare=write_config(vectorstore="/nonexistent"),
    ),
    Case(
        "vectorstore-garbage-manifest-plan",
        ("plan", "--month", "2026-03", *HOSTED),
        2,
        "has no valid reelcal manifest.json",
        env={"REELCAL_VECTORSTORE": "{tmp}/store"},
        prepare=garbage_manifest,
    ),
    Case(
        "vectorstore-checksum-generate",
        ("generate", "--month", "2026-03", *HOSTED),
        2,
        "index.faiss does not match its checksum",
        env={"REELCAL_VECTORSTORE": "{tmp}/store"},
        prepare=tampered_index,
    ),
    # --- --out
    Case(
        "out-unknown-suffix",
        ("generate", "--month", "2026-03", *HOSTED, "--out", "march.docx"),
        2,
        "unknown suffix '.docx'",
    ),
    Case(
        "out-unknown-suffix-regenerate",
        ("regenerate", "{tmp}/feb.json", "--days", "3", *HOSTED, "--out", "feb.docx"),
        2,
        "unknown suffix '.docx'",
        prepare=february_calendar,
    ),
    # --- regenerate --days
    Case("days-not-a-list", ("regenerate", "x.json", "--days", "three"), 2, "like 3,7,12-14"),
    Case("days-zero", ("regenerate", "x.json", "--days", "0"), 2, "Day 0 is not a day"),
    Case(
        "days-not-in-the-month",
        ("regenerate", "{tmp}/feb.json", "--days", "30", *HOSTED),
        2,
        "February 2026 has days 1 to 28",
        prepare=february_calendar,
    ),
    Case(
        "days-reversed-range",
        ("regenerate", "{tmp}/feb.json", "--days", "5-3", *HOSTED),
        2,
        "Cannot regenerate days []",
        prepare=february_calendar,
    ),
    # --- request text
    Case(
        "trend-50kb",
        ("generate", "--month", "2026-03", *HOSTED, "--trend", "x" * 51_200),
        2,
        "Trend 'xxxx",
        absent="rag_token_budget",
    ),
    # --- a run that fails after the first paid call (quiet: no run line, no progress bar)
    Case(
        "failed-run",
        ("generate", "--month", "2026-02", "-c", "{tmp}/r.yaml", "-q"),
        1,
        "Last model error: RuntimeError: the provider is down",
        prepare=scripted_failing_run,
    ),
]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Fake key, embeddings and store; the local LLM, local embeddings and TCP all refuse.

    (Building a ChatOpenAI opens, never connects, a probe socket to read socket options;
    pytest-socket warns about it on stderr, so that one warning is silenced here.)
    """
    import socket

    from pipeline.knowledge import embeddings
    from pipeline.models import chat as models
    from pipeline.models import failures

    sent: list[str] = []

    def refuse(what: str):
        def fail(*args: object, **kwargs: object):
            sent.append(what)
            raise AssertionError(f"a test of bad input reached {what}")

        return fail

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    monkeypatch.setenv("REELCAL_EMBEDDINGS", "fake:384")
    monkeypatch.setenv("REELCAL_VECTORSTORE", str(fake_store(tmp_path / "valid-store")))
    monkeypatch.setenv("REELCAL_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("COLUMNS", "200")  # rich would wrap a long line at 80
    monkeypatch.setattr(failures, "RETRY_BASE_DELAY", 0.0)
    monkeypatch.setattr(models, "load_local_model", refuse("the local LLM"))
    monkeypatch.setattr(embeddings, "_local_embeddings", refuse("the local embeddings"))
    # every TCP connection (httpx, httpx2, aiohttp...) starts with a name lookup
    monkeypatch.setattr(socket, "getaddrinfo", refuse("the network"))
    monkeypatch.setattr(socket, "create_connection", refuse("the network"))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "A test tried to use socket", UserWarning)
        yield sent
    assert sent == [], f"reached {sent}"


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_bad_input_exit_code_and_one_error_line(case: Case, tmp_path, monkeypatch):
    if case.prepare:
        case.prepare(tmp_path, monkeypatch)
    for name, value in case.env.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value.replace("{tmp}", str(tmp_path)))
    args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]

    result = runner.invoke(app, args)

    escaped = result.exception if not isinstance(result.exception, SystemExit) else None
    assert escaped is None, f"uncaught {escaped!r}"
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"stderr is not one line: {lines}"
    assert lines[0].startswith("error: "), lines[0]
    assert case.message in lines[0], lines[0]
    if case.absent:
        assert case.absent not in lines[0], lines[0]
    assert result.exit_code == case.code, lines[0]


def test_failed_run_saved_the_days_it_paid_for(tmp_path, monkeypatch):
    """The failed-run row's partial calendar holds the first call's days."""
    scripted_failing_run(tmp_path, monkeypatch)
    result = runner.invoke(app, ["generate", "--month", "2026-02", "-c", f"{tmp_path}/r.yaml"])
    assert result.exit_code == 1, result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: ")
    partial = next((tmp_path / "out").glob("partial-*.json"))
    assert json.loads(partial.read_text())["days"], "the first call's days were kept"


# ------------------------------------------------------------------ the real process
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--month", "2026-13", *HOSTED], "month 13 is not 1 to 12"),
        (["generate", "--month", "2026-03", *HOSTED, "--out", "m.docx"], "unknown suffix"),
        (["regenerate", "x.json", "--days", "1-99999999"], "Day 99999999"),
    ],
    ids=["month", "out", "days"],
)
def test_the_console_script_prints_one_line_and_exits_2(args, message, tmp_path):
    """Outside CliRunner: nothing else (warnings, logging) reaches the real stderr.
    These inputs fail before any model is built, so no request can be made."""
    proc = subprocess.run(
        [sys.executable, "-c", "from pipeline.cli.app import main; main()", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-test-not-a-key", "COLUMNS": "200"},
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert "Traceback" not in proc.stderr
