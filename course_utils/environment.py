"""Where is this lesson running, and with what? (lesson 00)

>>> where_am_i()  # on a laptop or in CI
'local'
>>> environment_report()["Keras"].split(".")[0]
'3'
>>> environment_report()["Keras backend"]
'tensorflow'
"""

from __future__ import annotations

import os
import platform
import sys


def where_am_i() -> str:
    """``colab``, ``binder``, ``kaggle`` or ``local``, from the environment.

    >>> os.environ["BINDER_SERVICE_HOST"] = "10.0.0.1"  # what Binder sets
    >>> where_am_i()
    'binder'
    >>> del os.environ["BINDER_SERVICE_HOST"]
    """
    if "google.colab" in sys.modules or os.environ.get("COLAB_RELEASE_TAG"):
        return "colab"
    if os.environ.get("BINDER_SERVICE_HOST") or os.environ.get("BINDER_LAUNCH_HOST"):
        return "binder"
    if os.environ.get("KAGGLE_KERNEL_RUN_TYPE"):
        return "kaggle"
    return "local"


def environment_report() -> dict[str, str]:
    """Versions, platform, GPU, active profile and cache folders, as strings.

    >>> report = environment_report()
    >>> "TensorFlow" in report and "Keras cache (KERAS_HOME)" in report
    True
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from course_utils import datasets, profiles, startup

    gpus = tf.config.list_physical_devices("GPU")
    profile = profiles.get_profile()
    return {
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
        "Keras backend": keras.backend.backend(),
        "NumPy": np.__version__,
        "Running on": where_am_i(),
        "GPU": ", ".join(g.name for g in gpus) if gpus else "none (CPU only)",
        "Profile": f"{profile.name} ({profile.description})",
        "Data cache (COURSE_DATA_DIR)": str(datasets.data_dir()),
        "Keras cache (KERAS_HOME)": str(datasets.keras_home()),
        "TensorFlow start-up notices hidden": (
            f"{len(startup.HIDDEN)} (set {startup.LOGS_ENV_VAR}=1 before importing to see them)"
        ),
    }


def print_environment() -> None:
    """Print :func:`environment_report` as an aligned table."""
    report = environment_report()
    width = max(map(len, report))
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
