"""Every message names only settings and flags that exist.

Walks the string literals of the package (f-string parts included, docstrings skipped):
``--flag`` must be an option of a ``reelcal`` command, a settings key after "set",
"raise", "lower", "increase" or "use" must be a ``Settings`` field, and a ``REELCAL_*``
variable must name one.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import typer

import pipeline
from pipeline.cli.app import app
from pipeline.config import Settings

PACKAGE = Path(pipeline.__file__).parent
#: Flags of other programs that messages quote (pip) and of the bundled-index module.
OTHER_FLAGS = {"--force-reinstall", "--rebuild-bundled", "--help"}
ADVICE = re.compile(r"\b(?:set|raise|lower|increase|use)\s+(?:the\s+)?([a-z]+(?:_[a-z]+)+)\b")


def _strings(tree: ast.AST) -> list[str]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def _messages() -> dict[str, list[str]]:
    return {
        str(path.relative_to(PACKAGE)): _strings(ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _cli_flags() -> set[str]:
    command = typer.main.get_command(app)
    flags = set()
    for sub in command.commands.values():
        for param in sub.params:
            flags.update(o for o in param.opts + param.secondary_opts if o.startswith("--"))
    return flags | {o for p in command.params for o in p.opts if o.startswith("--")}


def _unknown(pattern: re.Pattern[str] | str, known: set[str]) -> set[tuple[str, str]]:
    """(module, name) for each ``pattern`` match in a message that is not in ``known``."""
    return {
        (where, name)
        for where, texts in _messages().items()
        for text in texts
        for name in re.findall(pattern, text)
        if name not in known
    }


def test_flags_in_messages_exist():
    assert not _unknown(r"(?<![\w-])--[a-z][a-z-]+", _cli_flags() | OTHER_FLAGS)


def test_settings_named_in_advice_exist():
    assert not _unknown(ADVICE, set(Settings.model_fields))


def test_environment_variables_named_in_messages_exist():
    assert not _unknown(r"\bREELCAL_([A-Z_]+)\b", {n.upper() for n in Settings.model_fields})


def test_the_walk_sees_messages():
    """The walk finds the flags and settings it checks (so the tests above can fail)."""
    texts = [t for group in _messages().values() for t in group]
    assert any("--resume" in t for t in texts)
    assert any(ADVICE.search(t) for t in texts)
