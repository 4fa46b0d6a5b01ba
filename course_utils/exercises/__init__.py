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
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

Checker = Callable[[Any], "bool | tuple[bool, str]"]


class Exercise:
    """One question: a checker, a hint and a worked solution."""

    def __init__(
        self, name: str, question: str, checker: Checker, *, hint: str, solution: str
    ) -> None:
        self.name = name
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
            print(
                f"❌ Not yet ({self.name}). {message or 'Try again, or call .hint().'}".rstrip()
            )
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
        return f"Exercise {self.name}: {self.question}"


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
