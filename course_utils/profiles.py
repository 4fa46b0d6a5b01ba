"""Run budgets: one environment variable, ``COURSE_PROFILE``, picks them.

``smoke`` is for CI (tiny data, every code path), ``workshop`` is the CPU
default (a few minutes per lesson, under 1.5 GB), ``full`` is the GPU default
(the reference results). Lessons read every knob from one :class:`Profile`::

    >>> from course_utils.profiles import get_profile
    >>> get_profile("smoke").epochs
    1
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

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
    fine_tune_epochs: int
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
        fine_tune_epochs=1,
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
        fine_tune_epochs=3,
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
        fine_tune_epochs=10,
        backbone="MobileNetV2",
        max_train_samples=None,
        max_test_samples=None,
    ),
}


def gpu_available() -> bool:
    """True when TensorFlow sees at least one GPU.

    >>> isinstance(gpu_available(), bool)
    True
    """
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def default_profile_name() -> str:
    """``full`` when a GPU is visible, else ``workshop``.

    >>> default_profile_name() in PROFILES
    True
    """
    return "full" if gpu_available() else "workshop"


def get_profile(name: str | None = None, **overrides: object) -> Profile:
    """Return the profile called ``name`` (default: ``$COURSE_PROFILE``, then by GPU).

    Keyword arguments override single knobs, e.g. ``get_profile(epochs=3)``.

    >>> get_profile("workshop", epochs=2).epochs
    2
    """
    chosen = name or os.environ.get(ENV_VAR, "").strip() or default_profile_name()
    key = chosen.lower()
    if key not in PROFILES:
        valid = ", ".join(PROFILES)
        raise UnknownProfileError(
            f"Unknown course profile {chosen!r} (from {'the argument' if name else ENV_VAR}). "
            f"Valid profiles: {valid}. Example: export {ENV_VAR}=workshop"
        )
    profile = PROFILES[key]
    return replace(profile, **overrides) if overrides else profile
