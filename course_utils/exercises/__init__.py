"""Exercises that check the student's answer.

Each lesson has a module here (``lesson01`` ...) with ready-made exercises.
The pattern::

    >>> ex = Exercise("double", "Double 21.", lambda a: a == 42,
    ...               hint="Multiply by two.", solution="answer = 21 * 2")
    >>> ex.check(42)
    ✅ Correct! (double)
    True

The solution text lives in this package, not in the notebook, so a student
sees it only after calling ``ex.solution()``.

Each exercise has a ``kind``: ``"predict"`` (write the shape, count or outcome
down *before* the cell that reveals it), ``"compute"`` (work a number out),
``"code"`` (write a function the checker compares with the library's), or
``"modify"`` (change a model, layer or pipeline, run it, and hand in what you
built or measured). Each lesson module lists, in ``CASES``, answers the tests
try: every right answer must pass and every known wrong one must be refused
with feedback that names the mistake (``tests/test_exercises.py``)::

    >>> Case("ex1", 41, correct=False, says="not 6 x 7").exercise
    'ex1'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

Checker = Callable[[Any], "bool | tuple[bool, str]"]
Kind = Literal["predict", "compute", "code", "modify"]
KINDS: tuple[str, ...] = ("predict", "compute", "code", "modify")


class Exercise:
    """One question: a checker, a hint and a worked solution."""

    def __init__(
        self,
        name: str,
        question: str,
        checker: Checker,
        *,
        hint: str,
        solution: str,
        kind: Kind = "compute",
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"exercise {name}: kind {kind!r} is not one of {KINDS}")
        self.name = name
        self.kind = kind
        self.question = question
        self.checker = checker
        self.hint_text = hint
        self.solution_text = solution

    def check(self, answer: Any) -> bool:
        """Print whether ``answer`` is right (with a useful message) and return it as a bool.

        The checker may return a bool or ``(bool, message)``.
        """
        if answer is None or answer is Ellipsis:
            print(f"❓ No answer yet ({self.name}): replace ... with your answer.")
            return False
        try:
            result = self.checker(answer)
        except Exception as err:  # a malformed answer is feedback, not a crash
            print(f"❌ Could not check that answer ({self.name}): {type(err).__name__}: {err}")
            return False
        ok, message = result if isinstance(result, tuple) else (bool(result), "")
        if ok:
            print(f"✅ Correct! ({self.name})" + (f" {message}" if message else ""))
        else:
            print(f"❌ Not yet ({self.name}). {message or 'Try again, or call .hint().'}".rstrip())
        return bool(ok)

    def hint(self) -> None:
        """Print a hint."""
        print(f"💡 Hint ({self.name}): {self.hint_text}")

    def solution(self) -> None:
        """Print the worked solution (unless ``COURSE_HIDE_SOLUTIONS=1``, e.g. in an exam copy)."""
        if os.environ.get("COURSE_HIDE_SOLUTIONS") == "1":
            print(f"🔒 Solutions are hidden in this copy of the lesson ({self.name}). Try .hint().")
            return
        print(f"📖 Solution ({self.name}):\n{self.solution_text}")

    def __repr__(self) -> str:
        return f"Exercise {self.name} ({self.kind}): {self.question}"


@dataclass(frozen=True)
class Case:
    """An answer the tests hand to exercise ``exercise`` of a lesson module.

    ``correct`` says whether ``check`` must accept it; ``says`` is text the
    feedback must contain (for a wrong answer: the likely mistake named).
    An answer that is costly to make (a trained model) is given as
    ``build``, a function called only when the test runs.

    >>> Case("ex2", build=lambda: (7, 7, 32), correct=True).value()
    (7, 7, 32)
    """

    exercise: str
    answer: Any = None
    correct: bool = False
    says: str = ""
    build: Callable[[], Any] | None = None

    def value(self) -> Any:
        """The answer itself (``build()`` when given)."""
        return self.build() if self.build is not None else self.answer


def exercises_in(module: ModuleType) -> list[Exercise]:
    """The exercises a lesson module defines, in the order of their names.

    >>> from course_utils.exercises import lesson02
    >>> [ex.name for ex in exercises_in(lesson02)][:2]
    ['ex1', 'ex2']
    """
    found = [v for v in vars(module).values() if isinstance(v, Exercise)]
    return sorted(found, key=lambda ex: (len(ex.name), ex.name))


def close_to(expected: float, tol: float = 1e-6) -> Checker:
    """A checker accepting numbers within ``tol`` of ``expected``.

    >>> close_to(0.5, 0.01)(0.505)
    True
    """
    return lambda answer: abs(float(answer) - expected) <= tol


def equals(expected: Any, explain: Callable[[Any], str] | None = None) -> Checker:
    """A checker for an exact answer, with an optional message builder for wrong ones.

    >>> equals((2, 3))([2, 3])
    True
    """

    def check(answer: Any) -> bool | tuple[bool, str]:
        ok = tuple(answer) == tuple(expected) if isinstance(expected, tuple) else answer == expected
        if ok or explain is None:
            return bool(ok)
        return False, explain(answer)

    return check
