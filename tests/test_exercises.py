"""Every lesson's exercises in one place: right answers pass, known wrong ones are explained.

The framework first (``Exercise``, ``close_to``, ``equals``), then every lesson's ``CASES``
(one parametrised set of tests), then checks particular to one lesson.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from helpers import needs_imagenet_weights

from course_utils.exercises import (
    Case,
    Exercise,
    close_to,
    equals,
    exercises_in,
    lesson03,
    lesson04,
)

needs_mobilenet_v2_weights = needs_imagenet_weights("MobileNetV2")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ex() -> Exercise:
    return Exercise(
        "ex1",
        "What is 6 x 7?",
        equals(42, lambda a: f"{a} is not 6 x 7"),
        hint="Multiply.",
        solution="answer = 6 * 7",
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


# --- every lesson, from the answers its module lists in CASES

LESSONS = [f"lesson{n:02d}" for n in range(9)]


def _module(lesson: str) -> ModuleType:
    return importlib.import_module(f"course_utils.exercises.{lesson}")


def _with_cases() -> list[str]:
    return [lesson for lesson in LESSONS if hasattr(_module(lesson), "CASES")]


def _all_cases() -> list:
    params = []
    for lesson in _with_cases():
        for i, case in enumerate(_module(lesson).CASES):
            verdict = "right" if case.correct else "wrong"
            params.append(pytest.param(lesson, case, id=f"{lesson}-{case.exercise}-{verdict}{i}"))
    return params


def test_every_lesson_has_checked_exercises_and_one_to_modify_and_observe() -> None:
    assert _with_cases() == LESSONS, "every lesson module lists the answers its tests try (CASES)"
    for lesson in LESSONS:
        kinds = [ex.kind for ex in exercises_in(_module(lesson))]
        assert "modify" in kinds, f"{lesson}: no modify-and-observe exercise ({kinds})"


@pytest.mark.parametrize(("lesson", "case"), _all_cases())
def test_case(lesson: str, case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    exercise = getattr(_module(lesson), case.exercise)
    assert exercise.check(case.value()) is case.correct
    out = capsys.readouterr().out
    assert ("✅" if case.correct else "❌") in out, out
    assert case.says in out, f"feedback should mention {case.says!r}: {out}"


@pytest.mark.parametrize("lesson", _with_cases())
def test_every_exercise_has_a_right_and_an_explained_wrong_answer(lesson: str) -> None:
    module = _module(lesson)
    for exercise in exercises_in(module):
        cases = [c for c in module.CASES if c.exercise == exercise.name]
        assert any(c.correct for c in cases), f"{lesson}.{exercise.name}: no right answer tried"
        assert any(not c.correct and c.says for c in cases), (
            f"{lesson}.{exercise.name}: no wrong answer whose feedback is checked"
        )
    names = {ex.name for ex in exercises_in(module)}
    assert {c.exercise for c in module.CASES} <= names


@pytest.mark.parametrize("lesson", _with_cases())
def test_placeholders_and_garbage_are_feedback(
    lesson: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for exercise in exercises_in(_module(lesson)):
        assert exercise.check(...) is False
        assert "No answer yet" in capsys.readouterr().out
        assert exercise.check("not an answer") is False, exercise.name
        assert "❌" in capsys.readouterr().out


def _solution_lines(text: str) -> list[str]:
    """The substantive lines of a solution (what a hint must not already say)."""
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    return [line for line in lines if len(line) >= 12 and not line.startswith(("def ", "return"))]


@pytest.mark.parametrize("lesson", _with_cases())
def test_hints_do_not_give_the_solution_away(lesson: str) -> None:
    for exercise in exercises_in(_module(lesson)):
        hint = re.sub(r"\s+", "", exercise.hint_text)
        for line in _solution_lines(exercise.solution_text):
            assert re.sub(r"\s+", "", line) not in hint, f"{lesson}.{exercise.name}: {line!r}"


# --- lesson 02: the checker measures the shift test exactly like the lesson


def test_lesson02_checker_copies_the_lessons_shift_test() -> None:
    import json

    import keras
    import numpy as np

    from course_utils.exercises import lesson02

    nb = json.loads((ROOT / "notebooks" / "02_pooling.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    (defining,) = [c for c in cells if "def shift_sensitivity" in c]
    scope: dict = {"np": np}
    exec(defining, scope)  # the lesson's own cell
    x = np.random.default_rng(0).random((1, 64, 96, 2)).astype(np.float32)
    for layer in (keras.layers.MaxPool2D(2), keras.layers.AvgPool2D(3, strides=2)):
        assert scope["shift_sensitivity"](layer, x, 1) == lesson02.shift_sensitivity(layer, x, 1)
    (features_cell,) = [c for c in cells if "features = np.maximum(" in c]
    assert "edge.T, -edge.T" in features_cell  # the same four filters as edge_features()


# --- lesson 03


def test_lesson03_answers_are_computed_by_keras() -> None:
    assert lesson03.inception_output_shape() == (28, 28, 64 + 128 + 32 + 32)
    assert lesson03.residual_unit_params(64, 128, 2) == (230_144, 768)
    assert sum(lesson03.residual_unit_params(64, 128, 2)) == 230_912  # ResNet-34, unit 4
    assert lesson03.conv_multiply_adds(14, 64, 128) == 14 * 14 * 3 * 3 * 64 * 128


def test_lesson03_predict_exercises_come_before_their_reveal() -> None:
    import nbformat

    path = Path(__file__).resolve().parents[1] / "notebooks" / "03_cnn_architectures.ipynb"
    sources = [c.source for c in nbformat.read(path, as_version=4).cells]
    first = {
        name: next(i for i, s in enumerate(sources) if f"{name}.check(" in s)
        for name in ("ex1", "ex2")
    }
    assert first["ex1"] < next(i for i, s in enumerate(sources) if "inception = Inception" in s)
    assert first["ex2"] < next(i for i, s in enumerate(sources) if "count_params(resnet34)" in s)


# --- lesson 04


def test_lesson04_answers_are_computed() -> None:
    assert lesson04.cat_pad_rows() == (224 - round(720 * 224 / 1280)) // 2
    assert np.allclose(lesson04.preprocessed_pixel(), [1.0, 128 / 127.5 - 1, -1.0])
    assert lesson04.dominating("ResNet50") == [
        "Xception", "ResNet50V2", "InceptionV3", "DenseNet121", "DenseNet169", "DenseNet201"
    ]  # fmt: skip


@needs_mobilenet_v2_weights
def test_lesson04_wrong_preprocessing_changes_answers() -> None:
    wrong, right = lesson04.top1_labels("resnet50"), lesson04.top1_labels("mobilenet_v2")
    assert right[1][0] == "macaw"
    assert sum(a != b for (a, _), (b, _) in zip(wrong, right, strict=True)) >= 3


# --- lessons 05 and 06: every case is in their modules' CASES (above)


# --- lesson 07 (every other exercise is tried through its lesson's CASES)


def test_lesson07_solutions_pass() -> None:
    from course_utils.exercises import lesson07

    for exercise in (lesson07.ex1, lesson07.ex2, lesson07.ex3, lesson07.ex4, lesson07.ex5):
        scope: dict = {}
        exec(exercise.solution_text, scope)  # our own solution text
        assert exercise.check(scope["answer"]) is True, exercise.name
