"""Re-execute notebooks and store outputs only in ``# NBVAL_CHECK_OUTPUT`` cells.

Usage (from the repository root, in the course environment)::

    COURSE_PROFILE=smoke python tools/refresh_checked_outputs.py notebooks/01_*.ipynb

Every other cell is left without outputs and without an execution count, which
is what ``tests/test_notebooks_clean.py`` enforces and what nbval compares.
Run it under the offline assets (see ``.ci/run``) so the outputs match CI's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECK_MARK = "NBVAL_CHECK_OUTPUT"


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop outputs and counts from unchecked cells, and volatile metadata everywhere."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if CHECK_MARK in cell.source:
            cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
        else:
            cell.outputs = []
            cell.execution_count = None
    return nb


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("COURSE_PROFILE", "smoke")
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={
        "metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(strip(nb), path)
    print(f"refreshed {path}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        refresh(Path(arg))
