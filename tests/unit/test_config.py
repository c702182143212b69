"""Settings precedence (defaults < yaml < env < arguments) and its error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults():
    s = Settings.load()
    assert s.model == "llamacpp:smollm2"
    assert (s.safety_margin, s.supplement_safety_margin, s.rag_token_budget) == (2000, 1000, 1000)
    assert s.per_creator_limit == 5


def test_yaml_then_env_then_arguments(tmp_path, monkeypatch):
    cfg = write(
        tmp_path / "r.yaml", "max_stalled_rounds: 7\nniche: fitness\nmodel: openai:gpt-4o\n"
    )
    assert Settings.load(cfg).max_stalled_rounds == 7
    monkeypatch.setenv("REELCAL_MAX_STALLED_ROUNDS", "9")
    s = Settings.load(cfg)
    assert (s.max_stalled_rounds, s.niche, s.model) == (9, "fitness", "openai:gpt-4o")
    s = Settings.load(cfg, max_stalled_rounds=2, niche=None)
    assert (s.max_stalled_rounds, s.niche) == (2, "fitness")  # None arguments do not override


def test_reelcal_yaml_in_working_directory_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "reelcal.yaml", "tokens_per_day: 321\n")
    assert Settings.load().tokens_per_day == 321


def test_unknown_yaml_key_is_named(tmp_path):
    cfg = write(tmp_path / "r.yaml", "max_round: 3\n")
    with pytest.raises(ConfigError, match=r"Unknown setting 'max_round' in .*r\.yaml"):
        Settings.load(cfg)


def test_unknown_argument_is_named():
    with pytest.raises(ConfigError, match="Unknown setting 'modle'"):
        Settings.load(modle="x")


def test_wrong_type_names_key_and_sources(tmp_path):
    cfg = write(tmp_path / "r.yaml", "max_stalled_rounds: lots\n")
    with pytest.raises(ConfigError) as err:
        Settings.load(cfg)
    msg = str(err.value)
    assert "'max_stalled_rounds'" in msg and "lots" in msg and "REELCAL_MAX_STALLED_ROUNDS" in msg
    assert "\n" not in msg


def test_wrong_env_type_is_named(monkeypatch):
    monkeypatch.setenv("REELCAL_TEMPERATURE", "hot")
    with pytest.raises(ConfigError, match="'temperature'"):
        Settings.load()


def test_bounds_are_checked():
    with pytest.raises(ConfigError, match="'per_creator_limit'"):
        Settings.load(per_creator_limit=0)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        Settings.load(tmp_path / "nope.yaml")


def test_bad_yaml_syntax(tmp_path):
    cfg = write(tmp_path / "r.yaml", "model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        Settings.load(cfg)


def test_yaml_must_be_a_mapping(tmp_path):
    cfg = write(tmp_path / "r.yaml", "- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        Settings.load(cfg)
