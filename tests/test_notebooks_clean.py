"""Notebook hygiene: outputs only in checked cells, and the lesson structure."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from helpers import load_tool

colab_cell = load_tool("colab_cell")

ROOT = Path(__file__).parents[1]
REPO_URL = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
SLUG = REPO_URL.removeprefix("https://github.com/")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 3, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_cells_keep_outputs(path: Path) -> None:
    offenders = [
        i
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "code"
        and (cell.get("outputs") or cell.get("execution_count"))
        and "NBVAL_CHECK_OUTPUT" not in _source(cell)
    ]
    assert not offenders, f"{path.name}: cells {offenders} keep outputs; strip them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_cells_have_outputs(path: Path) -> None:
    empty = [
        i
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "code"
        and "NBVAL_CHECK_OUTPUT" in _source(cell)
        and not (cell.get("outputs") and cell.get("execution_count"))
    ]
    assert not empty, f"{path.name}: checked cells {empty} need outputs and counts (for nbval)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_keep_output_metadata_marks_exactly_the_checked_cells(path: Path) -> None:
    """nbstripout (pre-commit) keeps outputs only where ``keep_output`` is set."""
    wrong = [
        i
        for i, cell in enumerate(_cells(path))
        if cell["cell_type"] == "code"
        and bool(cell["metadata"].get("keep_output")) != ("NBVAL_CHECK_OUTPUT" in _source(cell))
    ]
    assert not wrong, f"{path.name}: cells {wrong}: run tools/refresh_checked_outputs.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_launch_links_and_colab_cell_follow_pyproject(path: Path) -> None:
    """The repository URL lives in pyproject.toml; every lesson and the README must agree."""
    cells = _cells(path)
    first = _source(cells[0])
    assert f"colab.research.google.com/github/{SLUG}/blob/main/notebooks/{path.name})" in first
    assert f"mybinder.org/v2/gh/{SLUG}/HEAD?labpath=notebooks%2F{path.name})" in first
    first_code = next(c for c in cells if c["cell_type"] == "code")
    assert _source(first_code) == colab_cell.cell_source(REPO_URL), "run: make sync-links"
    readme = (ROOT / "README.md").read_text()
    assert f"github/{SLUG}/blob/main/notebooks/{path.name})" in readme, "README lesson table"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_structure(path: Path) -> None:
    cells = _cells(path)
    text = "\n".join(_source(c) for c in cells if c["cell_type"] == "markdown").lower()
    first = _source(cells[0])
    assert first.startswith("# "), f"{path.name}: first cell must be the lesson's title"
    assert "colab.research.google.com" in first and "mybinder.org" in first
    for needle in ("objectives", "summary", "exercise"):
        assert needle in text, f"{path.name}: no {needle!r} section"
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    assert "get_profile(" in code or path.name.startswith("00_"), "lessons read a profile"
    assert ".check(" in code, f"{path.name}: exercises must be checked with .check()"
