"""TensorFlow Hub models in Keras 3 (lesson 04).

``hub.KerasLayer`` is a layer of the old Keras 2 (the ``tf_keras`` package),
so a Keras 3 ``Sequential`` model refuses it ("Only instances of
`keras.Layer` can be added to a Sequential model"). :class:`HubLayer` is a
small Keras 3 layer that wraps ``hub.load(handle)`` instead; it is frozen
(``trainable=False``), which is how the course uses Hub models::

    >>> import keras
    >>> from course_utils.hub import HubLayer, hub_handle
    >>> handle = hub_handle("feature_vector")  # doctest: +SKIP
    >>> model = keras.Sequential([keras.Input((224, 224, 3)), HubLayer(handle),
    ...                           keras.layers.Dense(5)])  # doctest: +SKIP

A handle is a URL (``https://tfhub.dev/...``, resolved by ``tensorflow_hub``
to Kaggle Models) or a local SavedModel folder. Offline, the course uses the
folder that :func:`export_mobilenet_v2` writes from Keras's own MobileNetV2
(same input convention as the public handle: 224x224 RGB in [0, 1]).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import keras
import numpy as np

from course_utils.archives import network_available
from course_utils.datasets import data_dir

#: The public TF Hub handles of MobileNetV2 (input 224x224, pixels in [0, 1]).
PUBLIC_HANDLES = {
    "feature_vector": "https://tfhub.dev/google/tf2-preview/mobilenet_v2/feature_vector/4",
    "classification": "https://tfhub.dev/google/tf2-preview/mobilenet_v2/classification/4",
}
HUB_INPUT_SIZE = 224
MARKER = "course_export.json"


def _check_kind(kind: str) -> None:
    if kind not in PUBLIC_HANDLES:
        raise ValueError(f"kind must be one of {sorted(PUBLIC_HANDLES)}, got {kind!r}")


def hub_dir(root: Path | None = None) -> Path:
    """Where the course keeps its exported SavedModels: ``<data_dir>/hub``.

    >>> hub_dir(Path("/c"))
    PosixPath('/c/hub')
    """
    return (Path(root) if root is not None else data_dir()) / "hub"


def export_mobilenet_v2(
    kind: str = "feature_vector",
    *,
    root: Path | None = None,
    overwrite: bool = False,
    isolated: bool = False,
) -> Path:
    """Export Keras's ImageNet MobileNetV2 as a TF Hub-style SavedModel folder; return it.

    ``kind="feature_vector"`` maps ``[batch, 224, 224, 3]`` images in [0, 1]
    to 1280 features (the base plus global average pooling);
    ``"classification"`` maps them to Keras's 1000 ImageNet probabilities
    (the public Hub classifier gives 1001 logits instead, see
    :func:`imagenet_probabilities`). Like a Hub model, the loaded object is
    callable and lists its ``variables``; it also has a ``serve`` endpoint
    for ``keras.layers.TFSMLayer`` and a ``serving_default`` signature. A
    finished export is reused unless ``overwrite=True``; it is written to a
    temporary folder first, so an interrupted export never looks finished.
    ``isolated=True`` runs the export in a separate Python process, so the
    memory it takes (building and tracing the model) is not kept by the
    caller, e.g. a notebook kernel.

    >>> export_mobilenet_v2("feature_vector").name  # doctest: +SKIP
    'mobilenet_v2_feature_vector'
    """
    _check_kind(kind)
    target = hub_dir(root) / f"mobilenet_v2_{kind}"
    if (target / MARKER).is_file() and not overwrite:
        return target
    if isolated:
        _run_isolated([kind], root, overwrite)
        return target

    import tensorflow as tf

    from course_utils.backbones import get_backbone

    top = kind == "classification"
    base = get_backbone("MobileNetV2").build(
        weights="imagenet",
        include_top=top,
        input_size=HUB_INPUT_SIZE,
        **({} if top else {"pooling": "avg"}),
    )
    inputs = keras.Input((HUB_INPUT_SIZE, HUB_INPUT_SIZE, 3), name="images")
    # Hub's convention is pixels in [0, 1]; MobileNetV2 wants [-1, 1].
    scaled = keras.layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(inputs)
    model = keras.Model(inputs, base(scaled, training=False), name=f"mobilenet_v2_{kind}")

    spec = tf.TensorSpec([None, HUB_INPUT_SIZE, HUB_INPUT_SIZE, 3], tf.float32, name="images")

    @tf.function(input_signature=[spec])
    def call(images: tf.Tensor) -> tf.Tensor:
        return model(images, training=False)

    # The layout of a reusable TF2 Hub model: a callable root object that also lists its
    # variables. (A plain root saves several times faster than keras.export.ExportArchive,
    # which also writes out every Keras layer object.)
    saved = tf.train.Checkpoint()
    tf_variables = [v.value for v in model.variables]
    saved.variables = tf_variables
    saved.trainable_variables = [v for v in tf_variables if v.trainable]
    saved.__call__ = call
    saved.serve = call
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        signatures = {"serving_default": call.get_concrete_function()}
        tf.saved_model.save(saved, str(staging / "model"), signatures=signatures)
        info = {
            "kind": kind,
            "input": [HUB_INPUT_SIZE, HUB_INPUT_SIZE, 3],
            "pixels": "[0, 1]",
            "outputs": int(model.output_shape[-1]),
            "source": "keras.applications.MobileNetV2(weights='imagenet')",
            "keras": keras.__version__,
        }
        (staging / "model" / MARKER).write_text(json.dumps(info, indent=2))
        if target.exists():
            shutil.rmtree(target)
        (staging / "model").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


_ISOLATED_CODE = """
import sys
from pathlib import Path
from course_utils.hub import export_mobilenet_v2
root = Path(sys.argv[1]) if sys.argv[1] else None
for kind in sys.argv[3:]:
    export_mobilenet_v2(kind, root=root, overwrite=sys.argv[2] == "1")
