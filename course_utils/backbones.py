"""Pretrained ImageNet models: one registry, and an older 18-model table (lesson 04).

Every model in ``keras.applications`` comes with three things that must match:
the constructor, its ``preprocess_input`` (each family scales pixels its own
way) and the input sizes its ImageNet weights exist for. :data:`BACKBONES`
keeps them together, and :meth:`Backbone.build` refuses an input size that
Keras would otherwise quietly "fix" by loading a different weight file::

    >>> from course_utils.backbones import get_backbone
    >>> mnv2 = get_backbone("MobileNetV2")
    >>> mnv2.default_size, mnv2.imagenet_sizes
    (224, (96, 128, 160, 192, 224))
    >>> mnv2.check_input_size(160, include_top=False)
    160

:data:`CATALOGUE` is the table of 18 models (size, top-1, top-5,
parameters, depth) that the course's source material quotes from the Keras
documentation; :func:`build_and_count` recomputes a count with
``weights=None`` so no download is needed.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from course_utils.archives import network_available
from course_utils.datasets import keras_home

#: Where Keras downloads ImageNet weights from (probed before a download).
WEIGHTS_HOST = "https://storage.googleapis.com/"

#: What each ``preprocess_input`` mode does to pixels given in [0, 255].
PREPROCESSING = {
    "tf": "scales pixels from [0, 255] to [-1, 1]",
    "caffe": "flips RGB to BGR and subtracts the ImageNet mean of each channel (no scaling)",
    "torch": "scales pixels to [0, 1], then standardises each channel with the ImageNet "
    "mean and standard deviation",
}


class InputSizeError(ValueError):
    """An input size the model (or its ImageNet weights) does not support."""


class WeightsUnavailableError(RuntimeError):
    """ImageNet weights are neither in the Keras cache nor downloadable."""


@dataclass(frozen=True)
class Backbone:
    """One pretrained model: how to build it, feed it and read its output.

    ``imagenet_sizes`` is non-empty for models whose ImageNet weights were
    trained per input size (MobileNet, MobileNetV2): only those sizes are
    accepted with ``weights="imagenet"``. For the others, the full model
    (``include_top=True``) needs exactly ``default_size``, and the
    convolutional base (``include_top=False``) takes any size from
    ``min_size`` up.
    """

    name: str
    module: str
    default_size: int
    min_size: int
    preprocessing: str
    weights_file: str
    notop_suffix: str = "_notop"
    imagenet_sizes: tuple[int, ...] = ()

    @property
    def keras_module(self) -> ModuleType:
        """The ``keras.applications`` submodule, e.g. ``keras.applications.resnet50``.

        >>> get_backbone("ResNet50").keras_module.__name__.rsplit(".", 1)[-1]
        'resnet50'
        """
        import keras

        return getattr(keras.applications, self.module)

    @property
    def constructor(self) -> Any:
        """The model function, e.g. ``keras.applications.ResNet50``.

        >>> get_backbone("Xception").constructor.__name__
        'Xception'
        """
        import keras

        return getattr(keras.applications, self.name)

    @property
    def preprocess_input(self) -> Any:
        """The model's own ``preprocess_input`` (expects pixels in [0, 255]).

        >>> import numpy as np
        >>> get_backbone("MobileNetV2").preprocess_input(np.array([0.0, 255.0])).tolist()
        [-1.0, 1.0]
        """
        return self.keras_module.preprocess_input

    @property
    def decode_predictions(self) -> Any:
        """The model's ``decode_predictions`` (ImageNet class ids, names, scores).

        >>> callable(get_backbone("InceptionV3").decode_predictions)
        True
        """
        return self.keras_module.decode_predictions

    @property
    def preprocessing_description(self) -> str:
        """What ``preprocess_input`` does, in words.

        >>> get_backbone("ResNet50").preprocessing_description.split()[0]
        'flips'
        """
        return PREPROCESSING[self.preprocessing]

    def allowed_sizes(self, *, weights: str | None = "imagenet", include_top: bool = True) -> str:
        """The accepted square input sizes, in words.

        >>> get_backbone("ResNet50").allowed_sizes(include_top=False)
        'any size from 32 pixels up'
        """
        if weights == "imagenet" and self.imagenet_sizes:
            return "one of " + ", ".join(map(str, self.imagenet_sizes))
        if weights == "imagenet" and include_top:
            return f"exactly {self.default_size}"
        return f"any size from {self.min_size} pixels up"

    def check_input_size(
        self, size: int, *, weights: str | None = "imagenet", include_top: bool = True
    ) -> int:
        """Return ``size`` if the model accepts square ``size`` x ``size`` images, else raise.

        Raises :class:`InputSizeError` with the reason and the sizes that work.

        >>> get_backbone("MobileNetV2").check_input_size(150, include_top=False)
        Traceback (most recent call last):
        ...
        course_utils.backbones.InputSizeError: MobileNetV2 has ImageNet weights only for \
