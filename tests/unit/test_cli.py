"""The command line: help with examples, one-line errors, exit codes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_help_lists_commands_with_examples():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("generate", "plan", "models", "index", "regenerate"):
        assert command in result.output
    assert "reelcal generate --month" in result.output


@pytest.mark.parametrize("command", ["generate", "plan", "models", "index", "regenerate"])
def test_every_command_has_help_with_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Example:" in result.output


def test_unknown_option_exits_2():
    result = invoke("generate", "--month", "2026-03", "--bogus")
    assert result.exit_code == 2


def test_missing_required_option_exits_2():
    assert invoke("generate").exit_code == 2


def test_bad_month_is_one_line_and_exits_2():
    result = invoke("generate", "--month", "Smarch 2026x", "--model", "openai:gpt-4o")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_missing_api_key_names_the_variable():
    result = invoke("models", "openai:gpt-4o")
    assert result.exit_code == 1
    assert "OPENAI_API_KEY" in result.output


def test_bad_config_key_exits_2(tmp_path):
    cfg = tmp_path / "r.yaml"
    cfg.write_text("modle: x\n")
    result = invoke("models", "--config", str(cfg))
    assert result.exit_code == 2 and "Unknown setting 'modle'" in result.output


def test_bad_days_list_exits_2(tmp_path):
    result = invoke("regenerate", str(tmp_path / "x.json"), "--days", "three")
    assert result.exit_code == 2 and "3,7,12-14" in result.output


def test_models_shows_profile_limits(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    result = invoke("models", "openai:gpt-3.5-turbo", "openai:gpt-4o")
    assert result.exit_code == 0, result.output
    assert "16,385" in result.output and "16,384" in result.output