"""


def _run_isolated(kinds: list[str], root: Path | None, overwrite: bool) -> None:
    command = [sys.executable, "-c", _ISOLATED_CODE, str(root or ""), str(int(overwrite)), *kinds]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise RuntimeError(
            f"Exporting MobileNetV2 ({', '.join(kinds)}) in a separate process failed:\n"
            + "\n".join(lines[-8:])
        )


def export_all(root: Path | None = None, *, isolated: bool = True) -> dict[str, Path]:
    """Export every missing kind (one separate process for all of them); return the folders.

    >>> sorted(export_all())  # doctest: +SKIP
    ['classification', 'feature_vector']
    """
    folders = {kind: hub_dir(root) / f"mobilenet_v2_{kind}" for kind in PUBLIC_HANDLES}
    missing = [kind for kind, folder in folders.items() if not (folder / MARKER).is_file()]
    if missing and isolated:
        _run_isolated(missing, root, overwrite=False)
    for kind in missing if not isolated else []:
        export_mobilenet_v2(kind, root=root)
    return folders


def hub_handle(
    kind: str = "feature_vector", *, prefer: str = "auto", root: Path | None = None
) -> str:
    """The handle to load: the public TF Hub URL when reachable, else the local export.

    ``prefer="auto"`` probes the network (a few seconds at most);
    ``"public"`` always returns the URL; ``"local"`` always returns the
    exported folder. A missing export is made first, for both kinds at
    once and in a separate process (see :func:`export_all`).

    >>> hub_handle("classification", prefer="public")
    'https://tfhub.dev/google/tf2-preview/mobilenet_v2/classification/4'
    """
    _check_kind(kind)
    if prefer not in {"auto", "public", "local"}:
        raise ValueError(f"prefer must be 'auto', 'public' or 'local', got {prefer!r}")
    url = PUBLIC_HANDLES[kind]
    if prefer == "public" or (prefer == "auto" and network_available(url)):
        return url
    return str(export_all(root)[kind])


def _in_safe_mode() -> bool:
    """Whether Keras is deserialising in safe mode, asked through its public API only.

    Keras has no public getter for the flag. Its own ``TFSMLayer.from_config``
    refuses in safe mode (``ValueError``) and otherwise goes on to build a layer,
    which fails here for want of a file path (``TypeError``). Anything else is
    treated as safe mode, so a future change can only make loading stricter.
    Outside ``load_model`` the flag is unset, which Keras treats as safe:

    >>> _in_safe_mode()
    True
    """
    try:
        keras.layers.TFSMLayer.from_config({})
    except TypeError:
        return False
    except Exception:
        return True
    return True


@keras.saving.register_keras_serializable(package="course_utils")
class HubLayer(keras.layers.Layer):
    """A frozen Keras 3 layer that runs a TF Hub model (``hub.load(handle)``).

    ``handle`` is a TF Hub URL or a SavedModel folder whose loaded object is
    callable (TF2 Hub models are). ``output_key`` picks one output when the
    model returns a dict. The model's variables stay inside the SavedModel:
    Keras does not count them (the layer shows 0 parameters) and they are
    never trained, so ``trainable=True`` is refused — to fine-tune, use a
    ``keras.applications`` model instead. Saved in a ``.keras`` file, the
    layer stores only its handle and loads the model again; like Keras's
    ``TFSMLayer``, reloading it needs ``safe_mode=False``, because a
    SavedModel is code.

    >>> layer = HubLayer(hub_handle("feature_vector", prefer="local"))  # doctest: +SKIP
    >>> layer(np.zeros((1, 224, 224, 3), "float32")).shape  # doctest: +SKIP
    TensorShape([1, 1280])
    """

    def __init__(
        self,
        handle: str | Path,
        *,
        output_key: str | None = None,
        trainable: bool = False,
        **kwargs: Any,
    ) -> None:
        if trainable:
            raise ValueError(
                "HubLayer is frozen: the SavedModel's variables are not Keras weights, so "
                "they cannot be trained. Keep trainable=False, or fine-tune a "
                "keras.applications model instead (lesson 06)."
            )
        super().__init__(trainable=False, **kwargs)
        import tensorflow_hub as hub

        self.handle = str(handle)
        self.output_key = output_key
        self._loaded = hub.load(self.handle)
        if not callable(self._loaded):
            raise TypeError(
                f"The model at {self.handle!r} is not callable: it is not a TF2 SavedModel "
                f"meant for reuse. Try keras.layers.TFSMLayer(path, call_endpoint=...) with "
                f"one of its signatures: {sorted(getattr(self._loaded, 'signatures', {}))}"
            )

    @property
    def hub_variables(self) -> list[Any]:
        """The SavedModel's own (frozen) variables."""
        return list(getattr(self._loaded, "variables", []))

    def saved_model_param_count(self) -> int:
        """Number of values in the SavedModel's variables (Keras's summary shows 0).

        >>> HubLayer(hub_handle(prefer="local")).saved_model_param_count()  # doctest: +SKIP
        2257984
        """
        return int(sum(np.prod(v.shape) for v in self.hub_variables))

    def call(self, inputs: Any) -> Any:
        outputs = self._loaded(inputs)
        if isinstance(outputs, dict):
            if self.output_key is None:
                raise ValueError(
                    f"The model returns several outputs {sorted(outputs)}: pass output_key="
                )
            outputs = outputs[self.output_key]
        return outputs

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("trainable", None)
        return {**config, "handle": self.handle, "output_key": self.output_key}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HubLayer:
        if _in_safe_mode():
            raise ValueError(
                f"Refusing to load a HubLayer (handle {config.get('handle')!r}) in safe "
                "mode: it loads an external SavedModel, which can run arbitrary code. If "
                "you trust the model, pass safe_mode=False to keras.models.load_model, or "
                "call keras.config.enable_unsafe_deserialization()."
            )
        return cls(**config)


def imagenet_probabilities(outputs: Any) -> np.ndarray:
    """Turn a Hub/Keras ImageNet classifier's outputs into Keras's 1000 probabilities.

    The public Hub classifier returns 1001 logits whose first class is
    "background"; Keras's models return 1000 probabilities in the same
    class order without it. The result fits ``decode_predictions``.

    >>> imagenet_probabilities(np.zeros((1, 1001))).shape
    (1, 1000)
    """
    values = np.asarray(outputs, dtype="float64")
    if values.ndim != 2 or values.shape[-1] not in (1000, 1001):
        raise ValueError(f"expected [batch, 1000] or [batch, 1001] outputs, got {values.shape}")
    if values.shape[-1] == 1001:
        shifted = np.exp(values - values.max(axis=-1, keepdims=True))
        return (shifted / shifted.sum(axis=-1, keepdims=True))[:, 1:]
    if np.allclose(values.sum(axis=-1), 1.0, atol=1e-3) and (values >= 0).all():
        return values
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
