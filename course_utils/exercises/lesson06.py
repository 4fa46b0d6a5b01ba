"""Exercises for lesson 06 (fine-tuning). Checkers compute the answer with Keras."""

from __future__ import annotations

from course_utils.exercises import Exercise


def _trainable_layers(answer: object) -> bool | tuple[bool, str]:
    from course_utils.transfer import mobilenet_v2_base, unfreeze_from

    base = mobilenet_v2_base(96, weights=None)
    expected = unfreeze_from(base, 120)
    total = len(base.layers[120:])
    if int(answer) == expected:
        return True
    if int(answer) == total:
        return False, "That counts every layer from 120 up; only layers with weights train."
    with_bn = unfreeze_from(base, 120, keep_batchnorm_frozen=False)
    if int(answer) == with_bn:
        return False, "The BatchNormalization layers stay frozen: leave them out."
    return False, "Count the layers from index 120 up that have weights and are not BatchNorm."


def _initial_epoch(answer: object) -> bool | tuple[bool, str]:
    initial, epochs = (int(v) for v in answer)
    if (initial, epochs) == (10, 15):
        return True
    if (initial, epochs) == (10, 5):
        return False, "epochs is the index to stop at, not how many more epochs to run."
    return False, "initial_epoch is where the first phase stopped; epochs is where to stop now."


def _learning_rate(answer: object) -> bool | tuple[bool, str]:
    rate = float(answer)
    if 1e-6 <= rate <= 1e-4:
        return True
    if rate > 1e-4:
        return False, "Too high: large steps wreck the pretrained features (remember lr=0.2)."
    return False, "So low that nothing would change in a few epochs."


ex1 = Exercise(
    "ex1",
    "You unfreeze MobileNetV2 from layer 120 and keep BatchNorm frozen, as in this lesson. "
    "How many of the base's layers now have weights that train?",
    _trainable_layers,
    hint="Build a base (weights=None is enough), unfreeze it, then count layers that are "
    "trainable and have weights.",
    solution="base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, "
    "weights=None)\nanswer = transfer.unfreeze_from(base, 120)  # or count by hand",
)

ex2 = Exercise(
    "ex2",
    "The frozen phase ran 10 epochs. You want 5 more epochs of fine-tuning whose curves "
    "continue the first ones. Give (initial_epoch, epochs) for model.fit.",
    _initial_epoch,
    hint="fit runs from initial_epoch up to (not including) epochs.",
    solution="answer = (10, 15)",
)

ex3 = Exercise(
    "ex3",
    "Pick an Adam learning rate for fine-tuning the unfrozen top of a pretrained base: "
    "0.2, 1e-2, 1e-3 or 1e-5?",
    _learning_rate,
    hint="The head was trained with 1e-3; the base only needs small corrections.",
    solution="answer = 1e-5",
)
