"""The diagrams draw what the layers compute: sizes and padding against Keras and TensorFlow."""

from __future__ import annotations

import itertools

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
import tensorflow as tf

from course_utils import diagrams


@pytest.mark.parametrize(
    ("n", "f", "stride", "padding"),
    list(itertools.product([5, 6, 7, 32], [1, 2, 3, 5], [1, 2, 3], ["valid", "same"])),
)
def test_output_size_matches_keras(n: int, f: int, stride: int, padding: str) -> None:
    layer = keras.layers.Conv2D(1, f, strides=stride, padding=padding)
    assert (
        diagrams.output_size(n, f, stride, padding) == layer.compute_output_shape((1, n, n, 1))[1]
    )


@pytest.mark.parametrize(("n", "f", "stride"), [(5, 3, 1), (6, 3, 2), (7, 4, 2), (8, 5, 3)])
def test_same_padding_is_tensorflows(n: int, f: int, stride: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, n, n, 1)).astype(np.float32)
    k = rng.normal(size=(f, f, 1, 1)).astype(np.float32)
    before, after = diagrams.same_padding(n, f, stride)
    padded = np.pad(x, ((0, 0), (before, after), (before, after), (0, 0)))
    same = tf.nn.conv2d(x, k, stride, "SAME")
    valid = tf.nn.conv2d(padded, k, stride, "VALID")
    np.testing.assert_allclose(same, valid, atol=1e-5)


def test_pooling_windows_show_keras_values() -> None:
    values = np.random.default_rng(1).integers(0, 9, size=(4, 6))
    fig = diagrams.pooling_windows(values)
    shown = {ax.get_title(): [t.get_text() for t in ax.texts] for ax in fig.axes}
    x = values[None, :, :, None].astype(np.float32)
    for title, layer in [
        ("max pooling", keras.layers.MaxPool2D(2)),
        ("average pooling", keras.layers.AvgPool2D(2)),
    ]:
        expected = [f"{v:g}" for v in np.round(np.asarray(layer(x))[0, :, :, 0], 2).ravel()]
        assert shown[title] == expected
    plt.close(fig)


def test_conv_geometry_draws_padding_zeros() -> None:
    fig = diagrams.conv_geometry([(3, 1, "same")], n=4)
    zeros = [t for t in fig.axes[0].texts if t.get_text() == "0"]
    assert len(zeros) == 6 * 6 - 4 * 4  # one ring of zeros around a 4x4 input
    assert fig.axes[1].get_title() == "output 4x4"
    plt.close(fig)


def test_bad_inputs_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="padding"):
        diagrams.output_size(5, 3, padding="full")
    with pytest.raises(ValueError, match="2-D"):
        diagrams.pooling_windows(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="no complete"):
        diagrams.pooling_windows(np.zeros((1, 4)))
