"""`reelcal regenerate` with the real local model rewrites only the named days."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from pipeline.calendar import Calendar, DayPlan
from pipeline.cli import app

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp")


def _calendar() -> Calendar:
    days = [
        DayPlan(
            day=d,
            date=dt.date(2027, 2, d),
            title=f"Kept title {d}",
            hook=f"Hook {d}",
            caption=f"Caption {d}, with a comma",
            script=f'Script {d}: say it "plainly".',
            video_style="Talking head",
            audio="Voiceover",
            hashtags=["#ai", f"#day{d}"],
            production_notes="Window light",
            engagement="Ask a question",
        )
        for d in range(1, 29)
    ]
    return Calendar(
        year=2027, month=2, days=days, niche="AI tools", trends=["AI agents"], model="scripted"
    )


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
        else:
            assert new.model_dump_json() == old.model_dump_json()
    assert len(after.usage) >= 1 and {u.role for u in after.usage} == {"supplement"}


def test_regenerate_rejects_days_outside_the_month(tmp_path):
    path = tmp_path / "feb.json"
    _calendar().save(path)
    result = CliRunner().invoke(app, ["regenerate", str(path), "--days", "30"])
    assert result.exit_code == 2 and "days 1 to 28" in result.output
