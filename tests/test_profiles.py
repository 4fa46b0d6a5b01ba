from __future__ import annotations

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


def test_unknown_profile_lists_the_valid_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "turbo")
    with pytest.raises(UnknownProfileError) as err:
        get_profile()
    message = str(err.value)
    assert "turbo" in message and "COURSE_PROFILE" in message
    for name in PROFILES:
        assert name in message


@pytest.mark.parametrize(("gpu", "expected"), [(True, "full"), (False, "workshop")])
def test_default_follows_the_gpu(
    monkeypatch: pytest.MonkeyPatch, gpu: bool, expected: str
) -> None:
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
