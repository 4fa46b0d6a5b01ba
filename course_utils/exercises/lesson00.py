"""Exercises for lesson 00 (setup, profiles, the data cache).

The checkers read the course's own settings, so they stay right when a
profile or a lesson's knob changes::

    >>> ex1.check(32 * 160 * 160 * 3)
    ✅ Correct! (ex1) 32 images x 160 x 160 pixels x 3 colour channels.
    True
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from course_utils import datasets
from course_utils.exercises import Case, Exercise
from course_utils.profiles import PROFILES, lesson_settings

#: The dataset exercise 3 asks for, from a folder that does not have it.
DATASET = "flower_photos"


def _batch_numbers(answer: object) -> bool | tuple[bool, str]:
    p = PROFILES["workshop"]
    b, s = p.batch_size, p.image_size
    got = int(answer)  # type: ignore[call-overload]
    if got == b * s * s * 3:
        return True, f"{b} images x {s} x {s} pixels x 3 colour channels."
    if got == b * s * s:
        return False, "You forgot the colour channels: every pixel holds 3 numbers (R, G, B)."
    if got == s * s * 3:
        return False, "That is one image: a batch holds batch_size of them."
    if got == b * s * 3 or got == b * s * 2:
        return False, "Height and width multiply: an image has size x size pixels."
    return False, "A batch tensor is [batch, height, width, channels]: multiply the four sizes."


def _own_knob(answer: object) -> bool | tuple[bool, str]:
    expected = lesson_settings("05", "workshop")["head_epochs"]
    got = int(answer)  # type: ignore[call-overload]
    if got == expected:
        return True, "get_profile(epochs=3) changes the shared knob; lesson 05 reads its own."
    if got == 3:
        return False, (
            "epochs=3 overrides the profile's shared 'epochs' knob, but lesson 05 reads its head "
            "epochs from lesson_settings('05', P), its own knob: look at LESSON_SETTINGS."
        )
    if got == PROFILES["workshop"].epochs:
        return False, "That is the profile's shared 'epochs'; lesson 05 has a knob of its own."
    return False, "Lesson 05's knobs come from lesson_settings('05', P): print it for workshop."


def _offline_error(answer: object) -> bool | tuple[bool, str]:
    if isinstance(answer, Path):
        return False, (
            f"That call found a copy ({answer}), so nothing failed: point root= at an empty "
            "folder and pass download=False."
        )
    if isinstance(answer, datasets.UnknownDatasetError):
        return False, f"That name is not in the registry: ask for {DATASET!r}."
    if isinstance(answer, TypeError):
        return False, f"Check the call's arguments: {answer}"
    if not isinstance(answer, BaseException):
        return False, "Hand in the error you caught: except ... as err: ex3.check(err)."
    if not isinstance(answer, datasets.DatasetUnavailableError):
        kind = type(answer).__name__
        return False, f"A {kind}, not the course's DatasetUnavailableError: {answer}"
    text = str(answer)
    if DATASET not in text:
        return False, f"That error is about another dataset; ask for {DATASET!r}."
    return True, "It names the folders it searched and two ways to fix it: read them."


ex1 = Exercise(
    "ex1",
    "How many numbers are in one batch tensor of the workshop profile (RGB images)?",
    _batch_numbers,
    hint="Use the knobs the profile table shows: batch size, image size; and colour channels.",
    solution=(
        'p = get_profile("workshop")\n'
        "answer = p.batch_size * p.image_size * p.image_size * 3  # 2,457,600"
    ),
)

ex2 = Exercise(
    "ex2",
    "Predict: with P = get_profile('workshop', epochs=3), how many head epochs in lesson 05?",
    _own_knob,
    hint="Which knobs does get_profile hold, and where do lessons 03-08 keep their own?",
    solution='answer = lesson_settings("05", get_profile("workshop", epochs=3))["head_epochs"]',
    kind="predict",
)

ex3 = Exercise(
    "ex3",
    "Make the course look for the flower photos in an empty folder, offline; hand in the error.",
    _offline_error,
    hint="tempfile.mkdtemp() makes an empty folder; get_dataset takes root= and download=.",
    solution=(
        "import tempfile\n"
        "from pathlib import Path\n\n"
        "try:\n"
        '    datasets.get_dataset("flower_photos", root=Path(tempfile.mkdtemp()), download=False)\n'
        "except datasets.DatasetUnavailableError as err:\n"
        "    answer = err"
    ),
    kind="modify",
)


def _caught(**kwargs: object) -> BaseException | Path:
    try:
        return datasets.get_dataset(**kwargs)  # type: ignore[arg-type]
    except (datasets.DatasetUnavailableError, KeyError, TypeError) as err:
        return err


CASES = [
    Case("ex1", 2_457_600, correct=True),
    Case("ex1", 819_200, says="colour channels"),
    Case("ex1", 76_800, says="one image"),
    Case("ex1", 15_360, says="multiply"),
    Case("ex2", build=lambda: lesson_settings("05", "workshop")["head_epochs"], correct=True),
    Case("ex2", 3, says="its own knob"),
    Case(
        "ex3",
        build=lambda: _caught(name=DATASET, root=Path(tempfile.mkdtemp()), download=False),
        correct=True,
        says="folders it searched",
    ),
    Case(
        "ex3",
        build=lambda: _caught(name="flowers", root=Path(tempfile.mkdtemp())),
        says="not in the registry",
    ),
    Case("ex3", Path("/data/flower_photos"), says="found a copy"),
    Case("ex3", "it failed", says="Hand in the error"),
    Case("ex3", ValueError("boom"), says="not the course's"),
]
