"""Lesson 03 exercises: predict shapes and counts, cost a layer, and tune batch norm.

Every checker computes its answer with Keras, so no expected value is typed in
by hand; exercises 1 and 2 are "predict, then run" (their cells come before the
cells that reveal the answer) and exercise 4 is "modify and observe"::

    >>> from course_utils.exercises.lesson03 import ex1
    >>> ex1.check((28, 28, 256))
    ✅ Correct! (ex1) 64 + 128 + 32 + 32 = 256 maps: the last layer of each branch.
    True
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from course_utils.exercises import Case, Exercise

#: GoogLeNet's module 3a: f1, f3_reduce, f3, f5_reduce, f5, pool_proj, on 28x28x192.
INCEPTION_3A = (64, 96, 128, 16, 32, 32)
#: Exercise 4 trains on this many training images and tests on this many test images.
EX4_TRAIN, EX4_TEST = 5000, 1000


def inception_output_shape() -> tuple[int, ...]:
    """Output shape (without the batch axis) of inception module 3a, computed by Keras.

    >>> inception_output_shape()
    (28, 28, 256)
    """
    from course_utils.architectures import InceptionModule

    module = InceptionModule(*INCEPTION_3A)
    return tuple(int(d) for d in module.compute_output_shape((None, 28, 28, 192))[1:])


def residual_unit_params(
    in_maps: int = 64, filters: int = 128, strides: int = 2
) -> tuple[int, int]:
    """``(trainable, non_trainable)`` parameters of a ResidualUnit, counted by Keras.

    >>> residual_unit_params(64, 128, 2)
    (230144, 768)
    """
    from course_utils.architectures import ResidualUnit, count_params

    unit = ResidualUnit(filters, strides=strides)
    unit(np.zeros((1, 8, 8, in_maps), dtype="float32"))
    counts = count_params(unit)
    return counts.trainable, counts.non_trainable


def conv_multiply_adds(size: int = 14, in_maps: int = 64, filters: int = 128) -> int:
    """Multiply-adds of a same-padded ``Conv2D(filters, 3)`` on ``size`` x ``size`` x ``in_maps``.

    Output positions (from Keras's shape) times the kernel's weights (from Keras's layer).

    >>> conv_multiply_adds()
    14450688
    """
    import keras

    layer = keras.layers.Conv2D(filters, 3, padding="same")
    layer.build((None, size, size, in_maps))
    out = layer.compute_output_shape((None, size, size, in_maps))
    return int(np.prod(out[1:-1])) * int(np.prod(layer.kernel.shape))


def _ints(answer: Any) -> tuple[int, ...]:
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        raise TypeError("give a tuple of integers")
    return tuple(int(a) for a in answer)


def _inception_check(answer: Any) -> tuple[bool, str]:
    expected = inception_output_shape()
    try:
        got = _ints(answer)
    except (TypeError, ValueError):
        return False, "Give a shape as a tuple, (height, width, depth)."
    if got == expected:
        return True, "64 + 128 + 32 + 32 = 256 maps: the last layer of each branch."
    if len(got) == 4:
        return False, "Leave out the batch axis: answer (height, width, depth)."
    if len(got) != 3:
        return False, "A shape here has three numbers: (height, width, depth)."
    if got[:2] != expected[:2]:
        return False, "Every branch has stride 1 and 'same' padding: height and width stay 28."
    if got[2] == 192:
        return False, "192 is the input's depth; the output's is the branches' depths together."
    if got[2] == sum(INCEPTION_3A):
        return False, (
            "The 1x1 'reduce' convolutions feed the 3x3 and 5x5 ones; only the last layer of "
            "each branch reaches the concatenation."
        )
    if got[2] in INCEPTION_3A:
        return False, "That is one branch: the four branches are concatenated along the depth."
    return False, "Add up the depths that leave the four branches."


def _residual_check(answer: Any) -> tuple[bool, str]:
    expected = residual_unit_params(64, 128, 2)
    if isinstance(answer, (int, float, np.integer)):
        return False, "Give two numbers, (trainable, non_trainable), not their total."
    try:
        got = _ints(answer)
    except (TypeError, ValueError):
        return False, "Give two integers, (trainable, non_trainable)."
    if len(got) != 2:
        return False, "Give two numbers, (trainable, non_trainable)."
    if got == expected:
        return True, "Together 230,912: check it in the ResNet-34 table below."
    if got[0] == expected[0] + 3 * 128:
        return False, "The convolutions have use_bias=False: batch norm's beta replaces the bias."
    if got[0] == expected[0] - 64 * 128 - 2 * 128:
        return False, "Don't forget the skip path: stride 2 adds a 1x1 conv + batch norm."
    if got[0] == expected[0] and got[1] != expected[1]:
        return False, "Trainable is right; count 2 statistics per channel in each of the 3 BNs."
    if got[0] == expected[0] - 9 * 64 * 128 + 9 * 128 * 128:
        return False, "The first 3x3 conv sees the unit's 64 input maps, not 128."
    return False, "Count each conv's kernel weights, then 4 numbers per channel in each BN."


def _cost_check(answer: Any) -> tuple[bool, str]:
    expected = conv_multiply_adds(14, 64, 128)
    got = int(answer)
    kernel = 3 * 3 * 64 * 128
    if got == expected:
        return True, "14 x 14 positions x 3 x 3 x 64 x 128 weights."
    if got == kernel:
        return False, "That is one position: the kernel slides over all 14 x 14 output pixels."
    if got == 28 * 28 * kernel:
        return False, "After the first 2x2 pooling the maps are 14x14, not 28x28."
    if got == 14 * 14 * (kernel + 128):
        return False, "Adding the biases is not a multiply-add: count only the kernel's weights."
    if got == 14 * 14 * 3 * 3 * 128:
        return False, "Each output value sums over all 64 input maps."
    return False, "Output positions x (kernel height x width x input maps x filters)."


def _conv_layers(model: Any) -> list[Any]:
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


@cache
def _ex4_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from course_utils.datasets import load_keras_dataset

    (x_train, y_train), (x_test, y_test) = load_keras_dataset("fashion_mnist")
    prepare = lambda images: images.astype("float32")[..., None] / 255.0  # noqa: E731
    return (
        prepare(x_train[:EX4_TRAIN]), y_train[:EX4_TRAIN],
        prepare(x_test[:EX4_TEST]), y_test[:EX4_TEST],
    )  # fmt: skip


def _modify_check(answer: Any) -> tuple[bool, str]:
    import keras

    if isinstance(answer, tuple):
        return False, "Hand in one trained model, the compact CNN with your batch norm momentum."
    if not isinstance(answer, keras.Model):
        return False, "Hand in the trained Keras model itself."
    if tuple(answer.input_shape[1:]) != (28, 28, 1) or answer.output_shape[-1] != 10:
        return False, "The model should take 28x28x1 images and give 10 class probabilities."
    norms = [layer for layer in answer.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if len(norms) != 3:
        return False, (
            f"Keep the compact CNN's 3 BatchNormalization layers (yours has {len(norms)}): "
            "the exercise changes how they average, not whether they are there."
        )
    convs = [layer.filters for layer in _conv_layers(answer)]
    if convs != [32, 64, 128]:
        return False, f"Keep the convolutions of 32, 64 and 128 filters (yours: {convs})."
    momentum = max(float(layer.momentum) for layer in norms)
    if momentum > 0.95:
        return False, (
            f"momentum is {momentum:g}: each batch moves the moving averages only "
            f"{1 - momentum:.0%} of the way, so after one short epoch they still remember the "
            "first batches' statistics. Choose a smaller momentum."
        )
    _, _, x_test, y_test = _ex4_data()

    def accuracy(training: bool) -> float:
        proba = keras.ops.convert_to_numpy(answer(x_test, training=training))
        return float((proba.argmax(axis=1) == y_test).mean())

    inference, batch_stats = accuracy(False), accuracy(True)
    if inference < 0.6:
        return False, (
            f"With momentum {momentum:g} the model gets {inference:.0%} on x_test[:{EX4_TEST}] "
            f"in inference mode (batch statistics: {batch_stats:.0%}): did you train it for "
            "one epoch?"
        )
    half = 1.96 * np.sqrt(0.25 / EX4_TEST)  # the widest 95% interval at this test size
    return True, (
        f"momentum {momentum:g}: {inference:.1%} with the moving averages (training=False), "
        f"{batch_stats:.1%} with the test batch's own statistics (each ±{half:.0%} on "
        f"{EX4_TEST:,} images): the moving averages have caught up."
    )


def _compact_with_momentum(momentum: float) -> Any:
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input(shape=(28, 28, 1))], name="compact_cnn")
    for filters in (32, 64, 128):
        model.add(layers.Conv2D(filters, 3, padding="same", use_bias=False))
        model.add(layers.BatchNormalization(momentum=momentum))
        model.add(layers.Activation("relu"))
        model.add(layers.MaxPooling2D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dropout(0.4))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def train_one_epoch(model: Any, learning_rate: float = 3e-3, batch_size: int = 32) -> Any:
    """Compile ``model`` as lesson 03 does and train it one epoch on exercise 4's images."""
    import keras

    x_train, y_train, _, _ = _ex4_data()
    steps = -(-len(x_train) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, steps, warmup_target=learning_rate, warmup_steps=steps // 10
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=1, batch_size=batch_size, verbose=0)
    return model


@cache
def _trained(momentum: float) -> Any:
    import keras

    keras.utils.set_random_seed(0)
    return train_one_epoch(_compact_with_momentum(momentum))


ex1 = Exercise(
    "ex1",
    "Predict the output shape (height, width, depth) of inception module 3a on a 28x28x192 input.",
    _inception_check,
    hint="Which layers' outputs reach the concatenation? And what do stride 1 and 'same' do?",
    solution="answer = (28, 28, 64 + 128 + 32 + 32)  # the last layer of each branch",
    kind="predict",
)

ex2 = Exercise(
    "ex2",
    "A ResidualUnit(128, strides=2) receives 64 feature maps. Predict its (trainable, "
    "non-trainable) parameters.",
    _residual_check,
    hint="Three convolutions without bias (two 3x3 on the main path, a 1x1 on the skip "
    "path) and three batch norms: which of each batch norm's numbers are learnt?",
    solution=(
        "trainable = 3*3*64*128 + 3*3*128*128 + 1*1*64*128 + 3 * 2 * 128  # convs + gamma/beta\n"
        "non_trainable = 3 * 2 * 128  # moving mean and variance\n"
        "answer = (trainable, non_trainable)  # (230,144, 768)"
    ),
    kind="predict",
)

ex3 = Exercise(
    "ex3",
    "How many multiply-adds does Conv2D(128, 3, padding='same') compute for one image "
    "whose 64 input maps are 14x14?",
    _cost_check,
    hint="At one output pixel, one filter does a multiply-add per kernel weight it has; "
    "how many filters and how many output pixels are there?",
    solution="answer = 14 * 14 * (3 * 3 * 64 * 128)  # = 14,450,688",
)

ex4 = Exercise(
    "ex4",
    "Rebuild the compact CNN with a BatchNormalization momentum that lets the moving "
    f"averages catch up within one epoch on x_train[:{EX4_TRAIN}], train it for that epoch "
    "and hand in the trained model.",
    _modify_check,
    hint="Each training batch moves a moving average by (1 - momentum) of the way to that "
    "batch's statistic. How many batches does one epoch have, and how small must momentum "
    "be for the first batches to be forgotten by the end?",
    solution=(
        "from course_utils.exercises.lesson03 import train_one_epoch\n"
        "model = keras.Sequential([keras.Input(shape=(28, 28, 1))])\n"
        "for filters in (32, 64, 128):\n"
        '    model.add(layers.Conv2D(filters, 3, padding="same", use_bias=False))\n'
        "    model.add(layers.BatchNormalization(momentum=0.9))  # 0.9**157: nothing left\n"
        '    model.add(layers.Activation("relu"))\n'
        "    model.add(layers.MaxPooling2D(2))\n"
        "model.add(layers.Flatten())\n"
        'model.add(layers.Dense(128, activation="relu"))\n'
        "model.add(layers.Dropout(0.4))\n"
        'model.add(layers.Dense(10, activation="softmax"))\n'
        "answer = train_one_epoch(model)"
    ),
    kind="modify",
)


def _without_bn() -> Any:
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input(shape=(28, 28, 1))])
    for filters in (32, 64, 128):
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(10, activation="softmax"))
    return model


