from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.exercises import Exercise

ROOT = Path(__file__).parents[1]
spec = importlib.util.spec_from_file_location("export_views", ROOT / "tools" / "export_views.py")
export_views = importlib.util.module_from_spec(spec)
spec.loader.exec_module(export_views)


def _code(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_student_copies_have_no_outputs_and_hide_solutions(tmp_path: Path) -> None:
    written = export_views.export("student", tmp_path)
    assert len(written) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    for path in written:
        cells = _code(path)
        assert all(not c["outputs"] for c in cells), path.name
        assert "COURSE_HIDE_SOLUTIONS" in "".join(cells[1]["source"]), path.name


def test_instructor_copies_carry_every_solution(tmp_path: Path) -> None:
    from course_utils.exercises import lesson01

    path = tmp_path / "01_convolution_filters.ipynb"
    export_views.export("instructor", tmp_path)
    text = path.read_text()
    for name in ("ex1", "ex2", "ex3"):
        assert f"Solution to {name}" in text
        assert json.dumps(getattr(lesson01, name).solution_text)[1:20] in text


def test_solutions_hidden_by_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ex = Exercise("ex9", "q", bool, hint="h", solution="answer = 42")
    monkeypatch.setenv("COURSE_HIDE_SOLUTIONS", "1")
    ex.solution()
    assert "hidden" in capsys.readouterr().out
    monkeypatch.delenv("COURSE_HIDE_SOLUTIONS")
    ex.solution()
    assert "answer = 42" in capsys.readouterr().out


def test_command_line_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "export_views.py"), "teacher"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "usage" in result.stderr