input sizes 96, 128, 160, 192, 224, not 150 ...
        """
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"input size must be an int (square images), got {size!r}")
        if size < self.min_size:
            raise InputSizeError(
                f"{self.name} needs inputs of at least {self.min_size}x{self.min_size} "
                f"pixels, got {size}x{size}."
            )
        if weights != "imagenet":
            return size
        if self.imagenet_sizes and size not in self.imagenet_sizes:
            sizes = ", ".join(map(str, self.imagenet_sizes))
            raise InputSizeError(
                f"{self.name} has ImageNet weights only for input sizes {sizes}, not {size} "
                f"(Keras would silently load the weights trained at {self.default_size} "
                f"instead). Resize the images to one of these sizes."
            )
        if include_top and not self.imagenet_sizes and size != self.default_size:
            raise InputSizeError(
                f"{self.name} with include_top=True (its 1000-class ImageNet head) needs "
                f"{self.default_size}x{self.default_size} inputs, got {size}x{size}. "
                f"Resize the images, or use include_top=False (any size from "
                f"{self.min_size} up) for a feature extractor."
            )
        return size

    def weights_filename(self, *, include_top: bool = True, size: int | None = None) -> str:
        """The file name Keras caches the ImageNet weights under (in ``KERAS_HOME/models``).

        >>> get_backbone("MobileNetV2").weights_filename(include_top=False, size=160)
        'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5'
        """
        suffix = "" if include_top else self.notop_suffix
        return self.weights_file.format(size=size or self.default_size, notop=suffix)

    def weights_path(self, *, include_top: bool = True, size: int | None = None) -> Path:
        """Where the weights file is (or will be) in the Keras cache.

        >>> get_backbone("ResNet50").weights_path().parent.name
        'models'
        """
        return keras_home() / "models" / self.weights_filename(include_top=include_top, size=size)

    def weights_available(self, *, include_top: bool = True, size: int | None = None) -> bool:
        """True when the ImageNet weights are cached, or the weights host is reachable.

        >>> mnv2 = get_backbone("MobileNetV2")
        >>> mnv2.weights_available(size=224) == (mnv2.weights_path(size=224).is_file()
        ...                                      or network_available(WEIGHTS_HOST))
        True
        """
        if self.weights_path(include_top=include_top, size=size).is_file():
            return True
        return network_available(WEIGHTS_HOST)

    def build(
        self,
        *,
        weights: str | None = "imagenet",
        include_top: bool = True,
        input_size: int | None = None,
        **kwargs: Any,
    ) -> Any:
        """Build the model, after checking the input size and (for ImageNet) the weights.

        ``input_size`` defaults to :attr:`default_size`; extra keyword
        arguments (``pooling=``, ``classes=``, ``name=`` ...) go to the Keras
        constructor. Without the weights in the cache and without network it
        raises :class:`WeightsUnavailableError` at once instead of hanging.

        >>> model = get_backbone("MobileNetV2").build(weights=None, input_size=96)
        >>> model.input_shape
        (None, 96, 96, 3)
        """
        size = self.check_input_size(
            input_size or self.default_size, weights=weights, include_top=include_top
        )
        if weights == "imagenet" and not self.weights_available(include_top=include_top, size=size):
            path = self.weights_path(include_top=include_top, size=size)
            raise WeightsUnavailableError(
                f"ImageNet weights for {self.name} are not cached ({path} is missing) and "
                f"{WEIGHTS_HOST} is unreachable. Connect to the internet once (Keras "
                f"downloads and caches them), or copy that file into {path.parent} "
                f"(set KERAS_HOME before importing keras to use another cache)."
            )
        return self.constructor(
            weights=weights, include_top=include_top, input_shape=(size, size, 3), **kwargs
        )


def _tf_kernels(prefix: str) -> str:
    return prefix + "_weights_tf_dim_ordering_tf_kernels{notop}.h5"


#: The pretrained models the course uses, by ``keras.applications`` name.
BACKBONES: dict[str, Backbone] = {
    b.name: b
    for b in (
        Backbone(
            "MobileNetV2",
            "mobilenet_v2",
            224,
            32,
            "tf",
            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}{notop}.h5",
            notop_suffix="_no_top",
            imagenet_sizes=(96, 128, 160, 192, 224),
        ),
        Backbone(
            "MobileNet",
            "mobilenet",
            224,
            32,
            "tf",
            "mobilenet_1_0_{size}_tf{notop}.h5",
            notop_suffix="_no_top",
            imagenet_sizes=(128, 160, 192, 224),
        ),
        Backbone("ResNet50", "resnet50", 224, 32, "caffe", _tf_kernels("resnet50")),
        Backbone("ResNet50V2", "resnet_v2", 224, 32, "tf", _tf_kernels("resnet50v2")),
        Backbone("InceptionV3", "inception_v3", 299, 75, "tf", _tf_kernels("inception_v3")),
        Backbone("Xception", "xception", 299, 71, "tf", _tf_kernels("xception")),
        Backbone("VGG16", "vgg16", 224, 32, "caffe", _tf_kernels("vgg16")),
        Backbone("DenseNet121", "densenet", 224, 32, "torch", _tf_kernels("densenet121")),
    )
}


def list_backbones() -> list[str]:
    """Names of the registered backbones.

    >>> "InceptionV3" in list_backbones()
    True
    """
    return list(BACKBONES)


def get_backbone(name: str) -> Backbone:
    """The registry entry for ``name`` (exact ``keras.applications`` spelling).

    >>> get_backbone("InceptionV3").default_size
    299
    """
    try:
        return BACKBONES[name]
    except KeyError:
        known = ", ".join(BACKBONES)
        raise KeyError(f"Unknown backbone {name!r}. Registered backbones: {known}") from None


# --- the catalogue ------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueEntry:
    """One row of the catalogue (from the Keras documentation of its time).

    ``depth`` is ``None`` where the table gives none.
    """

    name: str
    size_mb: int
    top1: float
    top5: float
    parameters: int
    depth: int | None


#: The 18 models of the source material's ``keras.applications`` table.
CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry("Xception", 88, 0.790, 0.945, 22_910_480, 126),
    CatalogueEntry("VGG16", 528, 0.713, 0.901, 138_357_544, 23),
    CatalogueEntry("VGG19", 549, 0.713, 0.900, 143_667_240, 26),
    CatalogueEntry("ResNet50", 98, 0.749, 0.921, 25_636_712, None),
    CatalogueEntry("ResNet101", 171, 0.764, 0.928, 44_707_176, None),
    CatalogueEntry("ResNet152", 232, 0.766, 0.931, 60_419_944, None),
    CatalogueEntry("ResNet50V2", 98, 0.760, 0.930, 25_613_800, None),
    CatalogueEntry("ResNet101V2", 171, 0.772, 0.938, 44_675_560, None),
    CatalogueEntry("ResNet152V2", 232, 0.780, 0.942, 60_380_648, None),
    CatalogueEntry("InceptionV3", 92, 0.779, 0.937, 23_851_784, 159),
    CatalogueEntry("InceptionResNetV2", 215, 0.803, 0.953, 55_873_736, 572),
    CatalogueEntry("MobileNet", 16, 0.704, 0.895, 4_253_864, 88),
    CatalogueEntry("MobileNetV2", 14, 0.713, 0.901, 3_538_984, 88),
    CatalogueEntry("DenseNet121", 33, 0.750, 0.923, 8_062_504, 121),
    CatalogueEntry("DenseNet169", 57, 0.762, 0.932, 14_307_880, 169),
    CatalogueEntry("DenseNet201", 80, 0.773, 0.936, 20_242_984, 201),
    CatalogueEntry("NASNetMobile", 23, 0.744, 0.919, 5_326_716, None),
    CatalogueEntry("NASNetLarge", 343, 0.825, 0.960, 88_949_818, None),
)


def catalogue_entry(name: str) -> CatalogueEntry:
    """The catalogue's row for ``name``.

    >>> catalogue_entry("MobileNetV2").parameters
    3538984
    """
    for entry in CATALOGUE:
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in CATALOGUE)
    raise KeyError(f"{name!r} is not in the catalogue. Models: {known}")


def build_and_count(name: str, *, clear_session: bool = True) -> int:
    """Parameters of ``keras.applications.<name>`` with its top, at its default input size.

    Built with ``weights=None`` (random weights: nothing to download), then
    released with ``keras.backend.clear_session()`` so that building the big
    ones (VGG, NASNetLarge) one after another does not pile up memory.

    >>> build_and_count("MobileNetV2")
    3538984
    """
    import keras

    model = getattr(keras.applications, name)(weights=None)
    count = int(model.count_params())
    del model
    if clear_session:
        keras.backend.clear_session()
        gc.collect()
    return count


def format_catalogue(computed: dict[str, int] | None = None) -> str:
    """The catalogue (size, accuracy, depth, parameters) as text, plus counts computed now.

    Models missing from ``computed`` show ``-`` (not computed); a count
    that differs from the listed one is flagged with ``DIFFERS``.

    >>> print(format_catalogue({"MobileNetV2": 3_538_984}).splitlines()[13])
    MobileNetV2         14 MB  0.713  0.901     88    3,538,984    3,538,984  same
    """
    computed = computed or {}
    header = (
        f"{'model':<17} {'size':>7}  {'top-1':>5}  {'top-5':>5}  {'depth':>5}  "
        f"{'listed':>11}  {'Keras now':>11}  check"
    )
    lines = [header]
    for e in CATALOGUE:
        now = computed.get(e.name)
        now_text = f"{now:,}" if now is not None else "-"
        depth = "-" if e.depth is None else str(e.depth)
        verdict = "-" if now is None else ("same" if now == e.parameters else "DIFFERS")
        lines.append(
            f"{e.name:<17} {e.size_mb:>4} MB  {e.top1:.3f}  {e.top5:.3f}  {depth:>5}  "
            f"{e.parameters:>11,}  {now_text:>11}  {verdict}"
        )
    return "\n".join(lines)
