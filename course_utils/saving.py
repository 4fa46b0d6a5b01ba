"""Load a saved model file safely, with an error that says what is wrong with it.

``keras.saving.load_model`` already refuses a ``.keras`` file that would run
stored Python code (a ``Lambda`` layer) while ``safe_mode=True``. This module
always loads in safe mode and turns every problem (a missing file, a
legacy ``.h5``, a SavedModel folder, a damaged or half-written file, a
``Lambda`` layer, a custom layer, loss or metric whose code is not imported, a
``config.json`` changed by hand or by another program) into one
:class:`ModelFileError` that names the file, the likely cause and the fix::

    >>> from course_utils.saving import load_model
    >>> load_model("no_such_model.keras")
    Traceback (most recent call last):
    ...
    course_utils.saving.ModelFileError: no_such_model.keras: no such file
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Packages whose classes Keras finds by itself (no registration needed).
KERAS_PACKAGES = ("keras", "keras_hub", "keras_cv", "keras_nlp")


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
    if path.suffix.lower() == ".keras" and path.suffix != ".keras":
        raise ModelFileError(
            path,
            f"the name ends in {path.suffix!r}, but Keras only reads names ending in a lower-case "
            f"'.keras': rename it to {path.with_suffix('.keras').name}",
        )
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


def _read_config(path: Path) -> tuple[dict[str, Any], str | None]:
    """The model description inside a ``.keras`` zip (``config.json``), checked to be JSON,
    and the version of Keras that saved it (from ``metadata.json``, when readable)."""
    try:
        with zipfile.ZipFile(path) as archive:
            raw = archive.read("config.json")
            try:
                version = json.loads(archive.read("metadata.json")).get("keras_version")
            except (KeyError, ValueError, AttributeError):  # no metadata: no reason to refuse
                version = None
    except KeyError:
        raise ModelFileError(
            path,
            "a zip archive without config.json, so not a Keras model (a .keras file holds "
            "config.json, metadata.json and model.weights.h5); save the model again with "
            "model.save(...)",
        ) from None
    except (OSError, zipfile.BadZipFile) as err:
        raise ModelFileError(
            path, f"damaged or incomplete .keras file ({err}); save the model again"
        ) from err
    try:
        config = json.loads(raw)
    except ValueError as err:  # also a UnicodeDecodeError
        raise ModelFileError(
            path,
            f"its config.json is not valid JSON ({err}): the file is damaged or was edited by "
            "hand; save the model again from the code that made it",
        ) from err
    if not isinstance(config, dict):
        raise ModelFileError(
            path, "its config.json does not describe a model; save the model again"
        )
    return config, version if isinstance(version, str) else None


def _objects(node: Any, where: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict]]:
    """Every serialized object in a Keras config (a dict with a ``class_name``), with its keys."""
    if isinstance(node, dict):
        if isinstance(node.get("class_name"), str):
            yield where, node
        for key, value in node.items():
            yield from _objects(value, (*where, str(key)))
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value, where)


#: What a custom object is, by the config key it stands under (the nearest one counts).
KIND_OF_KEY = {"layers": "layer", "loss": "loss", "metrics": "metric",
               "weighted_metrics": "metric", "optimizer": "optimizer"}  # fmt: skip


def _kind(where: tuple[str, ...]) -> str:
    for key in reversed(where):
        if key.endswith(("activation", "initializer", "regularizer", "constraint")):
            return key.replace("_", " ")
        if key in KIND_OF_KEY:
            return KIND_OF_KEY[key]
    return "model" if not where else "object"


def _unregistered(config: dict[str, Any], compile: bool) -> list[str]:
    """Each custom class or function in ``config`` that Keras cannot find, described.

    Keras's own classes are found by module; a custom one only once its code
    has run ``@keras.saving.register_keras_serializable`` in this session. The
    training setup (``compile_config``) counts only when ``compile`` is true.
    """
    import keras

    missing: list[str] = []
    for where, obj in _objects(config):
        module = obj.get("module")
        if isinstance(module, str) and module.split(".")[0] in KERAS_PACKAGES:
            continue
        if "compile_config" in where and not compile:
            continue
        if obj["class_name"] == "function":
            registered = obj.get("config")
        elif "registered_name" in obj:
            registered = obj["registered_name"] or obj["class_name"]
        else:
            continue  # a value Keras writes itself (a tuple, a tensor placeholder)
        if not isinstance(registered, str) or keras.saving.get_registered_object(registered):
            continue
        short = registered.rsplit(">", 1)[-1]
        alias = f" (registered as {registered!r})" if short != registered else ""
        described = f"a custom {_kind(where)} {short!r}{alias}"
        if described not in missing:
            missing.append(described)
    return missing


def _innermost(err: BaseException) -> BaseException:
    while (inner := err.__cause__ or err.__context__) is not None:
        err = inner
    return err


def _failing_layer(config: dict[str, Any]) -> str | None:
    """``'name' (Class): error`` for the first layer in ``config`` that cannot be rebuilt."""
    import keras

    inner = config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        try:
            built = keras.saving.deserialize_keras_object(layer, safe_mode=True)
            if isinstance(layer, dict) and isinstance(layer.get("build_config"), dict):
                built.build_from_config(layer["build_config"])
        except Exception as err:
            layer = layer if isinstance(layer, dict) else {}
            settings = layer.get("config") if isinstance(layer.get("config"), dict) else {}
            name, cls = layer.get("name") or settings.get("name"), layer.get("class_name")
            first = (str(_innermost(err)).splitlines() or [type(err).__name__])[0]
            return f"{name!r} ({cls}): {first}"
    return None


def _explain(
    path: Path, config: dict[str, Any], saved_by: str | None, err: Exception, compile: bool
) -> ModelFileError:
    """The :class:`ModelFileError` for a file that Keras failed to load with ``err``."""
    import keras

    message = str(err)
    lambdas = any(obj["class_name"] in ("Lambda", "__lambda__") for _, obj in _objects(config))
    if lambdas or "Lambda" in message or "safe_mode" in message:
        return ModelFileError(
            path,
            "refused in safe mode: it contains a Lambda layer, i.e. stored Python code "
            "that would run on your machine when loaded. If you made this file or trust "
            "its author, use keras.saving.load_model(path, safe_mode=False); better, "
            "replace the Lambda with a registered custom layer and save it again.",
        )
    if missing := _unregistered(config, compile):
        training = any(m.startswith(("a custom loss", "a custom metric", "a custom optimizer"))
                       for m in missing)  # fmt: skip
        return ModelFileError(
            path,
            f"this model uses {' and '.join(missing)} that "
            f"{'is' if len(missing) == 1 else 'are'} not registered in this Python session: "
            f"import the code that defines {'it' if len(missing) == 1 else 'them'} (decorated with "
            "@keras.saving.register_keras_serializable()) before loading"
            + (", or load with compile=False if you only need predictions" if training else ""),
        )
    if isinstance(err, (OSError, KeyError, zipfile.BadZipFile)):
        return ModelFileError(
            path, f"damaged or incomplete .keras file ({err}); save the model again"
        )
    inner = _innermost(err)
    layer = _failing_layer(config)
    detail = f"layer {layer}" if layer else f"{type(inner).__name__}: {str(inner).splitlines()[0]}"
    if saved_by and saved_by != keras.__version__:
        cause = (
            f"It was saved by Keras {saved_by} and this is Keras {keras.__version__}: load it "
            f"with the version that saved it (pip install keras=={saved_by}), or save it again "
            "with this one."
        )
    else:
        cause = (
            "The file was edited by hand, damaged, or made by another program: save it again "
            "from the code that made it, or ask its author for a fresh copy."
        )
    return ModelFileError(
        path, f"its config.json describes a model this Keras cannot rebuild ({detail}). {cause}"
    )


def load_model(path: Path | str, *, compile: bool = True) -> Any:  # `compile`: Keras's name
    """Load a ``.keras`` model with ``safe_mode=True``, or raise :class:`ModelFileError`.

    A file with a ``Lambda`` layer (stored Python code) is refused, with an
    explanation; load such a file with ``keras.saving.load_model(path,
    safe_mode=False)`` only if you made it yourself or trust its author. Any
    other failure, whatever Keras raises, becomes a :class:`ModelFileError`
    whose reason is the course's own wording (it does not depend on the Keras
    version). ``~`` in ``path`` is expanded.

    >>> load_model("weights.h5")
    Traceback (most recent call last):
    ...
    course_utils.saving.ModelFileError: weights.h5: no such file
    >>> import keras, tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tiny.keras"
    >>> keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)
    >>> load_model(path).output_shape
    (None, 2)
    """
    import keras

    path = Path(path).expanduser()
    _refuse_early(path)
    config, saved_by = _read_config(path)
    try:
        return keras.saving.load_model(path, compile=compile, safe_mode=True)
    except Exception as err:  # any failure: one clear error, in the course's words
        raise _explain(path, config, saved_by, err, compile) from err
