"""Tests of course_utils.pipelines: image splits from a folder, features cached from a base."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import image_batches, tiny_base, write_rgb

from course_utils import pipelines, transfer


@pytest.fixture
def flat_tree(tmp_path: Path) -> Path:
    """``flowers/{a,b,c}/`` with 10 small JPEGs per class (no train/validation split)."""
    root = tmp_path / "flowers"
    for cls in ("a", "b", "c"):
        for i in range(10):
            write_rgb(root / cls / f"{cls}{i}.jpg", seed=i)
    return root


def _labels(ds: tf.data.Dataset) -> list[int]:
    return [int(v) for _, y in ds for v in y.numpy()]


# --- data pipelines ---------------------------------------------------------------------


def test_make_splits_carves_test_from_validation(image_tree: Path) -> None:
    splits = pipelines.make_splits(image_tree, 24, 5, seed=1)
    assert splits.class_names == ["cats", "dogs"]
    assert splits.counts == {"train": 12, "val": 10, "test": 2}
    val, test = set(splits.files["val"]), set(splits.files["test"])
    assert not val & test
    assert all("/validation/" in p for p in val | test)
    assert all("/train/" in p for p in splits.files["train"])
    images, labels = next(iter(splits.train))
    assert images.shape == (5, 24, 24, 3) and images.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 255.0
    assert sum(len(y) for _, y in splits.train) == 12
    assert len(_labels(splits.val)) == 10 and len(_labels(splits.test)) == 2
    # The same seed gives the same test files; the test order is stable between passes.
    again = pipelines.make_splits(image_tree, 24, 5, seed=1)
    assert again.files["test"] == splits.files["test"]
    assert _labels(splits.test) == _labels(splits.test)
    assert "train: 12, val: 10, test: 2" in splits.summary()


def test_make_splits_holds_out_from_a_flat_folder(flat_tree: Path) -> None:
    splits = pipelines.make_splits(flat_tree, 16, 4, seed=3, val_fraction=0.2, test_fraction=0.2)
    assert splits.class_names == ["a", "b", "c"]
    assert splits.counts == {"train": 24, "val": 5, "test": 1}
    files = splits.files
    assert not set(files["train"]) & set(files["val"] + files["test"])
    assert not set(files["val"]) & set(files["test"])
    # The test labels match the folders of the test files, on every pass.
    expected = [splits.class_names.index(Path(p).parent.name) for p in files["test"]]
    assert _labels(splits.test) == expected == _labels(splits.test)
    expected_val = [splits.class_names.index(Path(p).parent.name) for p in files["val"]]
    assert _labels(splits.val) == expected_val


def test_make_splits_training_order_changes_between_epochs(flat_tree: Path) -> None:
    splits = pipelines.make_splits(flat_tree, 8, 24, seed=0)
    first, second = _labels(splits.train), _labels(splits.train)
    assert sorted(first) == sorted(second) and first != second


def test_make_splits_errors(tmp_path: Path, flat_tree: Path) -> None:
    with pytest.raises(FileNotFoundError, match="No image folder"):
        pipelines.make_splits(tmp_path / "missing", 16, 4)
    with pytest.raises(ValueError, match="val_fraction"):
        pipelines.make_splits(flat_tree, 16, 4, val_fraction=1.0)
    with pytest.raises(ValueError, match="test_fraction"):
        pipelines.make_splits(flat_tree, 16, 4, test_fraction=0.0)
    small = tmp_path / "small"
    for cls in ("a", "b"):
        for i in range(3):
            write_rgb(small / cls / f"{i}.jpg", seed=i)
    with pytest.raises(ValueError, match="too few images"):
        pipelines.make_splits(small, 16, 2, val_fraction=0.2)


# --- feature caching --------------------------------------------------------------------


def test_extract_features_equals_running_the_base() -> None:
    base = tiny_base()
    prep = transfer.mobilenet_v2_preprocessing()
    ds = image_batches(n=7, batch=3)  # a smaller last batch on purpose
    feats, labels = pipelines.extract_features(base, ds, preprocess=prep, verbose=0)
    x = np.concatenate([b.numpy() for b, _ in ds])
    expected = keras.ops.convert_to_numpy(base(prep(x), training=False))
    assert feats.shape == (7, 1, 1, 1280) and labels.tolist() == [0, 1, 0, 1, 0, 1, 0]
    np.testing.assert_allclose(feats, expected, rtol=1e-4, atol=1e-4)


def test_extract_features_without_preprocessing_and_progress_bar(capsys) -> None:
    base = tiny_base()
    ds = image_batches(n=4, batch=2)
    feats, _ = pipelines.extract_features(base, ds, verbose=1)
    x = np.concatenate([b.numpy() for b, _ in ds])
    np.testing.assert_allclose(
        feats, keras.ops.convert_to_numpy(base(x, training=False)), rtol=1e-4, atol=1e-4
    )
    assert "2/2" in capsys.readouterr().out


def test_extract_features_errors() -> None:
    base = tiny_base()
    empty = image_batches().take(0)
    with pytest.raises(ValueError, match="empty"):
        pipelines.extract_features(base, empty, verbose=0)
    images_only = image_batches().map(lambda x, y: x)
    with pytest.raises(ValueError, match=r"\(images, labels\)"):
        pipelines.extract_features(base, images_only, verbose=0)


# --- ArrayBatches ---------------------------------------------------------------


def test_array_batches_cover_every_sample_once_per_epoch_in_a_new_order() -> None:
    from course_utils.pipelines import ArrayBatches

    x = np.arange(10, dtype=np.float16)[:, None]
    batches = ArrayBatches(x, (np.arange(10), np.arange(10) * 2), batch_size=4, seed=0)
    assert len(batches) == 3
    first = np.concatenate([batches[i][0][:, 0] for i in range(len(batches))])
    assert sorted(first.tolist()) == list(range(10)) and batches[0][0].dtype == np.float32
    xb, (a, b) = batches[1]
    np.testing.assert_array_equal(xb[:, 0], a)
    np.testing.assert_array_equal(b, a * 2)  # targets stay aligned with their inputs
    batches.on_epoch_end()
    second = np.concatenate([batches[i][0][:, 0] for i in range(len(batches))])
    assert sorted(second.tolist()) == list(range(10)) and second.tolist() != first.tolist()
    fixed = ArrayBatches(x, np.arange(10), batch_size=4)
    assert fixed[0][1].tolist() == [0, 1, 2, 3]


def test_array_batches_train_a_model_like_arrays_do() -> None:
    from course_utils.pipelines import ArrayBatches

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float16)
    y = (x.astype(np.float32) @ np.array([1.0, -2.0, 0.5])).astype(np.float32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(ArrayBatches(x, y, 16, seed=1), epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]


def test_array_batches_release_lets_the_arrays_be_freed_after_fit() -> None:
    import gc
    import weakref

    from course_utils.pipelines import ArrayBatches

    x = np.ones((32, 3), np.float16)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    batches = ArrayBatches(x, np.zeros(32, np.float32), 8, seed=0)
    model.fit(batches, epochs=1, verbose=0)
    watched = weakref.ref(x)
    batches.release()
    del x
    gc.collect()
    assert watched() is None  # nothing (fit's dataset included) holds the inputs any more
    assert len(batches) == 0 and batches.y.shape == (0,)
    pair = ArrayBatches(np.zeros((4, 2)), (np.zeros(4), np.zeros((4, 3))), batch_size=2)
    pair.release()
    assert [t.shape for t in pair.y] == [(0,), (0, 3)] and len(pair) == 0


def test_array_batches_refuse_mismatched_targets() -> None:
    from course_utils.pipelines import ArrayBatches

    with pytest.raises(ValueError, match="must match"):
        ArrayBatches(np.zeros((4, 2)), (np.zeros(4), np.zeros(3)), batch_size=2)
    with pytest.raises(ValueError, match="batch_size"):
        ArrayBatches(np.zeros((4, 2)), np.zeros(4), batch_size=0)
