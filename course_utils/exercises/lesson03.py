"""Lesson 03 exercises: counting parameters and following shapes through a CNN.

Every checker builds the layers in Keras and compares your number with Keras's
own count, so the expected answers are never typed in by hand::

    >>> from course_utils.exercises.lesson03 import ex1
    >>> ex1.check(73856)
    ✅ Correct! (conv_params) 3*3*64*128 weights + 128 biases.
    True
"""

from __future__ import annotations

from typing import Any

from course_utils.exercises import Exercise


def conv_params(kernel: int, in_maps: int, filters: int, use_bias: bool = True) -> int:
    """Parameters of a ``Conv2D(filters, kernel)`` over ``in_maps`` input maps, counted by Keras.

    >>> conv_params(3, 64, 128)
    73856
    """
    import keras

    layer = keras.layers.Conv2D(filters, kernel, use_bias=use_bias)
    layer.build((None, None, None, in_maps))
    return int(layer.count_params())


def stack_output_shape() -> tuple[int, ...]:
    """Output shape (without the batch axis) of the stack in exercise 2, computed by Keras.

    >>> stack_output_shape()
    (7, 7, 32)
    """
    import keras

    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            keras.layers.Conv2D(16, 5),  # padding="valid" is the default
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(32, 3, strides=2, padding="same"),
        ]
    )
    return tuple(int(d) for d in model.output_shape[1:])


def se_block_params(channels: int = 256, ratio: int = 16) -> int:
    """Parameters of an SE block over ``channels`` maps, counted by Keras.

    >>> se_block_params(256, 16)
    8464
    """
    from course_utils.architectures import SEBlock

    block = SEBlock(ratio=ratio)
    block.build((None, 8, 8, channels))
    return int(block.count_params())


def residual_unit_params(
    in_maps: int = 64, filters: int = 128, strides: int = 2
) -> tuple[int, int]:
    """``(trainable, non_trainable)`` parameters of a ResidualUnit, counted by Keras.

    >>> residual_unit_params(64, 128, 2)
    (230144, 768)
    """
    import numpy as np

    from course_utils.architectures import ResidualUnit, count_params

    unit = ResidualUnit(filters, strides=strides)
    unit(np.zeros((1, 8, 8, in_maps), dtype="float32"))
    counts = count_params(unit)
    return counts.trainable, counts.non_trainable


def _conv_check(answer: Any) -> tuple[bool, str]:
    expected = conv_params(3, 64, 128)
    got = int(answer)
    if got == expected:
        return True, "3*3*64*128 weights + 128 biases."
    if got == 3 * 3 * 64 * 128:
        return False, "Close: each of the 128 filters also has a bias."
    if got == 3 * 3 * 128 + 128:
        return False, "Each filter looks at all 64 input maps, not just one."
    return False, "Weights: kernel height x width x input maps x filters; then add the biases."


def _shape_check(answer: Any) -> tuple[bool, str]:
    expected = stack_output_shape()
    got = tuple(int(d) for d in answer)
    if got == expected:
        return True, "32 -> 28 (valid 5x5) -> 14 (pool) -> 7 (stride 2, same)."
    if got[:2] == (8, 8):
        return False, "The first conv uses padding='valid': a 5x5 kernel trims 2 pixels per side."
    if len(got) == 4:
        return False, "Leave out the batch axis: answer (height, width, channels)."
    return False, "Follow one layer at a time: valid conv, then pooling, then a strided same conv."


def _se_check(answer: Any) -> tuple[bool, str]:
    expected = se_block_params(256, 16)
    got = int(answer)
    if got == expected:
        return True, "256*16 + 16 for the squeeze layer, 16*256 + 256 for the excitation layer."
    if got == 2 * 256 * 16:
        return False, "Almost: both Dense layers have biases too."
    return False, "Two Dense layers: 256 -> 16 units, then 16 -> 256 units (weights + biases)."


def _residual_check(answer: Any) -> tuple[bool, str]:
    expected = residual_unit_params(64, 128, 2)
    got = tuple(int(a) for a in answer)
    if got == expected:
        return True, "Together 230,912, as in the ResNet-34 summary."
    if got[0] == expected[0]:
        return False, "Trainable is right; count 2 statistics per channel in each of the 3 BNs."
    if got[0] == expected[0] - 64 * 128 - 2 * 128:
        return False, "Don't forget the skip path: stride 2 adds a 1x1 conv + batch norm."
    return False, (
        "Main path: 3x3 conv (64 -> 128) and 3x3 conv (128 -> 128), no biases; skip path: "
        "1x1 conv (64 -> 128). Each BN: 2 trainable (gamma, beta) + 2 non-trainable per channel."
    )


ex1 = Exercise(
    "conv_params",
    "How many parameters does Conv2D(128, 3) have when its input has 64 feature maps?",
    _conv_check,
    hint="A filter is 3 x 3 x (input maps) weights plus one bias; there are 128 filters.",
    solution="answer = 3 * 3 * 64 * 128 + 128  # = 73,856",
)

ex2 = Exercise(
    "stack_shape",
    "Input 32x32x3 -> Conv2D(16, 5) -> MaxPooling2D(2) -> Conv2D(32, 3, strides=2, "
    'padding="same"). What is the output shape (height, width, channels)?',
    _shape_check,
    hint="'valid': output = input - kernel + 1; pooling halves; 'same' with stride s: ceil(n / s).",
    solution="answer = (7, 7, 32)  # 32 - 5 + 1 = 28 -> 14 -> ceil(14 / 2) = 7",
)

ex3 = Exercise(
    "se_block_params",
    "How many parameters does an SE block (ratio 16) have on 256 feature maps?",
    _se_check,
    hint="Pooling has no weights. Dense(16) on 256 inputs, then Dense(256) on 16 inputs.",
    solution="answer = (256 * 16 + 16) + (16 * 256 + 256)  # = 8,464",
)

ex4 = Exercise(
    "residual_unit_params",
    "A ResidualUnit(128, strides=2) receives 64 feature maps. How many (trainable, "
    "non-trainable) parameters does it have?",
    _residual_check,
    hint="Convs have use_bias=False. Three batch norms (two main, one skip), 128 channels each.",
    solution=(
        "trainable = 3*3*64*128 + 3*3*128*128 + 1*1*64*128 + 3 * 2 * 128  # convs + gamma/beta\n"
        "non_trainable = 3 * 2 * 128  # moving mean and variance\n"
        "answer = (trainable, non_trainable)  # (230,144, 768)"
    ),
)

__all__ = [
    "ex1",
    "ex2",
    "ex3",
    "ex4",
    "conv_params",
    "stack_output_shape",
    "se_block_params",
    "residual_unit_params",
]
