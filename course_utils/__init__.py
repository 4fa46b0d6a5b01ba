"""Helpers shared by the deep-vision course's lessons.

Each module has one concern: ``profiles`` (the run budget), ``datasets``
(download, verify, extract, subset), ``images`` (robust photo loading),
``plots``, ``exercises``, ``environment``, ``saving`` (safe model loading), ``startup``
(a quiet TensorFlow start),
and one module per lesson topic (``architectures``, ``backbones``, ``hub``,
``transfer``, ``boxes``, ``localization``, ``detection``). Import what a lesson needs::

    from course_utils import profiles
    P = profiles.get_profile()
"""

from __future__ import annotations

import os
import warnings

__version__ = "0.1.0"

if os.environ.get("COURSE_STRICT_WARNINGS") == "1":
    # CI sets this so that a deprecated Keras/TensorFlow call made by a lesson
    # (code in ``__main__``) or by this package fails instead of warning.
    warnings.filterwarnings(
        "error", category=DeprecationWarning, module=r"(__main__|course_utils(\..*)?)$"
    )

# TensorFlow's routine start-up notices (oneDNN, CUDA probes) are hidden; anything else shows.
from course_utils.startup import quiet_start  # noqa: E402

quiet_start()
