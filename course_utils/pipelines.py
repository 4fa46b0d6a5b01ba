"""Image pipelines and cached features: lessons 05 (frozen base) and 06 (fine-tuning), 07-08.

:func:`make_splits` turns an image folder into train/validation/test
``tf.data`` pipelines (:class:`Splits`); :func:`extract_features` runs a frozen
base once over a pipeline, so that a new head trains on NumPy arrays::

    >>> import numpy as np, tensorflow as tf
    >>> base = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.GlobalAveragePooling2D()])
    >>> ds = tf.data.Dataset.from_tensor_slices((np.ones((5, 4, 4, 3)), [0, 1, 1, 0, 1])).batch(2)
    >>> features, labels = extract_features(base, ds, verbose=0)
    >>> features.tolist()[0], labels.tolist()
    ([1.0, 1.0, 1.0], [0, 1, 1, 0, 1])

:class:`ArrayBatches` feeds such cached arrays to ``fit`` one batch at a time
(lessons 07 and 08 train their heads that way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

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

    >>> import tempfile
    >>> from PIL import Image
    >>> scratch = tempfile.TemporaryDirectory()  # removed when no longer used
    >>> folder = Path(scratch.name)
    >>> for i in range(20):  # ten small photos in each of two class folders
    ...     (folder / ("cats", "dogs")[i % 2]).mkdir(exist_ok=True)
    ...     Image.new("RGB", (8, 8)).save(folder / ("cats", "dogs")[i % 2] / f"{i}.jpg")
    >>> splits = make_splits(folder, 8, 4)
    Using 16 files for training.
    Using 4 files for validation.
    >>> splits.summary()
    'classes: cats, dogs; train: 16, val: 3, test: 1 images'
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
    :func:`course_utils.transfer.mobilenet_v2_preprocessing`) is applied
    first; the base runs in inference mode, batch by batch through one
    compiled step, with a ``keras.utils.Progbar``. Training a head on these
    arrays costs milliseconds per epoch instead of a pass through the whole base.

    >>> import tensorflow as tf
    >>> from course_utils.transfer import mobilenet_v2_base
    >>> base = mobilenet_v2_base(96, weights=None)
    >>> ds = tf.data.Dataset.from_tensor_slices((np.zeros((3, 96, 96, 3)), [0, 1, 0])).batch(2)
    >>> features, labels = extract_features(base, ds, verbose=0)
    >>> features.shape, labels.tolist()
    ((3, 3, 3, 1280), [0, 1, 0])
    """
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise ValueError("extract_features needs a dataset of (images, labels) batches")
    inputs = keras.Input(base.input_shape[1:])
    x = preprocess(inputs) if preprocess is not None else inputs
    extractor = keras.Model(inputs, base(x, training=False), name="feature_extractor")
    # One compiled step for every batch (a smaller last batch traces it once more).
    step = tf.function(lambda images: extractor(images, training=False), reduce_retracing=True)
    n_batches = int(dataset.cardinality())
    bar = keras.utils.Progbar(
        n_batches if n_batches > 0 else None, unit_name="batch", verbose=verbose
    )
    features, labels = [], []
    for images, batch_labels in dataset:
        features.append(step(tf.cast(images, tf.float32)).numpy())
        labels.append(batch_labels.numpy())
        bar.add(1)
    if not features:
        raise ValueError("extract_features got an empty dataset")
    return np.concatenate(features), np.concatenate(labels)


# --- training on cached features without copying them --------------------------------


class ArrayBatches(keras.utils.PyDataset):
    """Batches of in-memory arrays for ``fit``, cast one batch at a time, reshuffled each epoch.

    ``model.fit(x, y)`` on NumPy arrays converts them whole into tensors (and
    from float16 to float32 first), which for a few hundred MB of cached
    features means several copies at once. This hands ``fit`` one batch at a
    time instead. ``y`` may be one array or a tuple of arrays (a model with
    several outputs); ``seed=None`` keeps the order (validation data)::

        >>> batches = ArrayBatches(np.zeros((5, 2), np.float16), np.arange(5), batch_size=2)
        >>> len(batches), batches[2][0].dtype, batches[2][1].tolist()
        (3, dtype('float32'), [4])
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray | tuple[np.ndarray, ...],
        batch_size: int,
        seed: int | None = None,
        dtype: str = "float32",
    ) -> None:
        super().__init__()
        targets = y if isinstance(y, tuple) else (y,)
        if any(len(t) != len(x) for t in targets):
            sizes = [len(t) for t in targets]
            raise ValueError(f"{len(x)} inputs but {sizes} targets: they must match")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.x, self.y, self.batch_size, self.dtype = x, y, batch_size, dtype
        self.order = np.arange(len(x))
        self.rng = np.random.default_rng(seed) if seed is not None else None
        self.on_epoch_end()

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)  # ceiling division

    def __getitem__(self, i: int) -> tuple[np.ndarray, Any]:
        idx = self.order[i * self.batch_size : (i + 1) * self.batch_size]
        y = tuple(t[idx] for t in self.y) if isinstance(self.y, tuple) else self.y[idx]
        return self.x[idx].astype(self.dtype), y

    def on_epoch_end(self) -> None:
        if self.rng is not None:
            self.rng.shuffle(self.order)

    def release(self) -> None:
        """Let go of the arrays (keeping no view of them), so that ``del`` can free them.

        With the TensorFlow backend, ``fit`` wraps a ``PyDataset`` in
        ``tf.data.Dataset.from_generator``, and TensorFlow keeps that generator
        (and so this object, and the arrays) alive after ``fit`` returns: until
        this is called, deleting your own names for the arrays frees nothing.
        Afterwards there are no batches left::

            >>> batches = ArrayBatches(np.zeros((5, 2), np.float16), np.arange(5), batch_size=2)
            >>> batches.release()
            >>> len(batches), batches.x.shape
            (0, (0, 2))
        """

        def emptied(a: np.ndarray) -> np.ndarray:
            return np.empty((0, *a.shape[1:]), a.dtype)  # a new array, not a view of ``a``

        self.x = emptied(self.x)
        self.y = tuple(map(emptied, self.y)) if isinstance(self.y, tuple) else emptied(self.y)
        self.order = self.order[:0].copy()
