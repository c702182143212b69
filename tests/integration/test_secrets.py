"""An API key never reaches a file, a log line or a message.

A planted key is the only OpenAI key in the environment. A run against a scripted
OpenAI-compatible loopback server fails part-way (partial calendar, checkpoints), is
resumed from the CLI with ``--verbose`` and the response cache on, and is exported in
every format. Then every file under the output folder (zip members of the .xlsx too),
everything printed and every log record is searched for the key.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path

import pytest
import yaml
from loopback import FaultProxy, ScriptedOpenAIServer
from scripted import SCRIPTED_SCRIPT_WORDS
from typer.testing import CliRunner

from pipeline.calendar import Calendar
from pipeline.cli.app import app
from pipeline.errors import IncompleteCalendarError
from pipeline.generation.chains import generate_calendar
from pipeline.models import failures
from pipeline.outputs import WRITE_FORMATS

pytestmark = pytest.mark.integration

PLANTED = "sk-planted-7c41e0d9b2f84a6e"


def _contents(path: Path) -> list[tuple[str, bytes]]:
    data = path.read_bytes()
    found = [(str(path), data)]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            found += [(f"{path}!{name}", archive.read(name)) for name in archive.namelist()]
    return found


def test_a_planted_key_is_never_written_or_shown(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED)
    monkeypatch.setattr(failures, "RETRY_BASE_DELAY", 0.01)
    caplog.set_level(logging.DEBUG)
    out_dir = tmp_path / "out"
    server = ScriptedOpenAIServer()
    failing = FaultProxy(server.url, schedule=["ok", "429"], then="500")
    healthy = FaultProxy(server.url)
    settings = {
        "model": "openai:scripted-server",
        "context_window": 16_385,
        "max_output_tokens": 4096,
        "output_dir": str(out_dir),
        "cache": str(out_dir / "cache.sqlite"),
        "max_retries": 1,
        "request_timeout": 5,
        "script_words": list(SCRIPTED_SCRIPT_WORDS),
    }
    config = tmp_path / "reelcal.yaml"
    try:
        from pipeline.config import Settings

        with pytest.raises(IncompleteCalendarError) as raised:
            generate_calendar(
                "2026-03",
                ["AI agents"],
                "AI tools",
                settings=Settings(**settings, base_url=failing.url),
                run_id="secret-run",
            )
        config.write_text(yaml.safe_dump({**settings, "base_url": healthy.url}))
        printed = CliRunner().invoke(
            app,
            ["generate", "--resume", "secret-run", "--config", str(config), "--verbose"]
            + ["--out", str(out_dir / "march.xlsx")],
        )
    finally:
        failing.close()
        healthy.close()
        server.close()
    assert printed.exit_code == 0, printed.output
    calendar = Calendar.load(out_dir / "march.xlsx")
    assert calendar.is_complete
    for fmt in WRITE_FORMATS:
        calendar.save(out_dir / f"march-export.{fmt}", format=fmt)

    files = [p for p in out_dir.rglob("*") if p.is_file()]
    names = {p.suffix for p in files}
    assert {".sqlite", ".json", ".xlsx", ".csv", ".md", ".ics"} <= names, names
    assert any(p.name.startswith("partial-") for p in files)
    leaks = [where for path in files for where, data in _contents(path) if PLANTED.encode() in data]
    assert not leaks
    shown = [printed.output, str(raised.value), caplog.text]
    assert all(PLANTED not in text for text in shown)
    assert PLANTED[:12] not in caplog.text  # not even a prefix


def test_the_search_finds_a_key_inside_an_xlsx(tmp_path):
    """The search above can fail: a key written into a cell is found in the zip."""
    calendar = Calendar(year=2026, month=3, days=[], niche=f"key {PLANTED}")
    path = calendar.save(tmp_path / "control.xlsx")
    assert PLANTED.encode() not in path.read_bytes()  # compressed: only the members show it
    assert any(PLANTED.encode() in data for _, data in _contents(path))
