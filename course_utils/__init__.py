"""Helpers shared by the deep-vision course's lessons, one concern per module.

Shared: ``profiles`` (the run budget and each lesson's own knobs), ``datasets``
(the registry, the cache, fetching), ``archives`` (download, verify, extract),
``folders`` (class folders, per-class subsets), ``images`` (robust photo loading),
``plots``, ``exercises``, ``environment``, ``measure`` (time, memory, the machine,
results tables), ``saving`` (safe model loading), ``startup`` (a quiet TensorFlow
start). One module per lesson topic: ``architectures``, ``backbones``, ``hub``,
``pipelines`` (splits, feature caching) and ``transfer`` (bases, heads,
unfreezing), ``boxes``, ``localization``, ``detection``. Import what a lesson needs::

    >>> from course_utils import profiles
    >>> profiles.get_profile("workshop").image_size
    160
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

# Keras must run on TensorFlow (checked before anything imports Keras); then TensorFlow's
# routine start-up notices (oneDNN, CUDA probes) are hidden and anything else shows.
from course_utils.startup import check_backend, quiet_start

check_backend()
quiet_start()
