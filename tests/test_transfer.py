"""Tests of course_utils.transfer (lessons 05-06): bases, heads, unfreezing, histories."""

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
from helpers import TINY, image_batches, tiny_base

from course_utils import datasets, transfer
from course_utils.architectures import count_params

# --- the backbone's preprocessing and augmentation -------------------------------


def test_preprocessing_layer_matches_preprocess_input() -> None:
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    expected = keras.applications.mobilenet_v2.preprocess_input(x.copy())
    got = keras.ops.convert_to_numpy(transfer.mobilenet_v2_preprocessing()(x))
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_augmentation_only_acts_while_training() -> None:
    x = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    aug = transfer.augmentation(seed=1)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(aug(x, training=False)), x)
    assert not np.allclose(keras.ops.convert_to_numpy(aug(x, training=True)), x)


# --- heads and models -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("builder", "shape", "classes", "params"),
    [
        (transfer.gap_head, (5, 5, 1280), 2, 1_281),
        (transfer.gap_head, (5, 5, 1280), 5, 6_405),
        (transfer.flatten_head, (5, 5, 1280), 2, 4_096_257),
        (transfer.flatten_head, (6, 6, 1280), 2, 5_898_497),
    ],
)
def test_head_parameter_counts(builder, shape, classes, params) -> None:
    head = builder(shape, classes)
    assert head.count_params() == params
    assert head.compute_output_shape((None, *shape)) == (None, 1 if classes == 2 else classes)


def test_heads_match_hand_built_layers() -> None:
    inputs = keras.Input((5, 5, 1280))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    hand = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(pooled))
    head = transfer.gap_head((5, 5, 1280), 2, dropout=0.0)
    head.set_weights(hand.get_weights())
    x = np.random.default_rng(0).normal(size=(3, 5, 5, 1280)).astype("float32")
    np.testing.assert_allclose(head.predict(x, verbose=0), hand.predict(x, verbose=0), atol=1e-6)
    probs = transfer.gap_head((5, 5, 1280), 5).predict(x, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)  # softmax for 5 classes
    assert transfer.flatten_head((5, 5, 1280), 2).layers[1].activation.__name__ == "relu"


@pytest.mark.parametrize("builder", [transfer.gap_head, transfer.flatten_head])
def test_heads_reject_fewer_than_two_classes(builder) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        builder((5, 5, 1280), 1)


def test_build_frozen_model_freezes_and_runs_batchnorm_in_inference_mode() -> None:
    base = tiny_base()
    head = transfer.gap_head(base.output.shape[1:], 3, dropout=0.0)
    prep = transfer.mobilenet_v2_preprocessing()
    model = transfer.build_frozen_model(base, head, preprocess=prep)
    assert base.trainable is False
    assert count_params(model).trainable == head.count_params() == 1280 * 3 + 3
    # training=True must not switch the base's BatchNorm to batch statistics.
    x = np.random.default_rng(0).uniform(0, 255, (4, TINY, TINY, 3)).astype("float32")
    train_mode = keras.ops.convert_to_numpy(model(x, training=True))
    infer_mode = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_allclose(train_mode, infer_mode, atol=1e-5)


def test_predicted_classes() -> None:
    assert transfer.predicted_classes(np.array([[0.49], [0.51]])).tolist() == [0, 1]
    assert transfer.predicted_classes(np.array([0.2, 0.8])).tolist() == [0, 1]
    assert transfer.predicted_classes(np.array([[0.1, 0.2, 0.7]])).tolist() == [2]


# --- fine-tuning ------------------------------------------------------------------------


def _hand_unfreeze(base: keras.Model, at: int) -> None:
    """The loop the lesson writes by hand."""
    base.trainable = True
    for layer in base.layers[:at]:
        layer.trainable = False
    for layer in base.layers[at:]:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def test_unfreeze_from_matches_the_lessons_loop() -> None:
    helper, hand = tiny_base(), tiny_base()
    assert len(helper.layers) == transfer.MOBILENET_V2_LAYERS
    n = transfer.unfreeze_from(helper, 100)
    _hand_unfreeze(hand, 100)
    assert [lay.trainable for lay in helper.layers] == [lay.trainable for lay in hand.layers]
    assert n == sum(1 for lay in hand.layers if lay.trainable and lay.weights) == 18
    assert not any(lay.trainable for lay in helper.layers[:100])
    bn = [lay for lay in helper.layers if isinstance(lay, keras.layers.BatchNormalization)]
    assert bn and not any(lay.trainable for lay in bn)


def test_unfreeze_from_by_name_and_negative_index() -> None:
    base = tiny_base()
    name = base.layers[100].name
    by_name = transfer.unfreeze_from(base, name)
    flags = [lay.trainable for lay in base.layers]
    assert by_name == transfer.unfreeze_from(base, 100 - len(base.layers))
    assert flags == [lay.trainable for lay in base.layers]
    with_bn = transfer.unfreeze_from(base, 100, keep_batchnorm_frozen=False)
    assert with_bn > by_name
    assert any(
        isinstance(lay, keras.layers.BatchNormalization) and lay.trainable for lay in base.layers
    )
    assert transfer.unfreeze_from(base, 0, keep_batchnorm_frozen=False) == sum(
        1 for lay in base.layers if lay.weights
    )


