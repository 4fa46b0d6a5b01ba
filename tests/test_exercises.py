"""Every lesson's exercises in one place: right answers pass, known wrong ones are explained.

The framework first (``Exercise``, ``close_to``, ``equals``), then every lesson's ``CASES``
(one parametrised set of tests), then checks particular to one lesson.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType

import pytest
from helpers import needs_imagenet_weights, tiny_base

from course_utils import transfer
from course_utils.exercises import (
    Case,
    Exercise,
    close_to,
    equals,
    exercises_in,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
)

needs_mobilenet_v2_weights = needs_imagenet_weights("MobileNetV2")


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


# --- lesson 03


def test_lesson03_answers_are_computed_by_keras() -> None:
    assert lesson03.conv_params(3, 64, 128) == (3 * 3 * 64 * 128 + 128) == 73_856
    assert lesson03.conv_params(3, 64, 128, use_bias=False) == 73_728
    assert lesson03.stack_output_shape() == (7, 7, 32)
    assert lesson03.se_block_params(256, 16) == 8_464
    assert lesson03.residual_unit_params(64, 128, 2) == (230_144, 768)
    assert sum(lesson03.residual_unit_params(64, 128, 2)) == 230_912  # ResNet-34, unit 4


@pytest.mark.parametrize(
    ("exercise", "right", "wrong", "message"),
    [
        (lesson03.ex1, 73_856, 73_728, "bias"),
        (lesson03.ex1, 73_856, 1_280, "all 64 input maps"),
        (lesson03.ex2, (7, 7, 32), (8, 8, 32), "valid"),
        (lesson03.ex2, [7, 7, 32], (1, 7, 7, 32), "batch"),
        (lesson03.ex3, 8_464, 8_192, "biases"),
        (lesson03.ex4, (230_144, 768), (230_144, 512), "2 statistics"),
        (lesson03.ex4, (230_144, 768), (230_144 - 8_192 - 256, 768), "skip path"),
    ],
)
def test_lesson03_accepts_right_and_explains_wrong(
    exercise, right, wrong, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exercise.check(right) is True
    assert "✅" in capsys.readouterr().out
    assert exercise.check(wrong) is False
    assert message in capsys.readouterr().out


@pytest.mark.parametrize("exercise", [lesson03.ex1, lesson03.ex2, lesson03.ex3, lesson03.ex4])
def test_lesson03_handles_no_answer_and_garbage(
    exercise, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exercise.check(...) is False
    assert "No answer yet" in capsys.readouterr().out
    assert exercise.check("not a number") is False
    assert exercise.check(12) is False
    exercise.hint()
    exercise.solution()
    out = capsys.readouterr().out
    assert "Hint" in out and "Solution" in out


def test_lesson03_solutions_are_right(capsys: pytest.CaptureFixture[str]) -> None:
    for exercise in (lesson03.ex1, lesson03.ex2, lesson03.ex3, lesson03.ex4):
        scope: dict = {}
        exec(exercise.solution_text, scope)  # our own solution text
        assert exercise.check(scope["answer"]), exercise.name


# --- lesson 04


def test_lesson04_exercise_1_preprocessing_modes(capsys: pytest.CaptureFixture[str]) -> None:
    right = {"ResNet50": "caffe", "InceptionV3": "tf", "DenseNet121": "torch", "VGG16": "caffe"}
    assert lesson04.ex1.check(right)
    assert not lesson04.ex1.check({**right, "DenseNet121": "tf"})
    assert "DenseNet121" in capsys.readouterr().out
    assert not lesson04.ex1.check({"ResNet50": "caffe"})
    assert "InceptionV3" in capsys.readouterr().out
    assert not lesson04.ex1.check("caffe")
    assert not lesson04.ex1.check(...)


@needs_mobilenet_v2_weights
def test_lesson04_exercise_2_top1_of_the_parrot(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.ex2.check("Macaw")
    assert "'macaw'" in capsys.readouterr().out
    assert not lesson04.ex2.check("parrot")


def test_lesson04_exercise_3_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.ex3.check([96, 160, 224])
    assert not lesson04.ex3.check([96, 150, 160, 224])
    assert "[150]" in capsys.readouterr().out
    assert not lesson04.ex3.check([96])
    assert not lesson04.ex3.check(224)


def test_lesson04_exercise_4_extractor_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson04.ex4.check(2_257_984)
    assert not lesson04.ex4.check(3_538_984)
    assert "head" in capsys.readouterr().out
    assert not lesson04.ex4.check("many")


# --- lessons 05 and 06


def test_lesson05_exercises(capsys) -> None:
    assert lesson05.ex1.check(6405)
    assert not lesson05.ex1.check(6400)
    assert "bias" in capsys.readouterr().out
    assert not lesson05.ex1.check(160_005)
    assert lesson05.ex2.check(5_898_497)
    assert not lesson05.ex2.check(5_898_368)
    assert lesson05.ex3.check(lambda img: img[..., ::-1])
    assert not lesson05.ex3.check(lambda img: img)
    assert not lesson05.ex3.check(lambda img: img[..., [1, 0, 2]])
    assert not lesson05.ex3.check(42)
    assert not lesson05.ex3.check(...)


def test_lesson06_exercises(capsys) -> None:
    expected = transfer.unfreeze_from(tiny_base(), 120)
    assert lesson06.ex1.check(expected)
    assert not lesson06.ex1.check(transfer.MOBILENET_V2_LAYERS - 120)
    assert "only layers with weights" in capsys.readouterr().out
    assert lesson06.ex2.check((10, 15))
    assert not lesson06.ex2.check((10, 5))
    assert lesson06.ex3.check(1e-5)
    assert not lesson06.ex3.check(0.2)
    assert not lesson06.ex3.check(1e-9)


# --- lessons 07 and 08 (lesson 07's exercises are all covered by its CASES)


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("lesson08", "ex1"),
        ("lesson08", "ex2"),
        ("lesson08", "ex3"),
        ("lesson08", "ex4"),
    ],
)
def test_exercise_solutions_pass_and_wrong_answers_fail(module: str, name: str) -> None:
    ex = getattr(importlib.import_module(f"course_utils.exercises.{module}"), name)
    scope: dict = {}
    exec(ex.solution_text, scope)
    assert ex.check(scope["answer"]) is True
    assert ex.check(...) is False


@pytest.mark.parametrize(
    ("module", "name", "wrong"),
    [
        ("lesson08", "ex1", (10, 15)),
        ("lesson08", "ex2", (16, 16, 32)),
        ("lesson08", "ex3", [0, 1, 3, 2]),
        ("lesson08", "ex4", 13 * 13 * (5 * 5 + 20)),
    ],
)
def test_exercise_wrong_answers(
    module: str, name: str, wrong: object, capsys: pytest.CaptureFixture[str]
) -> None:
    ex = getattr(importlib.import_module(f"course_utils.exercises.{module}"), name)
    assert ex.check(wrong) is False
    assert "Not yet" in capsys.readouterr().out


def test_lesson07_solutions_pass() -> None:
    from course_utils.exercises import lesson07

    for exercise in (lesson07.ex1, lesson07.ex2, lesson07.ex3, lesson07.ex4, lesson07.ex5):
        scope: dict = {}
        exec(exercise.solution_text, scope)  # our own solution text
        assert exercise.check(scope["answer"]) is True, exercise.name
