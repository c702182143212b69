"""The module paths of reelcal 0.1 (``pipeline.budget``, ``pipeline.export``...) keep working.

Modules moved into ``pipeline/knowledge``, ``pipeline/generation`` and ``pipeline/outputs``.
Importing an old path gives a module that forwards each name to where it lives now (a
split module forwards to several), with a ``DeprecationWarning`` naming the new path.
Nothing is imported until an old path is: the finder only answers for the names below.

Written by hand because the standard library has no module alias, and a
``sys.modules`` entry cannot be lazy: ``import pipeline`` must stay light.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

#: old module -> the modules its names live in now, searched in order
MOVED: dict[str, tuple[str, ...]] = {
    "pipeline.budget": ("pipeline.generation.budget",),
    "pipeline.chains": ("pipeline.generation.chains",),
    "pipeline.engine": (
        "pipeline.generation.engine",
        "pipeline.generation.state",
        "pipeline.generation.graph",
    ),
    "pipeline.failures": ("pipeline.generation.failures",),
    "pipeline.models": (
        "pipeline.generation.models",
        "pipeline.generation.local_model",
        "pipeline.knowledge.embeddings",
    ),
    "pipeline.parsing": (
        "pipeline.generation.parsing",
        "pipeline.generation.cells",
        "pipeline.generation.json_rows",
        "pipeline.generation.pipe_rows",
    ),
    "pipeline.planning": ("pipeline.generation.planning",),
    "pipeline.prompts": ("pipeline.generation.prompts",),
    "pipeline.runs": ("pipeline.generation.runs",),
    "pipeline.tokens": ("pipeline.generation.tokens",),
    "pipeline.ingest": ("pipeline.knowledge.ingest",),
    "pipeline.store": ("pipeline.knowledge.store",),
    "pipeline.trimming": ("pipeline.knowledge.trimming",),
    "pipeline.retrieval": ("pipeline.knowledge.index", "pipeline.knowledge.retriever"),
    "pipeline.export": (
        "pipeline.outputs",
        "pipeline.outputs.formats",
        "pipeline.outputs.columns",
        "pipeline.outputs.xlsx",
        "pipeline.outputs.ics",
        "pipeline.dates",
    ),
    "pipeline.display": ("pipeline.outputs.display",),
}


class _Forwarding(importlib.abc.Loader):
    def __init__(self, targets: tuple[str, ...]) -> None:
        self.targets = targets

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return types.ModuleType(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        targets = self.targets
        warnings.warn(
            f"{module.__name__} moved to {targets[0]}: import from there "
            f"(or from pipeline for the public API).",
            DeprecationWarning,
            stacklevel=3,
        )

        def __getattr__(name: str) -> Any:
            for target in targets:
                found = importlib.import_module(target)
                if hasattr(found, name):
                    return getattr(found, name)
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
        module.__doc__ = f"Moved: see {', '.join(targets)}."


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Answers for the old module paths in :data:`MOVED` only."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        targets = MOVED.get(fullname)
        if targets is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Forwarding(targets))


def install() -> None:
    """Add the finder once (``import pipeline`` calls this)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(MovedModuleFinder())