def test_unfreeze_from_errors() -> None:
    base = tiny_base()
    with pytest.raises(ValueError, match="no layer called"):
        transfer.unfreeze_from(base, "no_such_layer")
    with pytest.raises(IndexError, match="154 layers"):
        transfer.unfreeze_from(base, 154)
    with pytest.raises(IndexError):
        transfer.unfreeze_from(base, -155)
    for bad in (1.5, True, None):
        with pytest.raises(TypeError):
            transfer.unfreeze_from(base, bad)


def test_fine_tuning_changes_only_the_unfrozen_layers() -> None:
    keras.utils.set_random_seed(0)
    base = tiny_base()
    model = transfer.build_frozen_model(
        base,
        transfer.gap_head(base.output.shape[1:], 2),
        preprocess=transfer.mobilenet_v2_preprocessing(),
    )
    transfer.unfreeze_from(base, 100)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-2), loss=keras.losses.BinaryCrossentropy()
    )
    before = {w.path: w.numpy().copy() for w in base.weights}
    model.fit(image_batches(n=8, batch=4), epochs=1, verbose=0)
    changed = {w.path for w in base.weights if not np.array_equal(before[w.path], w.numpy())}
    top_conv = {
        w.path
        for lay in base.layers[100:]
        for w in lay.weights
        if not isinstance(lay, keras.layers.BatchNormalization)
    }
    assert changed and changed <= top_conv  # nothing below 100, no BatchNorm statistics


# --- saving and loading -----------------------------------------------------------------


def test_save_load_round_trip_gives_identical_predictions(tmp_path: Path) -> None:
    base = tiny_base()
    model = transfer.build_frozen_model(
        base,
        transfer.gap_head(base.output.shape[1:], 5),
        preprocess=transfer.mobilenet_v2_preprocessing(),
        augment=transfer.augmentation(3),
    )
    head = model.get_layer("gap_head")
    rng = np.random.default_rng(1)
    head.set_weights([rng.normal(size=w.shape).astype("float32") for w in head.get_weights()])
    x, _ = next(iter(image_batches(n=8, batch=8)))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert isinstance(loaded.get_layer("mobilenet_v2"), keras.Model)
    assert not loaded.get_layer("mobilenet_v2").trainable


def test_safe_mode_refuses_a_lambda_layer(tmp_path: Path) -> None:
    inp = keras.Input((3,))
    model = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ValueError, match="Lambda"):
        keras.models.load_model(path, safe_mode=True)


# --- merging histories -----------------------------------------------------------------


def test_merge_histories() -> None:
    first = {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9]}
    second = {"loss": [0.5], "val_loss": [0.7], "learning_rate": [1e-5]}
    assert transfer.merge_histories(first, second) == {
        "loss": [1.0, 0.8, 0.5],
        "val_loss": [1.1, 0.9, 0.7],
    }
    assert transfer.merge_histories() == {}


# --- MirroredStrategy on two logical CPUs (in a fresh process) --------------------------

MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf

    # Must run before TensorFlow initialises its devices.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])

    import keras
    import numpy as np
    from course_utils import transfer

    # The lesson's code: load the saved model inside the scope, unfreeze, compile, fit.
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = keras.models.load_model(sys.argv[1], safe_mode=True, compile=False)
        transfer.unfreeze_from(model.get_layer("mobilenet_v2"), 100)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-5),
                      loss=keras.losses.BinaryCrossentropy())
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (16, 32, 32, 3)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(16) % 2)).batch(8)
    history = model.fit(ds, epochs=2, verbose=0)
    print("RESULT " + json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "devices": list(strategy.extended.worker_devices),
        "loss": [float(v) for v in history.history["loss"]],
        "distributed": bool(model.trainable_weights
                            and hasattr(model.trainable_weights[0].value, "values")),
    }))
    """
)


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(tmp_path: Path) -> None:
    base = tiny_base()
    model = transfer.build_frozen_model(
        base,
        transfer.gap_head(base.output.shape[1:], 2),
        preprocess=transfer.mobilenet_v2_preprocessing(),
    )
    path = tmp_path / "start.keras"
    model.save(path)
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED_SCRIPT)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, str(script), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT ") :])
    assert result["replicas"] == 2
    assert len(result["devices"]) == 2 and all("CPU" in d for d in result["devices"])
    assert result["distributed"]
    assert len(result["loss"]) == 2 and all(np.isfinite(result["loss"]))


# --- real weights (offline assets), skipped cleanly when absent -------------------------


def _have_mobilenet_weights(size: int) -> bool:
    name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{size}_no_top.h5"
    return (datasets.keras_home() / "models" / name).is_file()


@pytest.mark.slow
def test_real_mobilenet_v2_shapes_and_counts() -> None:
    if not (_have_mobilenet_weights(160) and _have_mobilenet_weights(192)):
        pytest.skip("MobileNetV2 ImageNet weights are not in the Keras cache (offline, no assets)")
    base = transfer.mobilenet_v2_base(160)
    assert base.output.shape == (None, 5, 5, 1280)
    assert base.count_params() == 2_257_984
    assert count_params(base).trainable == 0
    model = transfer.build_frozen_model(
        base,
        transfer.gap_head(base.output.shape[1:], 2),
        preprocess=transfer.mobilenet_v2_preprocessing(),
    )
    assert count_params(model).trainable == 1_281
    assert model.count_params() == 2_259_265
    assert transfer.mobilenet_v2_base(192).output.shape == (None, 6, 6, 1280)
