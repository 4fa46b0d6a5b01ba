"""Run budgets: one environment variable, ``COURSE_PROFILE``, picks them.

``smoke`` is for CI (tiny data, every code path), ``workshop`` is the CPU
default (a few minutes per lesson, under 1.5 GB), ``full`` is the GPU default
(the reference results). Lessons read every knob from here: the knobs all
lessons share from one :class:`Profile`, each lesson's own from
:data:`LESSON_SETTINGS` (notebooks, benchmarks and tests read the same dict)::

    >>> from course_utils.profiles import get_profile, lesson_settings
    >>> get_profile("smoke").epochs
    1
    >>> lesson_settings("05", "full")["end_to_end_epochs"]
    10
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import Any

ENV_VAR = "COURSE_PROFILE"


class UnknownProfileError(ValueError):
    """Raised for a profile name that is not one of :data:`PROFILES`."""


@dataclass(frozen=True)
class Profile:
    """The knobs a lesson reads. ``None`` for a sample count means "all of it"."""

    name: str
    description: str
    image_size: int
    images_per_class: int | None
    batch_size: int
    epochs: int
    backbone: str
    max_train_samples: int | None
    max_test_samples: int | None
    seed: int = 42

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(image_size, image_size, 3)``, the input shape of the backbone.

        >>> get_profile("smoke").image_shape
        (96, 96, 3)
        """
        return (self.image_size, self.image_size, 3)

    def as_table(self) -> str:
        """The knobs as an aligned two-column text table (for notebooks).

        >>> print(get_profile("smoke").as_table().splitlines()[0])
        name              smoke
        """
        return "\n".join(f"{key:<17} {value}" for key, value in asdict(self).items())


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="CI: tiny subsets, one epoch, small images; every code path in seconds",
        image_size=96,
        images_per_class=16,
        batch_size=16,
        epochs=1,
        backbone="MobileNetV2",
        max_train_samples=512,
        max_test_samples=256,
    ),
    "workshop": Profile(
        name="workshop",
        description="CPU default: a few minutes per lesson, under 1.5 GB of memory",
        image_size=160,
        images_per_class=150,
        batch_size=32,
        epochs=5,
        backbone="MobileNetV2",
        max_train_samples=20_000,
        max_test_samples=None,
    ),
    "full": Profile(
        name="full",
        description="GPU default: full datasets, the epochs of the reference results",
        image_size=160,
        images_per_class=None,
        batch_size=32,
        epochs=10,
        backbone="MobileNetV2",
        max_train_samples=None,
        max_test_samples=None,
    ),
}


def gpu_available() -> bool:
    """True when TensorFlow sees at least one GPU.

    >>> import tensorflow as tf
    >>> gpu_available() == (len(tf.config.list_physical_devices("GPU")) > 0)
    True
    """
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def default_profile_name() -> str:
    """``full`` when a GPU is visible, else ``workshop``.

    >>> default_profile_name() == ("full" if gpu_available() else "workshop")
    True
    """
    return "full" if gpu_available() else "workshop"


def get_profile(name: str | None = None, **overrides: object) -> Profile:
    """Return the profile called ``name`` (default: ``$COURSE_PROFILE``, then by GPU).

    Keyword arguments override single knobs, e.g. ``get_profile(epochs=3)``. The
    name is read like the environment variable: spaces around it are dropped and
    case does not matter; a blank name counts as none.

    >>> get_profile("workshop", epochs=2).epochs
    2
    >>> get_profile(" Smoke ").name
    'smoke'
    """
    given = (name or "").strip()
    chosen = given or os.environ.get(ENV_VAR, "").strip() or default_profile_name()
    key = chosen.casefold()
    if key not in PROFILES:
        valid = ", ".join(PROFILES)
        raise UnknownProfileError(
            f"Unknown course profile {chosen!r} (from {'the argument' if given else ENV_VAR}). "
            f"Valid profiles: {valid}. Example: export {ENV_VAR}=workshop"
        )
    profile = PROFILES[key]
    return replace(profile, **overrides) if overrides else profile


