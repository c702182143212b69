"""`reelcal regenerate` with the real local model rewrites only the named days."""

from __future__ import annotations

import pytest
from scripted import february_2027
from typer.testing import CliRunner

from pipeline.calendar import Calendar
from pipeline.cli.app import app

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp")


_calendar = february_2027


def test_regenerate_changes_only_the_named_days(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "feb.json"
    before = _calendar()
    before.save(path)
    result = CliRunner().invoke(app, ["regenerate", str(path), "--days", "5-6", "--quiet"])
    assert result.exit_code == 0, result.output
    after = Calendar.load(path)
    assert after.is_complete
    for old, new in zip(before.days, after.days):
        if new.day in (5, 6):
            assert new.title != old.title
        else:  # a file written before posts had times: its posts take the slot's time
            assert new.time == "18:00"
            assert new.model_copy(update={"time": ""}).model_dump_json() == old.model_dump_json()
    assert len(after.usage) >= 1 and {u.role for u in after.usage} == {"supplement"}


def test_regenerate_rejects_days_outside_the_month(tmp_path):
    path = tmp_path / "feb.json"
    _calendar().save(path)
    result = CliRunner().invoke(app, ["regenerate", str(path), "--days", "30"])
    assert result.exit_code == 2 and "days 1 to 28" in result.output
