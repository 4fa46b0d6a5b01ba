"""Load a saved model file safely, with an error that says what is wrong with it.

``keras.saving.load_model`` already refuses a ``.keras`` file that would run
stored Python code (a ``Lambda`` layer) while ``safe_mode=True``. This module
always loads in safe mode and turns the usual problems (a missing file, a
legacy ``.h5``, a SavedModel folder, a damaged or half-written file, a
``Lambda`` layer) into one :class:`ModelFileError` that names the file and
says what to do::

    >>> from course_utils.saving import load_model
    >>> load_model("no_such_model.keras")
    Traceback (most recent call last):
    ...
    course_utils.saving.ModelFileError: no_such_model.keras: no such file
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any


class ModelFileError(ValueError):
    """A model file that cannot (or should not) be loaded; ``path`` names it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def _refuse_early(path: Path) -> None:
    """Problems visible without Keras: wrong kind of file, missing, damaged."""
    if path.is_dir():
        raise ModelFileError(
            path,
            "a folder (a TensorFlow SavedModel?), not a .keras file. A SavedModel is a "
            "program, not just weights: load it with keras.layers.TFSMLayer only if you "
            "trust where it came from.",
        )
    if not path.is_file():
        raise ModelFileError(path, "no such file")
    if path.suffix.lower() in (".h5", ".hdf5"):
        raise ModelFileError(
            path,
            "legacy HDF5 (.h5) file. Safe mode does not cover it; if you trust it, load it "
            "once with keras.saving.load_model and save it again as .keras.",
        )
    if path.suffix.lower() != ".keras":
        raise ModelFileError(path, "not a .keras file (the name must end in .keras)")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(
            path,
            "damaged or incomplete .keras file (not a zip archive); save the model again",
        )


def load_model(path: Path | str, *, compile: bool = True) -> Any:  # `compile`: Keras's name
    """Load a ``.keras`` model with ``safe_mode=True``, or raise :class:`ModelFileError`.

    A file with a ``Lambda`` layer (stored Python code) is refused, with an
    explanation; load such a file with ``keras.saving.load_model(path,
    safe_mode=False)`` only if you made it yourself or trust its author.

    >>> load_model("weights.h5")
    Traceback (most recent call last):
    ...
    course_utils.saving.ModelFileError: weights.h5: no such file
    """
    import keras

    path = Path(path)
    _refuse_early(path)
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except ValueError as err:
        message = str(err)
        if "Lambda" in message or "safe_mode" in message:
            raise ModelFileError(
                path,
                "refused in safe mode: it contains a Lambda layer, i.e. stored Python code "
                "that would run on your machine when loaded. If you made this file or trust "
                "its author, use keras.saving.load_model(path, safe_mode=False); better, "
                "replace the Lambda with a registered custom layer and save it again.",
            ) from err
        raise ModelFileError(path, f"cannot be loaded ({message.splitlines()[0]})") from err
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise ModelFileError(
            path, f"damaged or incomplete .keras file ({err}); save the model again"
        ) from err
