"""Transfer learning helpers for lessons 05 (frozen base) and 06 (fine-tuning).

The lessons build their first model by hand; these helpers keep the rest of
the notebook short: image pipelines from a folder, the frozen base's features
computed once, two classifier heads, a frozen model, unfreezing the top of a
base, and measuring time and memory::

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

import os
import resource
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

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


# --- data -------------------------------------------------------------------------


@dataclass
class Splits:
    """Training, validation and test pipelines (batched, cached, prefetched)."""

    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset
    class_names: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: the classes and the number of images per split.

        >>> Splits(None, None, None, ["a", "b"], {"train": 4, "val": 2, "test": 2}).summary()
        'classes: a, b; train: 4, val: 2, test: 2 images'
        """
        sizes = ", ".join(f"{k}: {v}" for k, v in self.counts.items())
        return f"classes: {', '.join(self.class_names)}; {sizes} images"


def _as_pipeline(
    ds: tf.data.Dataset, batch_size: int, *, cache: bool, shuffle: int = 0, seed: int = 0
) -> tf.data.Dataset:
    # Decoded, resized images are cached as uint8: a quarter of the memory of float32.
    ds = ds.map(lambda x, y: (tf.cast(tf.clip_by_value(tf.round(x), 0, 255), tf.uint8), y))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(shuffle, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def make_splits(
    folder: Path | str,
    image_size: int,
    batch_size: int,
    *,
    seed: int = 42,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    cache: bool = True,
) -> Splits:
    """Train/validation/test ``tf.data`` pipelines from an image folder.

    Built on ``keras.utils.image_dataset_from_directory``, then ``cache()`` and
    ``prefetch()``; ``Splits.files`` lists each split's files.

    ``folder`` either has ``train/`` and ``validation/`` sub-folders (like
    ``cats_and_dogs_filtered``) or one sub-folder per class (like
    ``flower_photos``); then ``val_fraction`` of the images are held out.
    The test split is carved from the held-out validation images
    (``test_fraction`` of them), at the file level and with a fixed seed, so
    the same files are always in the test set and never in validation.
    Images are resized to ``image_size`` and kept in [0, 255]; labels are
    integers (class index). With ``cache=True`` decoded images stay in memory
    as uint8 after the first epoch.

    >>> splits = make_splits(get_dataset("flower_photos"), 160, 32)  # doctest: +SKIP
    >>> splits.class_names  # doctest: +SKIP
    ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No image folder at {folder}")
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 < value < 1.0:
            raise ValueError(f"{name} must be between 0 and 1 (exclusive), got {value}")
    kwargs: dict[str, Any] = dict(
        image_size=(image_size, image_size), batch_size=None, seed=seed, verbose=False
    )
    if (folder / "train").is_dir() and (folder / "validation").is_dir():
        train = keras.utils.image_dataset_from_directory(folder / "train", shuffle=True, **kwargs)
        val, test = keras.utils.image_dataset_from_directory(
            folder / "validation", validation_split=test_fraction, subset="both", **kwargs
        )
        val_files, test_files = list(val.file_paths), list(test.file_paths)
    else:
        train, held = keras.utils.image_dataset_from_directory(
            folder, validation_split=val_fraction, subset="both", **kwargs
        )
        held_files = list(held.file_paths)  # held out in a fixed, seeded order
        n_test = max(1, round(len(held_files) * test_fraction))
        if len(held_files) - n_test < 1:
            raise ValueError(f"{folder}: too few images to hold out validation and test sets")
        test, val = held.take(n_test), held.skip(n_test)
        test_files, val_files = held_files[:n_test], held_files[n_test:]
    files = {"train": list(train.file_paths), "val": val_files, "test": test_files}
    return Splits(
        train=_as_pipeline(train, batch_size, cache=cache, shuffle=len(files["train"]), seed=seed),
        val=_as_pipeline(val, batch_size, cache=cache),
        test=_as_pipeline(test, batch_size, cache=cache),
        class_names=list(train.class_names),
        counts={split: len(paths) for split, paths in files.items()},
        files=files,
    )


# --- feature caching ----------------------------------------------------------------


def extract_features(
    base: keras.Model,
    dataset: tf.data.Dataset,
    *,
    preprocess: keras.layers.Layer | None = None,
    verbose: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Run a frozen base once over ``dataset``; return ``(features, labels)`` arrays.

    ``dataset`` yields ``(images, labels)`` batches. ``preprocess`` (e.g.
    :func:`mobilenet_v2_preprocessing`) is applied first; the base runs in
    inference mode, batch by batch through one compiled step, with a
    ``keras.utils.Progbar``. Training a head on these arrays costs
    milliseconds per epoch instead of a pass through the whole base.

    >>> import numpy as np, tensorflow as tf
    >>> base = mobilenet_v2_base(96, weights=None)
    >>> ds = tf.data.Dataset.from_tensor_slices((np.zeros((3, 96, 96, 3)), [0, 1, 0])).batch(2)
    >>> feats, labels = extract_features(base, ds, verbose=0)
    >>> feats.shape, labels.tolist()
    ((3, 3, 3, 1280), [0, 1, 0])
    """
    inputs = keras.Input(base.input_shape[1:])
    x = preprocess(inputs) if preprocess is not None else inputs
    extractor = keras.Model(inputs, base(x, training=False), name="feature_extractor")
    # One compiled step for every batch (a smaller last batch traces it once more).
    step = tf.function(lambda images: extractor(images, training=False), reduce_retracing=True)
    cardinality = int(dataset.cardinality())
    bar = keras.utils.Progbar(cardinality if cardinality > 0 else None, unit_name="batch",
                              verbose=verbose)
    features: np.ndarray | None = None  # filled in place: no second copy at the end
    labels: list[np.ndarray] = []
    n = 0
    for done, batch in enumerate(dataset, start=1):
        if not isinstance(batch, tuple | list) or len(batch) != 2:
            raise ValueError("extract_features needs a dataset of (images, labels) batches")
        images, batch_labels = batch
        out = step(tf.cast(images, tf.float32)).numpy()
        if features is None or n + len(out) > len(features):
            # Room for every batch when the number of batches is known, else grow.
            batches_left = max(cardinality - done + 1, 1) if cardinality > 0 else done
            grown = np.empty((n + len(out) * batches_left, *out.shape[1:]), out.dtype)
            if features is not None:
                grown[:n] = features[:n]
            features = grown
        features[n : n + len(out)] = out
        n += len(out)
        labels.append(np.asarray(batch_labels))
        bar.update(done)
    if features is None:
        raise ValueError("extract_features got an empty dataset")
    return features[:n], np.concatenate(labels)


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
    """Flatten + Dense(units, relu, he_uniform) + Dense, the head of seed 001.

    Flattening keeps every position of the feature map, so it has far more
    weights than :func:`gap_head`.

    >>> flatten_head((5, 5, 1280), 2).count_params()
    4096257
    """
    return keras.Sequential(
        [
            keras.Input(tuple(feature_shape)),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(units, activation="relu", kernel_initializer="he_uniform",
                               name="hidden"),
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
    >>> sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    6405
    """
    base.trainable = False
    inputs = keras.Input(base.input_shape[1:], name="pixels")
    x = augment(inputs) if augment is not None else inputs
    x = preprocess(x) if preprocess is not None else x
    x = base(x, training=False)
    return keras.Model(inputs, head(x), name=name)


def compile_classifier(
    model: keras.Model,
    num_classes: int,
    *,
    learning_rate: float = 1e-3,
    optimizer: str | keras.optimizers.Optimizer = "adam",
) -> keras.Model:
    """Compile with the loss that fits the output: binary or sparse categorical cross-entropy.

    ``optimizer`` is a Keras optimizer name (``"adam"``, ``"rmsprop"``, ``"nadam"``...),
    created with ``learning_rate``, or an optimizer instance used as it is.

    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    >>> compile_classifier(m, 2).loss.__class__.__name__
    'BinaryCrossentropy'
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if isinstance(optimizer, str):
        opt = keras.optimizers.get(optimizer)
        opt.learning_rate = learning_rate
    else:
        opt = optimizer
    loss = (
        keras.losses.BinaryCrossentropy()
        if num_classes == 2
        else keras.losses.SparseCategoricalCrossentropy()
    )
    model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
    return model


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


def find_base(model: keras.Model) -> keras.Model:
    """The pretrained base inside a transfer model: its nested model with the most layers.

    >>> base = mobilenet_v2_base(96, weights=None)
    >>> find_base(build_frozen_model(base, gap_head((3, 3, 1280), 2))) is base
    True
    """
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if not nested:
        raise ValueError(f"{model.name} has no nested model to use as its base")
    return max(nested, key=lambda m: len(m.layers))


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


def count_params(weights: Sequence[Any]) -> int:
    """Total number of values in a list of weights (e.g. ``model.trainable_weights``).

    >>> count_params([np.zeros((3, 2)), np.zeros(2)])
    8
    """
    return int(sum(int(np.prod(w.shape)) for w in weights))


# --- measuring ---------------------------------------------------------------------------


class EpochTimer(keras.callbacks.Callback):
    """A callback that records the wall time of every epoch in ``self.seconds``.

    >>> EpochTimer().seconds
    []
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def rss_mb() -> float:
    """The resident memory of this process now, in MB.

    >>> rss_mb() > 0
    True
    """
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss / 2**20


def lifetime_peak_rss_mb() -> float:
    """The highest resident memory this process has ever had, in MB (``ru_maxrss``).

    >>> lifetime_peak_rss_mb() >= rss_mb() * 0.5
    True
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakRSS:
    """Context manager sampling this process's resident memory; ``.peak_mb`` is the maximum.

    A background thread samples every ``interval`` seconds, so a very short
    spike can be missed; :func:`lifetime_peak_rss_mb` never misses one but
    cannot be reset.

    >>> with PeakRSS() as mem:
    ...     block = bytearray(50 * 2**20)
    >>> mem.peak_mb >= mem.start_mb
    True
    """

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.start_mb = 0.0
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, rss_mb())

    def __enter__(self) -> PeakRSS:
        self.start_mb = self.peak_mb = rss_mb()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb())


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
