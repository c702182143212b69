"""The command line: help with examples, one-line errors, exit codes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli.app import app

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
    assert result.exit_code == 2
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


# ------------------------------------------------------------------ runs from the CLI
@pytest.fixture()
def scripted_cli(monkeypatch, tmp_path):
    """The CLI with a scripted model and retriever; returns the models it built."""
    from langchain_core.documents import Document
    from langchain_core.runnables import RunnableLambda
    from scripted import ScriptedChatModel, rows_for

    from pipeline.generation.month import engine

    built: list[ScriptedChatModel] = []
    behaviours: list = []

    def load(key, settings):
        model = ScriptedChatModel(
            behaviour=behaviours.pop(0) if behaviours else (lambda days, i, mt: rows_for(days))
        )
        built.append(model)
        return model

    docs = [Document(page_content="Open with a hook.", metadata={"creator": "m", "source_id": "a"})]
    monkeypatch.setattr(engine, "load_chat_model", load)
    monkeypatch.setattr(
        engine.CalendarEngine, "retriever", property(lambda self: RunnableLambda(lambda _: docs))
    )
    (tmp_path / "reelcal.yaml").write_text(
        f"output_dir: {tmp_path / 'out'}\ncontext_window: 4096\nmax_output_tokens: 1024\n"
        f"tokens_per_day: 400\nmax_concurrency: 1\nscript_words: [5, 250]\n"
    )
    monkeypatch.chdir(tmp_path)
    return built, behaviours


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("march.docx", "unknown suffix"),
        ("/proc/nope/march.xlsx", "cannot write to the folder"),
        (".", "is a folder"),
    ],
)
def test_a_bad_out_path_exits_2_before_any_model_call(scripted_cli, out, message):
    built, _ = scripted_cli
    result = invoke("generate", "--month", "2026-03", "--out", out)
    assert result.exit_code == 2 and message in result.output
    assert built == []  # no model was even built


def test_ctrl_c_exits_130_with_the_resume_command_and_resume_completes(scripted_cli, tmp_path):
    import re

    from scripted import is_outline_prompt, requested_days, rows_for

    built, behaviours = scripted_cli
    writing_calls = []  # after the outline's (the default)

    def interrupted(days, i, mt):
        writing_calls.append(days)
        if len(writing_calls) == 3:
            raise KeyboardInterrupt
        return rows_for(days)

    behaviours.append(interrupted)
    result = invoke("generate", "--month", "2026-02", "--out", "feb.json")
    assert result.exit_code == 130, result.output
    run_id = re.search(r"--resume ([\w.-]+)", result.output).group(1)
    assert "reelcal generate --resume" in result.output.splitlines()[-1]
    assert not (tmp_path / "feb.json").exists()
    partial = next((tmp_path / "out").glob("partial-*.json"))
    written = {p["day"] for p in __import__("json").loads(partial.read_text())["days"]}
    assert len(written) == 4  # two calls of two days finished before Ctrl-C

    result = invoke("generate", "--resume", run_id, "--out", "feb.json", "-q")
    assert result.exit_code == 0, result.output
    resumed = built[-1].prompts
    assert not any(is_outline_prompt(p) for p in resumed)  # the outline is done and kept
    asked = {d for prompt in resumed for d in requested_days(prompt)}
    assert asked == set(range(1, 29)) - written
    from pipeline.calendar import Calendar

    assert Calendar.load(tmp_path / "feb.json").is_complete


def test_resume_of_an_unknown_run_exits_2_before_loading_models(scripted_cli):
    built, _ = scripted_cli
    result = invoke("generate", "--resume", "2026-02-deadbeef")
    assert result.exit_code == 2 and "No saved run '2026-02-deadbeef'" in result.output
    assert built == []


def test_an_oversized_trend_is_named_and_exits_2_before_any_model(scripted_cli):
    built, _ = scripted_cli
    result = invoke("generate", "--month", "2026-03", "--trend", "x" * 51_200)
    assert result.exit_code == 2 and "51,200 characters" in result.output
    assert "rag_token_budget" not in result.output and built == []


def test_a_huge_day_range_is_refused_before_it_is_expanded(tmp_path):
    from pipeline.dates import expand_days

    result = invoke("regenerate", str(tmp_path / "none.json"), "--days", "1-99999999")
    assert result.exit_code == 2 and "Day 99999999" in result.output
    assert expand_days("3,7,12-14") == [3, 7, 12, 13, 14]


def test_unreachable_embeddings_while_indexing_is_one_line_and_exits_1(monkeypatch, tmp_path):
    import httpx
    from langchain_core.embeddings import Embeddings

    from pipeline.knowledge import index as indexing
    from pipeline.models import failures

    class Unreachable(Embeddings):
        def embed_documents(self, texts):
            raise httpx.ConnectError("Connection refused")

        def embed_query(self, text):
            raise httpx.ConnectError("Connection refused")

    monkeypatch.setattr(failures, "RETRY_BASE_DELAY", 0.0)
    monkeypatch.setattr(indexing, "load_embeddings", lambda key: Unreachable())
    (tmp_path / "t.txt").write_text("Open with a hook. " * 50)
    result = invoke("index", str(tmp_path / "t.txt"), "--out", str(tmp_path / "idx"), "-q")
    assert result.exit_code == 1, result.output
    assert "Embedding failed" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_index_built_with_the_cli_is_used_with_index_and_a_missing_one_exits_2(
    tmp_path, monkeypatch
):
    from scripted import ScriptedChatModel, is_outline_prompt, rows_for

    from pipeline.generation.month import engine

    built: list[ScriptedChatModel] = []

    def load(key, settings):
        built.append(ScriptedChatModel(behaviour=lambda days, i, mt: rows_for(days)))
        return built[-1]

    monkeypatch.setattr(engine, "load_chat_model", load)
    (tmp_path / "reelcal.yaml").write_text(
        f"output_dir: {tmp_path / 'out'}\ncontext_window: 16000\nmax_output_tokens: 4096\n"
        "embeddings: 'fake:384'\nscript_words: [5, 250]\n"
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "talk.txt").write_text(
        "Show the zebra spreadsheet before you explain the formula. " * 20
    )
    result = invoke("index", "mine", "--creator", "me", "--out", "my-index")
    assert result.exit_code == 0, result.output
    assert "reelcal generate --index my-index" in result.output

    result = invoke("generate", "--month", "2026-02", "--index", "my-index", "--out", "f.json")
    assert result.exit_code == 0, result.output
    writing = [p for p in built[-1].prompts if not is_outline_prompt(p)]
    assert "zebra spreadsheet" in writing[0]  # the examples come from that index

    calls = len(built)
    result = invoke("generate", "--month", "2026-02", "--index", "nope", "--out", "f.json")
    assert result.exit_code == 2 and "nope" in result.output and len(built) == calls
    assert "Traceback" not in result.output
