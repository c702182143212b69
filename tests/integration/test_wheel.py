"""The wheel carries every module and the bundled prompts and index (an editable install
would hide a module or data file the package list forgets), and imports from it alone."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    [built] = out.glob("reelcal-*.whl")
    return built


def test_the_wheel_holds_every_module_and_the_bundled_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {
        f"pipeline/{p.relative_to(ROOT / 'pipeline').as_posix()}"
        for p in (ROOT / "pipeline").rglob("*.py")
    }
    assert modules <= names, sorted(modules - names)
    for folder, target in (
        ("prompts", "pipeline/bundled/prompts"),
        ("vectorstore", "pipeline/bundled/vectorstore"),
    ):
        data = {
            f"{target}/{p.relative_to(ROOT / folder).as_posix()}"
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and p.suffix in {".yaml", ".json", ".jsonl", ".faiss", ".md"}
        }
        assert data and data <= names, sorted(data - names)


def test_every_module_imports_from_the_unpacked_wheel(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    modules = sorted(
        "pipeline." + p.relative_to(ROOT / "pipeline").with_suffix("").as_posix().replace("/", ".")
        for p in (ROOT / "pipeline").rglob("*.py")
        if p.name != "__init__.py"
    )
    code = (
        "import importlib, sys, pipeline\n"
        f"assert pipeline.__file__.startswith({str(tmp_path / 'site')!r}), pipeline.__file__\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "from pipeline.bundled import bundled_dir\n"
        "assert (bundled_dir('prompts') / 'calendar.yaml').is_file()\n"
    )
    # the unpacked wheel first on the path, the checkout nowhere (run from tmp_path)
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r})\n" + code,
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    )
