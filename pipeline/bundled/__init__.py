"""Data that ships inside the package: prompt templates, mentor patterns and the
sample mentor corpus with its prebuilt index (the repo's prompts/ and vectorstore/).

``bundled_dir("prompts")`` finds them in a wheel install, an editable install or a
source checkout alike.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def bundled_dir(name: str) -> Path:
    """The folder of bundled data ``name`` ("prompts" or "vectorstore")."""
    spec = importlib.util.find_spec(f"pipeline.bundled.{name}")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    # A source checkout used without installing (PYTHONPATH=.)
    return Path(__file__).resolve().parents[2] / name
