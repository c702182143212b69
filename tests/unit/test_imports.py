"""The public API, pinned; importing the package changes nothing in the process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import pipeline

PUBLIC = [
    "Calendar",
    "ConfigError",
    "DayPlan",
    "IncompleteCalendarError",
    "ModelSetupError",
    "OutlineDay",
    "ReelcalError",
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
        "pipeline.cli; print(json.dumps({k: v for k, v in os.environ.items() "
        "if before.get(k) != v}))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == {}


def test_old_module_paths_forward_with_a_warning():
    code = (
        "import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
        "import pipeline\n"
        "try:\n"
        "    import pipeline.budget\n"
        "except DeprecationWarning as w:\n"
        "    print(w)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pipeline.budget moved to pipeline.generation.budget" in out.stdout


def test_old_module_paths_give_the_same_objects():
    import importlib
    import warnings

    from pipeline.dates import expand_days
    from pipeline.generation.budget import TokenBudget
    from pipeline.knowledge.index import build_index
    from pipeline.knowledge.retriever import MentorRetriever

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert importlib.import_module("pipeline.budget").TokenBudget is TokenBudget
        retrieval = importlib.import_module("pipeline.retrieval")
        assert retrieval.build_index is build_index
        assert retrieval.MentorRetriever is MentorRetriever
        assert importlib.import_module("pipeline.export").expand_days is expand_days
        with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
            importlib.import_module("pipeline.export").nothing_here  # noqa: B018


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
    from pipeline.generation.runs import open_checkpointer

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
