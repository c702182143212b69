"""The public API, pinned; importing the package changes nothing in the process."""

from __future__ import annotations

import json
import subprocess
import sys

import pipeline

PUBLIC = [
    "Calendar",
    "ConfigError",
    "DayPlan",
    "IncompleteCalendarError",
    "InvalidRequestError",
    "ModelSetupError",
    "OutlineDay",
    "ReelcalError",
    "Schedule",
    "ScheduleError",
    "RunNotFoundError",
    "Settings",
    "TokenBudgetError",
    "UsageRecord",
    "build_calendar_chain",
    "build_calendar_graph",
    "build_calendar_tool",
    "generate_calendar",
    "generate_outline",
    "regenerate_days",
    "resume_calendar",
]


def test_public_api_is_pinned():
    assert sorted(pipeline.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(pipeline, name) is not None


def test_import_leaves_the_environment_unchanged():
    code = (
        "import json, os; before = dict(os.environ); import pipeline, pipeline.generation.chains, "
        "pipeline.cli.app; print(json.dumps({k: v for k, v in os.environ.items() "
        "if before.get(k) != v}))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == {}


def test_module_paths_of_0_1_are_gone_and_nothing_hooks_the_import_system():
    import importlib.util

    assert importlib.util.find_spec("pipeline.budget") is None
    code = (
        "import sys; import pipeline\n"
        "print([type(f).__module__ for f in sys.meta_path if 'pipeline' in type(f).__module__])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_module_says_what_it_owns_and_stays_small():
    import ast
    from pathlib import Path

    package = Path(pipeline.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), f"{path} has no module docstring"
        assert len(text.splitlines()) <= 450, f"{path} has {len(text.splitlines())} lines"


def test_nothing_is_unpickled():
    """No module imports pickle or lets LangChain unpickle; checkpoints never fall back
    to pickle."""
    import re
    from pathlib import Path

    from pipeline.config import Settings
    from pipeline.generation.month.runs import open_checkpointer

    package = Path(pipeline.__file__).parent
    for path in package.rglob("*.py"):
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(c?pickle|dill|joblib)\b", code, re.MULTILINE), (
            path
        )
        assert "allow_dangerous_deserialization=True" not in code, path
        assert "FAISS.load_local(" not in code, path
    with open_checkpointer(Settings(output_dir=Path.cwd())) as saver:
        assert saver.serde.pickle_fallback is False
