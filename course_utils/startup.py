"""A quiet TensorFlow start: its routine start-up notices hidden, anything else shown.

Importing TensorFlow prints a dozen lines from its C++ core straight to the
process's standard error, which Jupyter shows in red under the student's
first cell: the oneDNN notice, "Could not find cuda drivers", "failed call to
cuInit" on a machine without a GPU driver, CPU-instruction notices, factory
registrations on Colab's GPUs. None of them means something is wrong.
:func:`quiet_start` (run by ``import course_utils``) imports TensorFlow and
lists its devices with standard error captured, keeps the lines that match
:data:`ROUTINE` in :data:`HIDDEN`, and prints every other line as usual, so a
real problem still shows. It also silences one Python warning that is not the
student's to act on: ``tensorflow_hub`` 0.16 imports ``pkg_resources``, which
setuptools reports as deprecated (:data:`ROUTINE_WARNINGS`). ``COURSE_TF_LOGS=1``
turns both filters off.

Before that, :func:`check_backend` makes sure Keras will run on TensorFlow:
the lessons use ``tf.data``, TensorFlow Hub and SavedModels, so a
``KERAS_BACKEND`` (or ``keras.json``) that picks JAX or PyTorch stops
``import course_utils`` at once, with the fix, instead of failing lessons later.

    >>> is_routine("I0000 00:00:17.0 7758 port.cc:153] oneDNN custom operations are on.")
    True
    >>> is_routine("E0000 00:00:17.0 7758 dso_loader.cc:9] Could not load libcudnn.so.9")
    False
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

LOGS_ENV_VAR = "COURSE_TF_LOGS"
BACKEND_ENV_VAR = "KERAS_BACKEND"
ROUTINE = tuple(
    re.compile(p)
    for p in (
        r"All log messages before absl::InitializeLog\(\) is called are written to STDERR",
        r"oneDNN custom operations are on",
        r"Could not find cuda drivers on your machine",
        r"failed call to cuInit",
        r"This TensorFlow binary is optimized to use available CPU instructions",
        r"^To enable the following instructions: .* rebuild TensorFlow",
        r"Unable to register cu(DNN|FFT|BLAS) factory",
        r"computation placer already registered",
        r"TF-TRT Warning: Could not find TensorRT",
        r"Created device /job:localhost/replica:0/task:0/device:GPU",
    )
)
#: (message regex, module regex) of Python warnings raised inside libraries at import time.
ROUTINE_WARNINGS = (("pkg_resources is deprecated as an API", r"tensorflow_hub(\..*)?$"),)
HIDDEN: list[str] = []


class BackendError(RuntimeError):
    """Keras is set to run on another backend than TensorFlow, which the course needs."""


def check_backend() -> None:
    """Refuse a Keras backend other than TensorFlow, naming the setting and the fix.

    Reads what Keras will read: ``KERAS_BACKEND``, else ``"backend"`` in
    ``$KERAS_HOME/keras.json`` (or ``~/.keras/keras.json``), or, when Keras is
    imported already, the backend it runs. ``KERAS_BACKEND=" TensorFlow "`` is
    rewritten as ``tensorflow`` (Keras itself would refuse the spelling).
    ``import course_utils`` runs it before anything imports Keras.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {BACKEND_ENV_VAR: "jax"}), mock.patch.dict(sys.modules):
    ...     _ = sys.modules.pop("keras", None)  # as in a fresh kernel
    ...     check_backend()
    Traceback (most recent call last):
    ...
    course_utils.startup.BackendError: Keras is set to run on JAX (KERAS_BACKEND='jax'), ...
    """
    in_first_cell = (
        f'put os.environ["{BACKEND_ENV_VAR}"] = "tensorflow" in the first cell, before '
        "anything imports keras"
    )
    configured = os.environ.get(BACKEND_ENV_VAR, "").strip()
    if "keras" in sys.modules:  # what it runs on now, whatever the settings say
        keras = sys.modules["keras"]
        backend = keras.config.backend() if hasattr(keras, "config") else "tensorflow"
        source, fix = "keras was imported already", f"restart the kernel, then {in_first_cell}"
    elif configured:
        backend, source = configured, f"{BACKEND_ENV_VAR}={configured!r}"
        fix = f"`unset {BACKEND_ENV_VAR}` in the shell before starting Jupyter, or {in_first_cell}"
    else:
        config = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "keras.json"
        try:
            backend = str(json.loads(config.read_text(encoding="utf-8")).get("backend") or "")
        except (OSError, ValueError, AttributeError):
            backend = ""  # no readable keras.json: Keras uses its default, TensorFlow
        source = f'"backend": "{backend}" in {config}'
        fix = f'change it to "tensorflow" there, or {in_first_cell}'
    if backend.strip().lower() in ("tensorflow", ""):
        if backend not in ("tensorflow", ""):
            os.environ[BACKEND_ENV_VAR] = "tensorflow"  # Keras reads only this spelling
        return
    names = {"jax": "JAX", "torch": "PyTorch", "numpy": "NumPy", "openvino": "OpenVINO"}
    raise BackendError(
        f"Keras is set to run on {names.get(backend.lower(), backend)} ({source}), but this "
        "course needs the TensorFlow backend: its lessons use tf.data, TensorFlow Hub and "
        f"SavedModels. Fix: {fix}."
    )


def is_routine(line: str) -> bool:
    """Whether a start-up line is one of TensorFlow's routine notices (:data:`ROUTINE`)."""
    return any(p.search(line) for p in ROUTINE)


def quiet_start() -> list[str]:
    """Import TensorFlow with its routine start-up notices hidden; return the hidden lines.

    Does nothing if TensorFlow is already imported or ``COURSE_TF_LOGS=1``.
    Also sets ``TF_CPP_MIN_LOG_LEVEL=2`` (hide TensorFlow's later C++ info
    and warning lines) unless it is set already.

    >>> import tensorflow as tf
    >>> quiet_start() is HIDDEN
    True
    """
    if os.environ.get(LOGS_ENV_VAR) == "1":
        return HIDDEN
    for message, module in ROUTINE_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning, module=module)
    if "tensorflow" in sys.modules:
        return HIDDEN
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # the GPU probe prints its lines now, not later
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines()
            shown = [ln for ln in lines if ln.strip() and not is_routine(ln)]
            HIDDEN.extend(ln for ln in lines if ln.strip() and is_routine(ln))
            if shown:
                print("\n".join(shown), file=sys.stderr)
    return HIDDEN
