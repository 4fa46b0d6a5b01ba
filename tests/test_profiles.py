from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_utils import profiles
from course_utils.profiles import PROFILES, UnknownProfileError, get_profile


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_loads_by_name(name: str) -> None:
    profile = get_profile(name)
    assert profile.name == name
    assert profile.image_shape == (profile.image_size, profile.image_size, 3)
    assert name in profile.as_table()


def test_environment_variable_selects_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert get_profile().name == "smoke"
    monkeypatch.setenv("COURSE_PROFILE", "  Workshop ")
    assert get_profile().name == "workshop"


@pytest.mark.parametrize(
    ("typed", "name"), [(" Smoke ", "smoke"), ("WORKSHOP", "workshop"), ("\tFull\n", "full")]
)
def test_argument_is_read_like_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, typed: str, name: str
) -> None:
    assert get_profile(typed).name == name
    monkeypatch.setenv("COURSE_PROFILE", typed)
    assert get_profile().name == name
    assert profiles.lesson_settings("07", typed) == profiles.lesson_settings("07", name)


def test_blank_argument_counts_as_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert get_profile("  ").name == "smoke"


def test_unknown_argument_names_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    with pytest.raises(UnknownProfileError, match=r"'turbo' \(from the argument\)"):
        get_profile(" turbo ")


def test_unknown_profile_lists_the_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "turbo")
    with pytest.raises(UnknownProfileError) as err:
        get_profile()
    message = str(err.value)
    assert "turbo" in message and "COURSE_PROFILE" in message
    for name in PROFILES:
        assert name in message


@pytest.mark.parametrize(("gpu", "expected"), [(True, "full"), (False, "workshop")])
def test_default_follows_the_gpu(monkeypatch: pytest.MonkeyPatch, gpu: bool, expected: str) -> None:
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setattr(profiles, "gpu_available", lambda: gpu)
    assert get_profile().name == expected


def test_gpu_probe_matches_tensorflow() -> None:
    import tensorflow as tf

    assert profiles.gpu_available() == bool(tf.config.list_physical_devices("GPU"))


def test_overrides_change_one_knob_only() -> None:
    base = get_profile("workshop")
    tuned = get_profile("workshop", epochs=1)
    assert tuned.epochs == 1 and tuned.batch_size == base.batch_size


def test_reduced_profiles_are_smaller_than_full() -> None:
    smoke, workshop, full = (PROFILES[n] for n in ("smoke", "workshop", "full"))
    assert smoke.images_per_class < workshop.images_per_class
    assert full.images_per_class is None
    assert smoke.epochs <= workshop.epochs <= full.epochs


# --- each lesson's own knobs: one home (LESSON_SETTINGS) -------------------------


def test_every_lesson_has_the_same_knobs_in_every_profile() -> None:
    for lesson, by_profile in profiles.LESSON_SETTINGS.items():
        assert list(by_profile) == list(profiles.PROFILES), lesson
        knobs = [list(settings) for settings in by_profile.values()]
        assert all(k == knobs[0] for k in knobs), f"lesson {lesson}: {knobs}"


def test_lesson_settings_follow_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert profiles.lesson_settings("05")["end_to_end_epochs"] == 10
    assert profiles.lesson_settings("05", "smoke")["end_to_end_epochs"] == 2
    workshop = profiles.get_profile("workshop")
    assert profiles.lesson_settings("05", workshop)["end_to_end_epochs"] == 2


def test_lesson_settings_are_copies_with_overrides() -> None:
    mine = profiles.lesson_settings("07", "smoke", head_epochs=9)
    mine["n_train"] = -1
    assert mine["head_epochs"] == 9
    expected = {"n_train": 64, "n_val": 32, "n_test": 32, "head_epochs": 2, "photos_per_class": 16}
    assert profiles.lesson_settings("07", "smoke") == expected


def test_lesson_settings_errors_name_the_fix() -> None:
    with pytest.raises(KeyError, match="lessons with their own knobs: 03, 04"):
        profiles.lesson_settings("99", "smoke")
    with pytest.raises(KeyError, match=r"no knob \['epoch'\]; it has"):
        profiles.lesson_settings("03", "smoke", epoch=3)
    with pytest.raises(profiles.UnknownProfileError, match="Valid profiles"):
        profiles.lesson_settings("03", "fast")


def test_lesson_table_marks_the_active_profile() -> None:
    lines = profiles.lesson_table("05", "full").splitlines()
    assert lines[0].split() == ["knob", "smoke", "workshop", "full*"]
    assert lines[4].split() == ["end_to_end_epochs", "2", "2", "10"]


NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lessons_read_their_knobs_from_the_one_home(path: Path) -> None:
    """A lesson's knob cell shows LESSON_SETTINGS[its number]; no lesson keeps its own copy."""
    code = [
        "".join(c["source"])
        for c in json.loads(path.read_text())["cells"]
        if c["cell_type"] == "code"
    ]
    number = path.name[:2]
    own = f'LESSON = lesson_settings("{number}", P)'
    assert not any('"smoke":' in c or "'smoke':" in c for c in code), "knobs belong in profiles.py"
    if number in profiles.LESSON_SETTINGS:
        assert sum(own in c for c in code) == 1, f"{path.name}: the knob cell needs {own}"
        assert any(f'lesson_table("{number}", P)' in c for c in code)
    else:  # it may show another lesson's knobs (lesson 00 does), but has none of its own
        assert not any("LESSON = lesson_settings(" in c for c in code)
