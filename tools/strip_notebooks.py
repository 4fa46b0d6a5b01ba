"""The pre-commit notebook hook: nbstripout, then numbered checked cells.

    python tools/strip_notebooks.py notebooks/*.ipynb

nbstripout strips every output except in cells with ``keep_output`` metadata
(the ``# NBVAL_CHECK_OUTPUT`` cells), but it also blanks their execution
counts, and nbval refuses a reference cell that has outputs and no count
("Unrun reference cell has outputs"). So the checked cells get counts 1, 2, ...
back. Running it twice changes nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat


def number_checked_cells(path: Path) -> None:
    """Give each ``keep_output`` cell with outputs a sequential execution count."""
    nb = nbformat.read(path, as_version=4)
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("keep_output") and cell.outputs:
            count += 1
            cell.execution_count = count
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = count
    nbformat.write(nb, path)


def main(paths: list[str]) -> int:
    nbstripout = Path(sys.executable).with_name("nbstripout")
    subprocess.run([str(nbstripout), *paths], check=True)
    for path in paths:
        number_checked_cells(Path(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
