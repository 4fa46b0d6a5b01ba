"""The model side of transfer learning, lessons 05 (frozen base) and 06 (fine-tuning).

The lessons build their first model by hand; these helpers keep the rest of
the notebook short: the MobileNetV2 base, its preprocessing, augmentation,
two classifier heads, a frozen model, reading its predictions, unfreezing the
top of a base and merging the histories of two training phases. The image
pipelines and the cached features are in :mod:`course_utils.pipelines`::

    >>> import keras
    >>> base = keras.applications.MobileNetV2(
    ...     input_shape=(96, 96, 3), include_top=False, weights=None)
    >>> model = build_frozen_model(base, gap_head(base.output.shape[1:], 2))
    >>> model.output.shape
    (None, 1)

Everything here is plain Keras 3 (no ``tf.keras``) so that a saved model
loads with ``keras.models.load_model(path, safe_mode=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

#: Number of layers in ``keras.applications.MobileNetV2(include_top=False)``.
MOBILENET_V2_LAYERS = 154


# --- the backbone -------------------------------------------------------------


def mobilenet_v2_base(
    image_size: int = 160, *, weights: str | None = "imagenet", trainable: bool = False
) -> keras.Model:
    """MobileNetV2 without its ImageNet classifier, frozen by default.

    >>> base = mobilenet_v2_base(96, weights=None)
    >>> base.output.shape, base.trainable
    ((None, 3, 3, 1280), False)
    """
    base = keras.applications.MobileNetV2(
        input_shape=(image_size, image_size, 3), include_top=False, weights=weights
    )
    base.trainable = trainable
    return base


def mobilenet_v2_preprocessing(name: str = "mobilenet_v2_preprocess") -> keras.layers.Layer:
    """A layer equal to ``keras.applications.mobilenet_v2.preprocess_input``.

    MobileNetV2 expects pixels scaled from [0, 255] to [-1, 1]. A
    ``Rescaling`` layer does exactly that and, unlike a ``Lambda`` wrapping
    ``preprocess_input``, it saves and loads with ``safe_mode=True``.

    >>> import numpy as np
    >>> mobilenet_v2_preprocessing()(np.array([[0.0, 127.5, 255.0]])).numpy().tolist()
    [[-1.0, 0.0, 1.0]]
    """
    return keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name=name)


def augmentation(seed: int = 42, rotation: float = 0.1) -> keras.Sequential:
    """Random horizontal flips and small rotations (active only while training).

    >>> [layer.__class__.__name__ for layer in augmentation().layers]
    ['RandomFlip', 'RandomRotation']
    """
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(rotation, seed=seed),
        ],
        name="augmentation",
    )


# --- heads and models -----------------------------------------------------------------


def _output_layer(num_classes: int) -> keras.layers.Dense:
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if num_classes == 2:  # one unit: the probability of the second class
        return keras.layers.Dense(1, activation="sigmoid", name="prediction")
    return keras.layers.Dense(num_classes, activation="softmax", name="prediction")


def gap_head(
    feature_shape: Sequence[int | None], num_classes: int, *, dropout: float = 0.2
) -> keras.Sequential:
    """GlobalAveragePooling2D (+ Dropout) + Dense: one weight per feature channel and class.

    Two classes give one sigmoid unit, more give a softmax layer. Features that
    are already pooled (``feature_shape`` is a vector, e.g. ``(1280,)``) skip
    the pooling layer.

    >>> gap_head((5, 5, 1280), 2).count_params()
    1281
    >>> [layer.name for layer in gap_head((1280,), 5).layers]
    ['head_dropout', 'prediction']
    """
    layers: list[keras.layers.Layer] = [keras.Input(tuple(feature_shape))]
    if len(feature_shape) == 3:
        layers.append(keras.layers.GlobalAveragePooling2D(name="global_average"))
    elif len(feature_shape) != 1:
        raise ValueError(f"expected feature maps (h, w, c) or vectors (c,), got {feature_shape}")
    if dropout:
        layers.append(keras.layers.Dropout(dropout, name="head_dropout"))
    layers.append(_output_layer(num_classes))
    return keras.Sequential(layers, name="gap_head")


def flatten_head(
    feature_shape: Sequence[int | None], num_classes: int, *, units: int = 128
) -> keras.Sequential:
    """Flatten + Dense(units, relu, he_uniform) + Dense: the course notes' head (lesson 05).

    Flattening keeps every position of the feature map, so it has far more
    weights than :func:`gap_head`.

    >>> flatten_head((5, 5, 1280), 2).count_params()
    4096257
    """
    return keras.Sequential(
        [
            keras.Input(tuple(feature_shape)),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(
                units, activation="relu", kernel_initializer="he_uniform", name="hidden"
            ),
            _output_layer(num_classes),
        ],
        name="flatten_head",
    )


def build_frozen_model(
    base: keras.Model,
    head: keras.Model,
    *,
    preprocess: keras.layers.Layer | None = None,
    augment: keras.layers.Layer | None = None,
    name: str = "transfer_model",
) -> keras.Model:
    """Raw pixels -> [augment] -> [preprocess] -> base(training=False) -> head.

    The base is frozen (``trainable = False``) and called with
    ``training=False``, so its BatchNorm layers use their ImageNet statistics
    even when the model trains, and again after the base is unfrozen for
    fine-tuning.

    >>> base = mobilenet_v2_base(96, weights=None)
    >>> model = build_frozen_model(base, gap_head(base.output.shape[1:], 5))
    >>> from course_utils.architectures import count_params
    >>> count_params(model).trainable
    6405
    """
    base.trainable = False
    inputs = keras.Input(base.input_shape[1:], name="pixels")
    x = augment(inputs) if augment is not None else inputs
    x = preprocess(x) if preprocess is not None else x
    x = base(x, training=False)
    return keras.Model(inputs, head(x), name=name)


def predicted_classes(probabilities: np.ndarray) -> np.ndarray:
    """Class indices from the model's output (one sigmoid unit or a softmax row).

    >>> predicted_classes(np.array([[0.2], [0.9]])).tolist()
    [0, 1]
    >>> predicted_classes(np.array([[0.1, 0.7, 0.2]])).tolist()
    [1]
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 2 and probabilities.shape[1] > 1:
        return probabilities.argmax(axis=1)
    return (probabilities.reshape(-1) > 0.5).astype(int)