#: Each lesson's own knobs, per profile. A lesson's knob cell shows them
#: (``LESSON = lesson_settings("05", P)``); benchmarks and tests read them here,
#: so a benchmark always trains exactly like its lesson.
LESSON_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "03": {  # which Fashion CNN trains, on how much of Fashion-MNIST, how long
        "smoke": {"trained_model": "compact", "train_samples": 512, "val_samples": 256,
                  "epochs": 1, "batch_size": 128, "learning_rate": 5e-3, "lenet_epochs": 1},
        "workshop": {"trained_model": "compact", "train_samples": 55_000, "val_samples": 2_000,
                     "epochs": 3, "batch_size": 128, "learning_rate": 5e-3, "lenet_epochs": 3},
        "full": {"trained_model": "book", "train_samples": 55_000, "val_samples": 5_000,
                 "epochs": 10, "batch_size": 64, "learning_rate": 1e-3, "lenet_epochs": 10},
    },
    "04": {  # which catalogue models to rebuild, flower photos, Hub training, extra classifiers
        "smoke": {"catalogue": "small", "flowers_per_class": 4, "hub_per_class": 8,
                  "hub_epochs": 1, "extra_models": []},
        "workshop": {"catalogue": "under 30M parameters", "flowers_per_class": 12,
                     "hub_per_class": 40, "hub_epochs": 3, "extra_models": []},
        "full": {"catalogue": "all", "flowers_per_class": 40, "hub_per_class": None,
                 "hub_epochs": 5, "extra_models": ["ResNet50", "InceptionV3"]},
    },
    "05": {  # cats vs dogs photos per class folder, test share of the validation folder, epochs
        "smoke": {"images_per_class": 16, "test_fraction": 0.5, "head_epochs": 10,
                  "end_to_end_epochs": 2, "batch_size": 16},
        "workshop": {"images_per_class": 250, "test_fraction": 0.5, "head_epochs": 10,
                     "end_to_end_epochs": 2, "batch_size": 16},
        "full": {"images_per_class": None, "test_fraction": 0.5, "head_epochs": 10,
                 "end_to_end_epochs": 10, "batch_size": 32},
    },
    "06": {  # flower photos and splits, head phase, fine-tuning, learning-rate and early-stop demos
        "smoke": {"images_per_class": 16, "val_fraction": 0.4, "test_fraction": 0.5,
                  "head_epochs": 10, "fine_tune_at": "block_12_expand", "learning_rate": 1e-4,
                  "fine_tune_epochs": 1, "batch_size": 16, "too_high_rate": 0.2,
                  "demo_steps": 2, "overfit_max_epochs": 20, "patience": 3},
        "workshop": {"images_per_class": 300, "val_fraction": 0.4, "test_fraction": 0.5,
                     "head_epochs": 10, "fine_tune_at": "block_12_expand", "learning_rate": 1e-4,
                     "fine_tune_epochs": 8, "batch_size": 16, "too_high_rate": 0.2,
                     "demo_steps": 10, "overfit_max_epochs": 100, "patience": 5},
        "full": {"images_per_class": None, "val_fraction": 0.4, "test_fraction": 0.5,
                 "head_epochs": 10, "fine_tune_at": "block_12_expand", "learning_rate": 1e-4,
                 "fine_tune_epochs": 10, "batch_size": 32, "too_high_rate": 0.2,
                 "demo_steps": 20, "overfit_max_epochs": 100, "patience": 5},
    },
    "07": {
        "smoke": {"n_train": 64, "n_val": 32, "n_test": 32, "head_epochs": 2,
                  "photos_per_class": 16},
        "workshop": {"n_train": 2000, "n_val": 300, "n_test": 300, "head_epochs": 60,
                     "photos_per_class": None},
        "full": {"n_train": 6000, "n_val": 600, "n_test": 600, "head_epochs": 80,
                 "photos_per_class": None},
    },
    "08": {  # det_chunk: training scenes made (and their pixels held) at a time
        "smoke": {"patches": 64, "patch_epochs": 1, "det_train": 48, "det_chunk": 24,
                  "det_test": 16, "det_epochs": 1, "seg_scenes": 64, "seg_epochs": 1},
        "workshop": {"patches": 400, "patch_epochs": 3, "det_train": 5000, "det_chunk": 500,
                     "det_test": 300, "det_epochs": 12, "seg_scenes": 600, "seg_epochs": 8},
        "full": {"patches": 800, "patch_epochs": 5, "det_train": 6000, "det_chunk": 1000,
                 "det_test": 600, "det_epochs": 50, "seg_scenes": 1000, "seg_epochs": 10},
    },
}  # fmt: skip


def _lesson(lesson: str) -> dict[str, dict[str, Any]]:
    if lesson not in LESSON_SETTINGS:
        raise KeyError(
            f"no settings for lesson {lesson!r}; lessons with their own knobs: "
            f"{', '.join(LESSON_SETTINGS)}"
        )
    return LESSON_SETTINGS[lesson]


def lesson_settings(
    lesson: str, profile: Profile | str | None = None, **overrides: Any
) -> dict[str, Any]:
    """Lesson ``lesson``'s own knobs in ``profile`` (default: the active profile).

    Keyword arguments change single knobs for this run, e.g.
    ``lesson_settings("05", P, head_epochs=20)``; an unknown knob is refused.

    >>> lesson_settings("07", "workshop")["n_train"]
    2000
    >>> lesson_settings("07", "smoke", n_test=10)["n_test"]
    10
    """
    name = profile.name if isinstance(profile, Profile) else get_profile(profile).name
    settings = dict(_lesson(lesson)[name])
    unknown = set(overrides) - set(settings)
    if unknown:
        raise KeyError(f"lesson {lesson} has no knob {sorted(unknown)}; it has {sorted(settings)}")
    return settings | overrides


def lesson_table(lesson: str, active: Profile | str | None = None) -> str:
    """Lesson ``lesson``'s knobs in every profile, side by side, ``*`` on the active one.

    >>> print(lesson_table("07", "workshop"))
    knob              smoke  workshop*  full
    n_train           64     2000       6000
    n_val             32     300        600
    n_test            32     300        600
    head_epochs       2      60         80
    photos_per_class  16     None       None
    """
    by_profile = _lesson(lesson)
    chosen = active.name if isinstance(active, Profile) else get_profile(active).name
    heads = [f"{name}*" if name == chosen else name for name in by_profile]
    rows = [["knob", *heads]] + [
        [knob, *(str(settings[knob]) for settings in by_profile.values())]
        for knob in next(iter(by_profile.values()))
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
