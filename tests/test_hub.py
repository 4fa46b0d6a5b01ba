"""Tests of the Keras 3 TF Hub wrapper and the course's offline Hub-style export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import hub as course_hub
from course_utils.backbones import get_backbone
from course_utils.hub import (
    MARKER,
    PUBLIC_HANDLES,
    HubLayer,
    export_mobilenet_v2,
    hub_handle,
    imagenet_probabilities,
)

pytestmark = pytest.mark.skipif(
    not get_backbone("MobileNetV2").weights_path(include_top=False).is_file()
    or not get_backbone("MobileNetV2").weights_path(include_top=True).is_file(),
    reason="MobileNetV2 ImageNet weights are not in the Keras cache (KERAS_HOME)",
)


@pytest.fixture(scope="module")
def hub_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("course-data")


@pytest.fixture(scope="module")
def feature_vector(hub_root: Path) -> Path:
    return export_mobilenet_v2("feature_vector", root=hub_root)


@pytest.fixture(scope="module")
def classifier(hub_root: Path) -> Path:
    return export_mobilenet_v2("classification", root=hub_root)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """Two real photos at 224x224, pixels in [0, 1] (the Hub convention)."""
    from course_utils.datasets import get_file

    paths = [get_file("photo_cat"), get_file("photo_parrot")]
    arrays = [
        keras.utils.img_to_array(keras.utils.load_img(p, target_size=(224, 224))) for p in paths
    ]
    return np.stack(arrays) / 255.0


def _save_module(module: tf.Module, path: Path) -> Path:
    tf.saved_model.save(module, str(path))
    return path


# --- the export -------------------------------------------------------------------


def test_export_writes_a_marked_savedmodel(feature_vector: Path, hub_root: Path) -> None:
    assert feature_vector == hub_root / "hub" / "mobilenet_v2_feature_vector"
    assert (feature_vector / "saved_model.pb").is_file()
    info = json.loads((feature_vector / MARKER).read_text())
    assert info["kind"] == "feature_vector" and info["outputs"] == 1280
    assert info["input"] == [224, 224, 3] and info["pixels"] == "[0, 1]"
    assert not [p for p in feature_vector.parent.iterdir() if p.name.startswith(".")]


def test_export_is_reused_unless_overwritten(feature_vector: Path, hub_root: Path) -> None:
    before = (feature_vector / "saved_model.pb").stat().st_mtime_ns
    assert export_mobilenet_v2("feature_vector", root=hub_root) == feature_vector
    assert (feature_vector / "saved_model.pb").stat().st_mtime_ns == before


def test_unfinished_export_is_redone_in_a_separate_process(tmp_path: Path) -> None:
    target = tmp_path / "hub" / "mobilenet_v2_feature_vector"
    target.mkdir(parents=True)
    (target / "saved_model.pb").write_bytes(b"half written")  # no marker: not finished
    assert export_mobilenet_v2("feature_vector", root=tmp_path, isolated=True) == target
    assert (target / MARKER).is_file()
    assert tf.saved_model.load(str(target)) is not None


def test_a_failed_separate_export_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(course_hub, "_ISOLATED_CODE", "raise SystemExit('no weights here')")
    with pytest.raises(RuntimeError, match="separate process failed:\\n.*no weights here"):
        export_mobilenet_v2("classification", root=tmp_path, isolated=True)


def test_export_all_reuses_finished_exports(
    hub_root: Path, feature_vector: Path, classifier: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_process(*args: object) -> None:
        raise AssertionError("nothing should be exported again")

    monkeypatch.setattr(course_hub, "_run_isolated", no_process)
    folders = course_hub.export_all(hub_root)
    assert folders == {"feature_vector": feature_vector, "classification": classifier}


def test_export_rejects_an_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        export_mobilenet_v2("segmentation", root=tmp_path)


def test_exported_features_equal_keras_mobilenet_v2(
    feature_vector: Path, images: np.ndarray
) -> None:
    import tensorflow_hub as hub

    loaded = hub.load(str(feature_vector))
    assert callable(loaded)
    assert len(loaded.variables) == 260  # 52 convolutions x 1 + 52 batch norms x 4
    assert "serving_default" in loaded.signatures
    features = loaded(tf.constant(images, tf.float32)).numpy()
    mnv2 = get_backbone("MobileNetV2")
    base = mnv2.build(include_top=False, pooling="avg")
    expected = base.predict(mnv2.preprocess_input(images * 255.0), verbose=0)
    assert features.shape == (2, 1280)
    np.testing.assert_allclose(features, expected, atol=1e-4)


def test_exported_classifier_knows_the_photos(classifier: Path, images: np.ndarray) -> None:
    layer = HubLayer(classifier)
    probs = imagenet_probabilities(layer(images))
    labels = [top[0][1] for top in get_backbone("MobileNetV2").decode_predictions(probs, top=1)]
    assert labels == ["Egyptian_cat", "macaw"]


# --- the wrapper --------------------------------------------------------------------


def test_hub_layer_works_in_a_keras_3_sequential(feature_vector: Path, images: np.ndarray) -> None:
    layer = HubLayer(feature_vector)
    model = keras.Sequential([keras.Input((224, 224, 3)), layer, keras.layers.Dense(5)])
    assert model.output_shape == (None, 5)
    assert model(images).shape == (2, 5)
    assert not layer.trainable and layer.weights == []
    assert len(model.trainable_weights) == 2  # only the new Dense layer learns
    mnv2_base = get_backbone("MobileNetV2").build(weights=None, include_top=False, pooling="avg")
    assert layer.saved_model_param_count() == mnv2_base.count_params() == 2_257_984


def test_hub_layer_trains_only_the_new_head(feature_vector: Path, images: np.ndarray) -> None:
    layer = HubLayer(feature_vector)
    model = keras.Sequential([keras.Input((224, 224, 3)), layer, keras.layers.Dense(2)])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    before = layer(images).numpy()
    history = model.fit(images, np.array([0, 1]), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_array_equal(layer(images).numpy(), before)


def test_hub_layer_refuses_to_be_trainable(feature_vector: Path) -> None:
    with pytest.raises(ValueError, match="frozen"):
        HubLayer(feature_vector, trainable=True)


# Keras 3.15's own .keras writer triggers this NumPy 2 warning for every model (not ours).
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")
def test_hub_layer_round_trips_through_a_keras_file(
    feature_vector: Path, images: np.ndarray, tmp_path: Path
) -> None:
    model = keras.Sequential(
        [keras.Input((224, 224, 3)), HubLayer(feature_vector), keras.layers.Dense(3)]
    )
    expected = np.asarray(model(images))
    path = tmp_path / "hub_model.keras"
    model.save(path)
    with pytest.raises(ValueError, match="safe mode"):
        keras.models.load_model(path)
    reloaded = keras.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(np.asarray(reloaded(images)), expected, atol=1e-6)
    assert reloaded.layers[0].get_config()["handle"] == str(feature_vector)


def test_hub_layer_explains_a_model_that_is_not_callable(tmp_path: Path) -> None:
    module = tf.Module()
    module.v = tf.Variable(1.0)
    path = _save_module(module, tmp_path / "not_callable")
    with pytest.raises(TypeError, match="not callable"):
        HubLayer(path)


class _TwoOutputs(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def __call__(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"double": 2.0 * x, "total": tf.reduce_sum(x, axis=-1, keepdims=True)}


def test_hub_layer_picks_one_output_of_a_dict(tmp_path: Path) -> None:
    path = _save_module(_TwoOutputs(), tmp_path / "two_outputs")
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(HubLayer(path, output_key="total")(x), [[3.0], [3.0]])
    with pytest.raises(ValueError, match="output_key"):
        HubLayer(path)(x)


def test_tfsm_layer_reads_the_same_export(feature_vector: Path, images: np.ndarray) -> None:
    tfsm = keras.layers.TFSMLayer(str(feature_vector), call_endpoint="serve", trainable=False)
    np.testing.assert_allclose(
        np.asarray(tfsm(images)), np.asarray(HubLayer(feature_vector)(images)), atol=1e-6
    )


def test_hub_keras_layer_is_refused_by_keras_3(feature_vector: Path) -> None:
    """The problem the wrapper solves: hub.KerasLayer is a tf_keras (Keras 2) layer."""
    import tensorflow_hub as hub

    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        keras.Sequential([hub.KerasLayer(str(feature_vector), trainable=False)])


@pytest.mark.slow
def test_legacy_keras_route_runs_hub_keras_layer(feature_vector: Path) -> None:
    """With TF_USE_LEGACY_KERAS=1 (a fresh process), tf.keras is tf_keras and KerasLayer fits."""
    script = textwrap.dedent(
        f"""
        import numpy as np, tensorflow as tf, tensorflow_hub as hub
        model = tf.keras.Sequential([
            tf.keras.Input((224, 224, 3)),
            hub.KerasLayer({str(feature_vector)!r}, trainable=False),
            tf.keras.layers.Dense(5),
        ])
        out = model(np.zeros((1, 224, 224, 3), "float32"))
        print(type(model).__module__.split(".")[0], out.shape)
        """
    )
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["tf_keras", "(1,", "5)"]


# --- handles and outputs -------------------------------------------------------------


def test_hub_handle_prefers_the_public_url_when_online(
    hub_root: Path, feature_vector: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(course_hub, "network_available", lambda *a, **k: True)
    assert hub_handle("feature_vector", root=hub_root) == PUBLIC_HANDLES["feature_vector"]
    monkeypatch.setattr(course_hub, "network_available", lambda *a, **k: False)
    assert hub_handle("feature_vector", root=hub_root) == str(feature_vector)
    assert hub_handle("feature_vector", prefer="local", root=hub_root) == str(feature_vector)
    assert hub_handle("classification", prefer="public").startswith("https://tfhub.dev/")


@pytest.mark.parametrize(("kind", "prefer"), [("logits", "auto"), ("feature_vector", "nearest")])
def test_hub_handle_rejects_bad_arguments(kind: str, prefer: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        hub_handle(kind, prefer=prefer)


def test_imagenet_probabilities_drops_hub_s_background_class() -> None:
    logits = np.zeros((2, 1001))
    logits[0, 1 + 285] = 20.0  # Hub index 286 is Keras class 285 (Egyptian cat)
    logits[1, 0] = 20.0  # "background"
    probs = imagenet_probabilities(logits)
    assert probs.shape == (2, 1000)
    assert probs[0].argmax() == 285 and probs[0].sum() == pytest.approx(1.0, abs=1e-3)
    assert probs[1].sum() < 0.01


def test_imagenet_probabilities_keeps_keras_probabilities_and_softmaxes_logits() -> None:
    probs = np.full((1, 1000), 1 / 1000)
    np.testing.assert_array_equal(imagenet_probabilities(probs), probs)
    logits = np.zeros((1, 1000))
    logits[0, 7] = 5.0
    out = imagenet_probabilities(logits)
    assert out.argmax() == 7 and out.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="expected"):
        imagenet_probabilities(np.zeros((1, 10)))
