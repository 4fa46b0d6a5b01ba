"""Re-execute notebooks and keep outputs only in ``# NBVAL_CHECK_OUTPUT`` cells.

Usage (from the repository root, in the course environment, ideally under the
offline assets that ``.ci/run`` sets up so the outputs match CI's)::

    COURSE_PROFILE=smoke python tools/refresh_checked_outputs.py notebooks/01_*.ipynb

Checked cells get the cell metadata ``keep_output: true``, which is how
nbstripout knows to keep their outputs; then ``tools/strip_notebooks.py`` (the
pre-commit hook) strips the rest, so the file is exactly what the hook leaves.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECK_MARK = "NBVAL_CHECK_OUTPUT"


def mark_checked_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Tag checked cells ``keep_output`` and drop their stderr (TensorFlow's log lines)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if CHECK_MARK in cell.source:
            cell.metadata["keep_output"] = True
            cell.outputs = [o for o in cell.outputs if o.get("name") != "stderr"]
        else:
            cell.metadata.pop("keep_output", None)
    return nb


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("COURSE_PROFILE", "smoke")
    client = NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    nbformat.write(mark_checked_cells(nb), path)
    # the pre-commit hook itself (nbstripout + counts on checked cells) strips the rest
    hook = Path(__file__).with_name("strip_notebooks.py")
    subprocess.run([sys.executable, str(hook), str(path)], check=True)
    print(f"refreshed {path}")


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        refresh(Path(arg))
