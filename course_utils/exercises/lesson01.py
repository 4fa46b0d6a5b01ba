"""Exercises for lesson 01 (convolution and filters). Checkers compute the answer with Keras/TF.

``ex1`` is answered *before* the cell that reveals it (predict, then run);
``ex4`` asks the student to change the lesson's kernel-learning loop and hand
in what it learnt::

    >>> from course_utils.exercises import exercises_in
    >>> import sys
    >>> [ex.kind for ex in exercises_in(sys.modules[__name__])]
    ['predict', 'compute', 'code', 'modify']
"""

from __future__ import annotations

import numpy as np

from course_utils.exercises import Case, Exercise

#: The kernel exercise 4 asks the student to learn: bright above, dark below.
HORIZONTAL_EDGE = np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], np.float32)
#: The kernel the lesson itself learns (bright left, dark right).
VERTICAL_EDGE = HORIZONTAL_EDGE.T.copy()


def _conv_params(answer: object) -> bool | tuple[bool, str]:
    import keras

    layer = keras.layers.Conv2D(32, kernel_size=3)
    layer.build((None, None, None, 3))
    expected = layer.count_params()
    got = int(answer)
    if got == expected:
        return True, "Weights 3 x 3 x 3 per filter plus one bias, times 32 filters."
    if got == 3 * 3 * 3 * 32:
        return False, "Close: you counted the weights but forgot one bias per filter."
    if got == (3 * 3 + 1) * 32:
        return False, "Each filter spans all 3 input channels (R, G and B), not one."
    if got == 3 * 3 * 3 + 1:
        return False, "That is one filter: the layer has 32."
    if got > 10_000:
        return False, "A convolution's weights do not depend on the image size: count one window."
    return False, "Count one filter's weights (height x width x input channels), add its bias."


def _output_height(answer: object) -> bool | tuple[bool, str]:
    import keras

    layer = keras.layers.Conv2D(1, kernel_size=5, strides=2, padding="valid")
    expected = layer.compute_output_shape((1, 32, 32, 1))[1]
    got = int(answer)
    if got == expected:
        return True
    if got == 28:
        return False, "That is stride 1: with stride 2 the window jumps two pixels at a time."
    if got == 16:
        return False, "That is 'same' padding (ceil(32 / 2)); here the padding is 'valid'."
    if got == 13:
        return False, "Off by one: count the first window too (the + 1 in the formula)."
    return False, "With 'valid' padding every window must fit inside the 32 pixels."


def _as_kernel(answer: object) -> np.ndarray | str:
    kernel = np.asarray(answer, dtype=np.float32)
    if kernel.shape == (3, 3):
        return "Add the channel axes: .reshape(3, 3, 1, 1) ([f_h, f_w, in, out])."
    if kernel.shape != (3, 3, 1, 1):
        return f"The kernel must have shape (3, 3, 1, 1); yours is {kernel.shape}."
    return kernel


def _vertical_edge(answer: object) -> bool | tuple[bool, str]:
    import tensorflow as tf

    kernel = _as_kernel(answer)
    if isinstance(kernel, str):
        return False, kernel
    image = np.zeros((1, 9, 9, 1), np.float32)
    image[:, :, :4, :] = 1.0  # columns 0-3 bright, 4-8 dark: the edge lies between 3 and 4
    out = tf.nn.conv2d(image, kernel, strides=1, padding="VALID")[0, :, :, 0].numpy()
    # Output column j sees input columns j..j+2: j = 2 and 3 straddle the edge, 0-1 and 4-6 do not.
    edge = out[:, 2:4].max()
    flat = np.abs(out[:, [0, 1, 4, 5, 6]]).max()
    if edge <= 0:
        if out[:, 2:4].min() < 0:
            return False, "It responds negatively to bright-left/dark-right: flip the signs."
        return False, "No response on the edge: give the left and right columns weights."
    if flat > 0.25 * edge:
        return False, "Uniform regions respond too: make the kernel's weights sum to zero."
    rotated = tf.nn.conv2d(np.transpose(image, (0, 2, 1, 3)), kernel, 1, "VALID").numpy()
    if np.abs(rotated).max() > 0.5 * edge:
        return False, "It also fires on horizontal edges: keep each row of the kernel the same."
    return True


def _learnt_horizontal(answer: object) -> bool | tuple[bool, str]:
    kernel = _as_kernel(answer)
    if isinstance(kernel, str):
        return False, kernel
    k = kernel[:, :, 0, 0]
    error = float(np.abs(k - HORIZONTAL_EDGE).max())
    if error <= 0.1:
        return True, f"Learnt to within {error:.3f} of the true kernel."
    if np.abs(k - VERTICAL_EDGE).max() <= 0.1:
        return False, "That is the lesson's vertical-edge kernel: change the target, then retrain."
    if np.abs(k + HORIZONTAL_EDGE).max() <= 0.1:
        return False, "Upside down: the target should be bright above, dark below."
    if np.abs(k - HORIZONTAL_EDGE).max() <= 0.3:
        return False, (
            f"Close (largest error {error:.2f}, allowed 0.1): train for more steps, "
            "or check the learning rate."
        )
    return False, "Not the horizontal-edge kernel yet: did the loss fall close to zero?"


