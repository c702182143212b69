"""The notebooks run one after the other in one pytest-xdist worker (``make test`` runs
them beside the integration tests): the quickstart writes the month under
``REELCAL_NOTEBOOK_RUN_ID`` and swap_and_reuse resumes that finished run."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == HERE:
            item.add_marker(pytest.mark.xdist_group("notebooks"))
