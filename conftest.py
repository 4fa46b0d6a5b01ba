"""Test-session settings for the whole repository (tests/, notebooks/, course_utils/)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each file's tests on one pytest-xdist worker, in order (``--dist loadgroup``).

    A notebook's cells must run in sequence in one kernel. Lesson 06 reuses the
    model lesson 05 saves, so those two share a worker: 06 then never reads a
    file that 05 is still writing.
    """
    for item in items:
        name = Path(str(item.path)).stem
        if name in ("05_transfer_learning", "06_fine_tuning"):
            name = "lessons-05-06"
        item.add_marker(pytest.mark.xdist_group(name=name))
