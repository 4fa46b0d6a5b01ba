"""Model files: safe mode, and a clear error for every way a file can be wrong."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from course_utils.saving import ModelFileError, load_model


def _small_model() -> keras.Model:
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="head")])


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.keras"
    _small_model().save(path)
    return path


def test_good_file_loads_with_identical_weights(good: Path) -> None:
    original = keras.saving.load_model(good)
    model = load_model(good, compile=False)
    x = np.ones((1, 3), np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), original.predict(x, verbose=0))


def test_lambda_layer_is_refused_with_an_explanation(tmp_path: Path) -> None:
    inputs = keras.Input((3,))
    risky = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs))
    path = tmp_path / "lambda.keras"
    risky.save(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ModelFileError, match="(?s)Lambda.*stored Python code.*safe_mode=False"):
        load_model(path)
    # Keras itself refuses it too (safe_mode=True is its default) ...
    with pytest.raises(ValueError, match="(?i)lambda"):
        keras.saving.load_model(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # ... and nothing changed


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("missing.keras", None, "no such file"),
        ("old.h5", lambda p: p.write_bytes(b"\x89HDF\r\n\x1a\n"), "legacy HDF5"),
        ("model.pkl", lambda p: p.write_bytes(b"x"), "not a .keras file"),
        ("saved_model", lambda p: p.mkdir(), "SavedModel"),
        ("empty.keras", lambda p: p.write_bytes(b""), "not a zip archive"),
        ("notes.keras", lambda p: p.write_text("hello"), "not a zip archive"),
    ],
)
def test_wrong_kind_of_file_is_named(tmp_path: Path, name: str, make, reason: str) -> None:
    path = tmp_path / name
    if make:
        make(path)
    with pytest.raises(ModelFileError, match=reason) as err:
        load_model(path)
    assert err.value.path == path and name in str(err.value)


def test_half_written_file_is_named(good: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.keras"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="damaged or incomplete"):
        load_model(cut)


def test_zip_that_is_not_a_model_is_named(tmp_path: Path) -> None:
    junk = tmp_path / "junk.keras"
    with zipfile.ZipFile(junk, "w") as zf:
        zf.writestr("readme.txt", "not a model")
    with pytest.raises(ModelFileError, match="config.json"):
        load_model(junk)


def test_damaged_weights_are_named(good: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            dst.writestr(item, data[:100] if item.filename.endswith(".h5") else data)
    with pytest.raises(ModelFileError, match="damaged or incomplete"):
        load_model(broken)