ex1 = Exercise(
    "ex1",
    "Predict, then run: how many parameters does Conv2D(32, kernel_size=3) have on RGB photos?",
    _conv_params,
    hint="A filter covers a 3x3 window of every input channel; each filter also has a bias.",
    solution="answer = (3 * 3 * 3 + 1) * 32  # 896",
    kind="predict",
)

ex2 = Exercise(
    "ex2",
    "Output height for a 32x32 input, 5x5 kernel, stride 2, valid padding?",
    _output_height,
    hint="Count how many window positions fit: the first starts at 0, each next one 2 further.",
    solution="answer = (32 - 5) // 2 + 1  # 14",
)

ex3 = Exercise(
    "ex3",
    "A 3x3x1x1 kernel that responds positively to bright-left/dark-right vertical edges.",
    _vertical_edge,
    hint="The response is a weighted sum: which pixels should count for, which against?",
    solution=(
        "answer = np.array([[1, 0, -1],\n"
        "                   [2, 0, -2],\n"
        "                   [1, 0, -1]], dtype=np.float32).reshape(3, 3, 1, 1)  # a Sobel filter"
    ),
    kind="code",
)

ex4 = Exercise(
    "ex4",
    "Change the learning loop's target to a horizontal-edge map and hand in the learnt kernel.",
    _learnt_horizontal,
    hint="Only the target changes: make it with a kernel that is bright above and dark below.",
    solution=(
        "target = tf.nn.conv2d(grey, HORIZONTAL_EDGE.reshape(3, 3, 1, 1), 1, 'VALID')\n"
        "learnt, losses = learn_kernel(grey, target)  # the lesson's loop, unchanged\n"
        "answer = learnt"
    ),
    kind="modify",
)


def _learn(target_kernel: np.ndarray) -> np.ndarray:
    """What a student's run of the lesson's loop returns (for the tests)."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    grey = rng.random((1, 48, 48, 1)).astype(np.float32)
    target = tf.nn.conv2d(grey, target_kernel.reshape(3, 3, 1, 1), 1, "VALID")
    keras.utils.set_random_seed(0)
    layer = keras.layers.Conv2D(1, 3, use_bias=False)
    layer.build((None, None, None, 1))
    optimizer = keras.optimizers.Adam(learning_rate=0.05)
    for _ in range(300):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((layer(grey) - target) ** 2)
        grads = tape.gradient(loss, layer.trainable_variables)
        optimizer.apply_gradients(zip(grads, layer.trainable_variables, strict=True))
    return layer.kernel.numpy()


def _k(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, np.float32).reshape(3, 3, 1, 1)


CASES = [
    Case("ex1", 896, correct=True),
    Case("ex1", 864, says="bias"),
    Case("ex1", 320, says="all 3 input channels"),
    Case("ex1", 28, says="one filter"),
    Case("ex1", 8_746_496, says="image size"),
    Case("ex2", 14, correct=True),
    Case("ex2", 28, says="stride 1"),
    Case("ex2", 16, says="'same'"),
    Case("ex2", 13, says="Off by one"),
    Case("ex3", _k([[1, 0, -1], [2, 0, -2], [1, 0, -1]]), correct=True),
    Case("ex3", _k([[1, -1, 0]] * 3), correct=True),  # a valid kernel the old checker refused
    Case("ex3", _k([[0, 1, -1]] * 3), correct=True),
    Case("ex3", _k([[-1, 0, 1]] * 3), says="flip the signs"),
    Case("ex3", _k([[1, 0, 0]] * 3), says="sum to zero"),
    Case("ex3", _k([[1, 1, 0], [1, 0, -1], [0, -1, -1]]), says="horizontal edges"),  # diagonal
    Case("ex3", np.array([[1, 0, -1]] * 3), says="reshape(3, 3, 1, 1)"),
    Case("ex4", build=lambda: _learn(HORIZONTAL_EDGE), correct=True),
    Case("ex4", build=lambda: _learn(VERTICAL_EDGE), says="vertical-edge kernel"),
    Case("ex4", -HORIZONTAL_EDGE.reshape(3, 3, 1, 1), says="Upside down"),
    Case("ex4", (HORIZONTAL_EDGE * 0.8).reshape(3, 3, 1, 1), says="allowed 0.1"),
]
