"""Durable runs in real processes: SIGKILL mid-run then resume; Ctrl-C (SIGINT) on the CLI.

The child process runs a scripted model (tests/scripted.py) that logs each reply
to a file as it returns it, so the test knows which days had been received at the kill.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]  # tests/scripted.py

CHILD = textwrap.dedent(
    """
    import json, signal, sys, time
    # Ctrl-C as at a terminal, even when the test runs in a background job (which starts
    # its children with SIGINT ignored, and reelcal respects an ignored SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, {tests!r})
    from langchain_core.documents import Document
    from langchain_core.runnables import RunnableLambda
    from scripted import ScriptedChatModel, rows_for
    from pipeline.generation.month import engine

    LOG = {log!r}

    def behaviour(days, i, mt):
        time.sleep(0.4)
        with open(LOG, "a") as fh:
            fh.write(json.dumps(days) + "\\n")
        return rows_for(days)

    docs = [Document(page_content="Open with a hook.", metadata={{"creator": "m", "source_id": "a"}})]
    engine.load_chat_model = lambda key, settings: ScriptedChatModel(behaviour=behaviour)
    engine.CalendarEngine.retriever = property(lambda self: RunnableLambda(lambda _: docs))
    from pipeline.cli.app import main
    sys.argv = ["reelcal", *{argv!r}]
    main()
    """
)


def start_child(tmp_path: Path, argv: list[str]) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "replies.jsonl"
    (tmp_path / "reelcal.yaml").write_text(
        f"output_dir: {tmp_path / 'out'}\ncontext_window: 4096\nmax_output_tokens: 1024\n"
        "tokens_per_day: 600\nmax_concurrency: 1\n"  # one day per call, one call at a time
        "script_words: [5, 250]\n"  # the scripted rows' scripts are short
    )
    script = CHILD.format(tests=str(TESTS), log=str(log), argv=argv)
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return child, log


def wait_for_replies(log: Path, count: int, child: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and len(log.read_text().splitlines()) >= count:
            return
        if child.poll() is not None:
            raise AssertionError(f"child ended early: {child.communicate()}")
        time.sleep(0.05)
    child.kill()
    raise AssertionError("no replies in time")


def replied(log: Path) -> list[list[int]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.mark.integration
def test_sigkill_mid_run_then_resume_asks_only_for_days_not_saved(tmp_path):
    child, log = start_child(
        tmp_path,
        ["generate", "--month", "2026-02", "--run-id", "feb-kill", "-q", "--out", "feb.json"],
    )
    wait_for_replies(log, 6, child)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    before = replied(log)
    received = {d for chunk in before for d in chunk}
    log.unlink()

    child, log = start_child(
        tmp_path, ["generate", "--resume", "feb-kill", "-q", "--out", "feb.json"]
    )
    _out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    asked_again = {d for chunk in replied(log) for d in chunk}
    # only the chunk in flight at the kill (received, not yet saved) may be asked again
    assert asked_again & received <= set(before[-1])
    assert asked_again | received == set(range(1, 29))
    saved = json.loads((tmp_path / "feb.json").read_text())
    assert [d["day"] for d in saved["days"]] == list(range(1, 29))


@pytest.mark.integration
def test_ctrl_c_on_the_cli_saves_the_partial_and_prints_the_resume_command(tmp_path):
    child, log = start_child(
        tmp_path, ["generate", "--month", "2026-02", "--run-id", "feb-int", "--out", "feb.json"]
    )
    wait_for_replies(log, 3, child)
    child.send_signal(signal.SIGINT)
    _out, err = child.communicate(timeout=60)
    calls_at_interrupt = len(replied(log))
    assert child.returncode == 130, err
    assert "reelcal generate --resume feb-int" in err.splitlines()[-1]
    assert "Traceback" not in err
    partial = json.loads((tmp_path / "out" / "partial-feb-int.json").read_text())
    assert len(partial["days"]) >= 3
    assert calls_at_interrupt <= 5  # the call in flight finishes; queued ones are dropped
    assert not (tmp_path / "feb.json").exists()
