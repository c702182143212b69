"""reelcal stands on maintained packages: ``langchain-community`` (sunset by its
maintainers) is neither declared nor imported."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import requires

SUNSET = "langchain-community"


def _name(requirement: str) -> str:
    """The distribution a requirement names, normalized (PEP 503)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]).lower()


def test_no_declared_dependency_of_any_extra_is_langchain_community():
    declared = requires("reelcal") or []
    assert declared, "reelcal's metadata lists its dependencies"
    assert SUNSET not in {_name(r) for r in declared}, declared


def test_importing_every_module_leaves_langchain_community_unimported():
    # a fresh interpreter: other tests in this process may import anything
    script = (
        "import importlib, json, pkgutil, sys, pipeline\n"
        "names = [m.name for m in pkgutil.walk_packages(pipeline.__path__, 'pipeline.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(json.dumps([len(names), sorted(m for m in sys.modules "
        "if m.split('.')[0] == 'langchain_community')]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    count, imported = json.loads(proc.stdout.strip().splitlines()[-1])
    assert count > 50 and imported == [], imported


def test_no_module_names_langchain_community_even_in_a_function():
    from pathlib import Path

    import pipeline

    root = Path(pipeline.__file__).parent
    naming = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "langchain_community" in p.read_text()
    ]
    assert naming == []