CASES = [
    Case("ex1", (28, 28, 256), correct=True, says="256"),
    Case("ex1", [28, 28, 256], correct=True),
    Case("ex1", (28, 28, 192), says="input's depth"),
    Case("ex1", (28, 28, 368), says="reduce"),
    Case("ex1", (28, 28, 128), says="one branch"),
    Case("ex1", (1, 28, 28, 256), says="batch axis"),
    Case("ex1", (14, 14, 256), says="stride 1"),
    Case("ex2", (230_144, 768), correct=True, says="230,912"),
    Case("ex2", (230_144, 512), says="2 statistics"),
    Case("ex2", (230_144 - 8_192 - 256, 768), says="skip path"),
    Case("ex2", (230_144 + 384, 768), says="use_bias=False"),
    Case("ex2", 230_912, says="not their total"),
    Case("ex3", 14_450_688, correct=True),
    Case("ex3", 73_728, says="one position"),
    Case("ex3", 57_802_752, says="14x14"),
    Case("ex3", 14_475_776, says="biases"),
    Case("ex3", 225_792, says="all 64 input maps"),
    Case("ex4", build=lambda: _trained(0.9), correct=True, says="caught up"),
    Case("ex4", build=lambda: _trained(0.99), says="momentum is 0.99"),
    Case("ex4", build=lambda: _compact_with_momentum(0.9), says="did you train it"),
    Case("ex4", build=_without_bn, says="Keep the compact CNN's 3 BatchNormalization"),
    Case("ex4", build=lambda: (_trained(0.9), 0.8), says="one trained model"),
]

__all__ = [
    "CASES",
    "ex1",
    "ex2",
    "ex3",
    "ex4",
    "conv_multiply_adds",
    "inception_output_shape",
    "residual_unit_params",
    "train_one_epoch",
]
