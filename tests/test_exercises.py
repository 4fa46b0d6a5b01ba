from __future__ import annotations

import pytest

from course_utils.exercises import Exercise, close_to, equals


@pytest.fixture
def ex() -> Exercise:
    return Exercise(
        "ex1", "What is 6 x 7?", equals(42, lambda a: f"{a} is not 6 x 7"),
        hint="Multiply.", solution="answer = 6 * 7",
    )


def test_right_answer(ex: Exercise, capsys: pytest.CaptureFixture[str]) -> None:
    assert ex.check(42) is True
    assert "Correct" in capsys.readouterr().out


def test_wrong_answer_explains(ex: Exercise, capsys: pytest.CaptureFixture[str]) -> None:
    assert ex.check(41) is False
    assert "41 is not 6 x 7" in capsys.readouterr().out


def test_placeholder_answer(ex: Exercise, capsys: pytest.CaptureFixture[str]) -> None:
    assert ex.check(...) is False
    assert "No answer yet" in capsys.readouterr().out


def test_checker_crash_is_feedback(capsys: pytest.CaptureFixture[str]) -> None:
    ex = Exercise("x", "q", close_to(1.0), hint="h", solution="s")
    assert ex.check("one") is False
    assert "Could not check" in capsys.readouterr().out


def test_tuple_result_message(capsys: pytest.CaptureFixture[str]) -> None:
    ex = Exercise("x", "q", lambda a: (a > 0, "positive, well done"), hint="h", solution="s")
    assert ex.check(3)
    assert "positive, well done" in capsys.readouterr().out


def test_hint_and_solution(ex: Exercise, capsys: pytest.CaptureFixture[str]) -> None:
    ex.hint()
    ex.solution()
    out = capsys.readouterr().out
    assert "Multiply." in out and "6 * 7" in out
    assert "What is 6 x 7?" in repr(ex)


def test_close_to_and_equals() -> None:
    assert close_to(0.5, 0.01)(0.505) and not close_to(0.5, 0.001)(0.505)
    assert equals((2, 3))([2, 3]) and not equals((2, 3))((3, 2))
