"""Exercises for lesson 01 (convolution and filters). Checkers compute the answer with Keras/TF."""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Exercise


def _conv_params(answer: object) -> bool | tuple[bool, str]:
    import keras

    layer = keras.layers.Conv2D(64, kernel_size=5)
    layer.build((None, None, None, 3))
    expected = layer.count_params()
    if int(answer) == expected:
        return True
    if int(answer) == 5 * 5 * 3 * 64:
        return False, "Close: you counted the weights but forgot one bias per filter."
    return False, "Count weights per filter (height x width x input channels), plus a bias."


def _output_height(answer: object) -> bool | tuple[bool, str]:
    import keras

    layer = keras.layers.Conv2D(1, kernel_size=5, strides=2, padding="valid")
    expected = layer.compute_output_shape((1, 32, 32, 1))[1]
    if int(answer) == expected:
        return True
    return False, "Use floor((n - f) / s) + 1 with n=32, f=5, s=2."


def _vertical_edge(answer: object) -> bool | tuple[bool, str]:
    import tensorflow as tf

    kernel = np.asarray(answer, dtype=np.float32)
    if kernel.shape != (3, 3, 1, 1):
        return False, f"The kernel must have shape (3, 3, 1, 1); yours is {kernel.shape}."
    image = np.zeros((1, 9, 9, 1), np.float32)
    image[:, :, :4, :] = 1.0  # bright left, dark right: one vertical edge
    out = tf.nn.conv2d(image, kernel, strides=1, padding="VALID")[0, :, :, 0].numpy()
    edge = out[:, 1:3].mean()  # windows that straddle the edge
    flat = np.abs(np.concatenate([out[:, :1], out[:, 4:]], axis=1)).max()  # uniform regions
    if edge <= 0:
        return False, "Bright-left/dark-right should give a positive response: flip the signs?"
    if flat > 0.25 * edge:
        return False, "Uniform regions respond too: make the kernel's weights sum to zero."
    rotated = tf.nn.conv2d(np.transpose(image, (0, 2, 1, 3)), kernel, 1, "VALID").numpy()
    if np.abs(rotated).max() > 0.5 * edge:
        return False, "It also fires on horizontal edges: keep each row of the kernel the same."
    return True


ex1 = Exercise(
    "ex1",
    "Parameters of Conv2D(64, kernel_size=5) on RGB input?",
    _conv_params,
    hint="(kernel height x kernel width x input channels + 1 bias) x number of filters.",
    solution="answer = (5 * 5 * 3 + 1) * 64  # 4864",
)

ex2 = Exercise(
    "ex2",
    "Output height for a 32x32 input, 5x5 kernel, stride 2, valid padding?",
    _output_height,
    hint="valid padding: floor((n - f) / s) + 1.",
    solution="answer = (32 - 5) // 2 + 1  # 14",
)

ex3 = Exercise(
    "ex3",
    "A 3x3x1x1 kernel that responds positively to bright-left/dark-right vertical edges.",
    _vertical_edge,
    hint="Positive weights in the left column, negative in the right, zeros in the middle.",
    solution=(
        "answer = np.array([[1, 0, -1],\n"
        "                   [2, 0, -2],\n"
        "                   [1, 0, -1]], dtype=np.float32).reshape(3, 3, 1, 1)  # a Sobel filter"
    ),
)
