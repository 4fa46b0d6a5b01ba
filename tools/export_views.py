"""Write student and instructor copies of the lessons.

    python tools/export_views.py student    build/student      # no outputs, solutions hidden
    python tools/export_views.py instructor build/instructor  # exercises + solutions

The lessons themselves never contain solutions (they live in
``course_utils.exercises``). The student copy sets ``COURSE_HIDE_SOLUTIONS=1``
so ``exN.solution()`` refuses (exam or homework mode); the instructor copy
writes every solution under its exercise, as an answer key for live sessions.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).parents[1]
IMPORT_RE = re.compile(r"from course_utils\.exercises\.(lesson\d\d) import")
CHECK_RE = re.compile(r"\b(ex\d+)\.check\(")
HIDE_CELL = (
    "# This copy hides the exercise solutions (exN.solution() will not show them).\n"
    "import os\n\n"
    'os.environ["COURSE_HIDE_SOLUTIONS"] = "1"'
)


def _clear(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("keep_output", None)


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """No outputs at all, and a cell (after the Colab cell) that hides solutions."""
    _clear(nb)
    nb.cells.insert(2, nbformat.v4.new_code_cell(HIDE_CELL))
    return nb


def instructor_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Each checked exercise cell is followed by its worked solution."""
    _clear(nb)
    module = None
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        if found := IMPORT_RE.search(cell.source):
            module = importlib.import_module(f"course_utils.exercises.{found.group(1)}")
        for name in CHECK_RE.findall(cell.source):
            if module is None:
                raise ValueError(f"{name}.check() before any exercises import")
            exercise = getattr(module, name)
            cells.append(nbformat.v4.new_markdown_cell(f"**Solution to {name}** (instructor copy)"))
            cells.append(nbformat.v4.new_code_cell(exercise.solution_text))
    nb.cells = cells
    return nb


def export(kind: str, dest: Path) -> list[Path]:
    """Write the ``kind`` copy of every lesson into ``dest``; return the written paths."""
    make = {"student": student_copy, "instructor": instructor_copy}[kind]
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = make(nbformat.read(path, as_version=4))
        nbformat.write(nb, dest / path.name)
        written.append(dest / path.name)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("student", "instructor"):
        sys.exit("usage: export_views.py student|instructor DEST")
    for out in export(sys.argv[1], Path(sys.argv[2])):
        print(out)
