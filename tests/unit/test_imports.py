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
    "ModelSetupError",
    "ReelcalError",
    "Settings",
    "TokenBudgetError",
    "UsageRecord",
    "build_calendar_chain",
    "build_calendar_graph",
    "build_calendar_tool",
    "generate_calendar",
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
