"""Exercises for lesson 00 (setup and profiles)."""

from __future__ import annotations

from course_utils.exercises import Exercise, equals
from course_utils.profiles import PROFILES

ex1 = Exercise(
    "ex1",
    "Which profile runs on Binder (no GPU) when COURSE_PROFILE is not set?",
    lambda a: (
        str(a).strip().lower() == "workshop"
        or (False, "Without a GPU the default is the CPU profile, not the CI one or the GPU one.")
    ),
    hint="The default depends on one thing only: is a GPU visible?",
    solution='answer = "workshop"  # full needs a GPU; smoke is only for CI',
)

ex2 = Exercise(
    "ex2",
    "How many epochs does the smoke profile train for?",
    equals(PROFILES["smoke"].epochs, lambda a: f"{a} is not what the smoke profile says."),
    hint='get_profile("smoke") returns a Profile; look at its attributes.',
    solution='answer = get_profile("smoke").epochs',
)