# --- fine-tuning ----------------------------------------------------------------------


def unfreeze_from(
    base: keras.Model, layer: int | str, *, keep_batchnorm_frozen: bool = True
) -> int:
    """Make the base trainable from ``layer`` (an index or a layer name) to the top.

    Layers below it stay frozen, and so do the BatchNorm layers above it
    (their statistics and scale were learnt on ImageNet; updating them from
    small batches of a small dataset tends to wreck the features). Returns
    the number of layers whose weights will now train (layers such as ReLU
    or Add have no weights). Recompile the model afterwards.

    >>> base = mobilenet_v2_base(96, weights=None)
    >>> unfreeze_from(base, 100)
    18
    >>> base.layers[99].trainable, base.layers[100].trainable
    (False, True)
    """
    layers = base.layers
    if isinstance(layer, bool) or not isinstance(layer, int | str):
        raise TypeError(f"layer must be an index or a layer name, got {layer!r}")
    if isinstance(layer, str):
        names = [lay.name for lay in layers]
        if layer not in names:
            raise ValueError(f"{base.name} has no layer called {layer!r}")
        start = names.index(layer)
    else:
        if not -len(layers) <= layer < len(layers):
            raise IndexError(f"{base.name} has {len(layers)} layers; got index {layer}")
        start = layer % len(layers)
    base.trainable = True
    for i, lay in enumerate(layers):
        is_bn = isinstance(lay, keras.layers.BatchNormalization)
        lay.trainable = i >= start and not (keep_batchnorm_frozen and is_bn)
    return sum(1 for lay in layers if lay.trainable and lay.weights)


def merge_histories(*histories: Any) -> dict[str, list[float]]:
    """Concatenate the logs of several ``fit`` calls (e.g. frozen, then fine-tuning).

    Accepts ``History`` objects or their ``.history`` dicts; keys missing in
    one phase are dropped.

    >>> merge_histories({"loss": [1.0]}, {"loss": [0.5], "lr": [0.1]})
    {'loss': [1.0, 0.5]}
    """
    logs = [getattr(h, "history", h) for h in histories]
    if not logs:
        return {}
    keys = [k for k in logs[0] if all(k in log for log in logs)]
    return {k: [float(v) for log in logs for v in log[k]] for k in keys}
