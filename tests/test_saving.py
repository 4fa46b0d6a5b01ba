"""Model files: safe mode, and a clear error for every way a file can be wrong."""

from __future__ import annotations

import hashlib
import json
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


# --- every failure is a ModelFileError in the course's words (not Keras's) -----------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rewrite(src: Path, dest: Path, **members) -> Path:
    """A copy of the .keras zip ``src`` with members replaced (a callable edits the JSON)."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dest, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            change = members.pop(item.filename.replace(".", "_"), None)
            if callable(change):
                document = json.loads(data)
                change(document)
                data = json.dumps(document).encode()
            elif change is not None:
                data = change
            if change != b"<drop>":
                new.writestr(item, data)
    return dest


def _failure(path: Path, **kwargs: object) -> str:
    before = _digest(path)
    with pytest.raises(ModelFileError) as err:
        load_model(path, **kwargs)
    assert err.value.path == path and str(path) in str(err.value)
    assert _digest(path) == before  # the student's file is left as it was
    return err.value.reason


class Doubler(keras.layers.Layer):
    """A custom layer that is not registered (as in a notebook that forgot the decorator)."""

    def call(self, x):
        return x * 2


def forgotten_loss(y_true, y_pred):  # not registered either
    return keras.ops.mean(keras.ops.square(y_true - y_pred))


def test_unregistered_custom_layer_is_named_with_the_fix(tmp_path: Path) -> None:
    inputs = keras.Input((3,))
    path = tmp_path / "custom.keras"
    keras.Model(inputs, keras.layers.Dense(2)(Doubler(name="double")(inputs))).save(path)
    reason = _failure(path)
    assert reason.startswith("this model uses a custom layer 'Doubler' that is not registered")
    assert "@keras.saving.register_keras_serializable()" in reason
    assert "compile=False" not in reason  # it would not help: the layer is needed anyway


def test_unregistered_custom_loss_is_named_and_compile_false_loads(tmp_path: Path) -> None:
    model = _small_model()
    model.compile(optimizer="sgd", loss=forgotten_loss)
    path = tmp_path / "loss.keras"
    model.save(path)
    reason = _failure(path)
    assert "a custom loss 'forgotten_loss'" in reason and "compile=False" in reason
    assert load_model(path, compile=False).output_shape == (None, 2)


def test_registered_custom_layer_loads(tmp_path: Path) -> None:
    @keras.saving.register_keras_serializable(package="course_tests")
    class Tripler(keras.layers.Layer):
        def call(self, x):
            return x * 3

    inputs = keras.Input((3,))
    path = tmp_path / "registered.keras"
    keras.Model(inputs, Tripler()(inputs)).save(path)
    x = np.ones((1, 3), np.float32)
    np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), 3 * x)


def _dense(config: dict) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")


CRAFTED = {  # how config.json is damaged -> what the reason must say (our wording)
    "units_str": (lambda c: _dense(c)["config"].update(units="two"), "layer 'head' (Dense)"),
    "units_list": (lambda c: _dense(c)["config"].update(units=[2]), "layer 'head' (Dense)"),
    "extra_arg": (lambda c: _dense(c)["config"].update(bogus=1), "layer 'head' (Dense)"),
    "activation": (lambda c: _dense(c)["config"].update(activation="nope"), "layer 'head'"),
    "unknown_class": (lambda c: _dense(c).update(class_name="NoSuchLayer"), "'head'"),
    "layers_not_list": (lambda c: c["config"].update(layers={"a": 1}), "cannot rebuild"),
    "config_list": (lambda c: c.update(config=[1, 2]), "cannot rebuild"),
    "empty": (lambda c: c.clear(), "cannot rebuild"),
    "foreign_module": (lambda c: c.update(module="os", class_name="system",
                                          registered_name="system"),
                       "a custom model 'system' that is not registered"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_or_damaged_config_is_explained(good: Path, tmp_path: Path, case: str) -> None:
    edit, says = CRAFTED[case]
    path = _rewrite(good, tmp_path / f"{case}.keras", config_json=edit)
    reason = _failure(path)
    assert says in reason
    if "cannot rebuild" in reason:
        assert "its config.json describes a model this Keras cannot rebuild" in reason
        assert "save it again from the code that made it" in reason


def test_config_from_a_newer_keras_says_so(good: Path, tmp_path: Path) -> None:
    path = _rewrite(
        good, tmp_path / "newer.keras",
        config_json=lambda c: _dense(c)["config"].update(new_option=True),
        metadata_json=lambda m: m.update(keras_version="9.0.0"),
    )  # fmt: skip
    assert f"saved by Keras 9.0.0 and this is Keras {keras.__version__}" in _failure(path)


@pytest.mark.parametrize(
    ("member", "says"),
    [(b"{not json", "its config.json is not valid JSON"),
     (b"\xff\xfe", "its config.json is not valid JSON"),
     (b"[1, 2]", "its config.json does not describe a model"),
     (b"<drop>", "a zip archive without config.json")],
)  # fmt: skip
def test_unreadable_config_is_named(good: Path, tmp_path: Path, member: bytes, says: str) -> None:
    path = _rewrite(good, tmp_path / "odd.keras", config_json=member)
    assert says in _failure(path)


def test_tilde_is_expanded(good: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(good.parent))
    assert load_model("~/good.keras", compile=False).output_shape == (None, 2)
    with pytest.raises(ModelFileError, match="no such file") as err:
        load_model("~/gone.keras")
    assert err.value.path == good.parent / "gone.keras"


@pytest.mark.parametrize("name", ["model.KERAS", "Model.Keras"])
def test_upper_case_suffix_gets_a_rename_hint(good: Path, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(good.read_bytes())
    reason = _failure(path)
    assert f"rename it to {path.stem}.keras" in reason
