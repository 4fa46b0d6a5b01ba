"""Exercises for lesson 06 (fine-tuning). Checkers compute the answer with Keras."""

from __future__ import annotations

from typing import Any

from course_utils.exercises import Case, Exercise

#: The block the lesson unfreezes from, and the one exercise 3 asks for.
LESSON_BLOCK, FEWER_BLOCKS = "block_12_expand", "block_15_expand"


def _tiny_base(image_size: int = 32) -> Any:
    import keras

    return keras.applications.MobileNetV2(
        input_shape=(image_size, image_size, 3),
        include_top=False,
        weights=None,
        name="mobilenet_v2",
    )


def _trainable_layers(answer: object) -> bool | tuple[bool, str]:
    from course_utils.transfer import unfreeze_from

    base = _tiny_base()
    expected = unfreeze_from(base, LESSON_BLOCK)
    start = [layer.name for layer in base.layers].index(LESSON_BLOCK)
    with_bn = unfreeze_from(base, LESSON_BLOCK, keep_batchnorm_frozen=False)
    given = int(answer)
    if given == expected:
        return True, "Blocks 12 to 16 have 3 convolutions each, plus the final Conv_1."
    if given == len(base.layers) - start:
        return False, (
            "That counts every layer from block_12_expand up; only layers with weights train."
        )
    if given == with_bn:
        return False, "The BatchNormalization layers stay frozen: leave them out."
    if given == expected - 1:
        return False, "Close: did you forget Conv_1, the 1x1 convolution after block 16?"
    return False, "Count, per block, the convolutions (expand, depthwise, project), then the top."


def _initial_epoch(answer: object) -> bool | tuple[bool, str]:
    initial, epochs = (int(v) for v in answer)  # type: ignore[union-attr]
    if (initial, epochs) == (8, 12):
        return True
    if (initial, epochs) == (8, 4):
        return False, "epochs is the index to stop at, not how many more epochs to run."
    if (initial, epochs) == (9, 13):
        return False, "Epochs count from 0: after 8 epochs (0 to 7) the next one is epoch 8."
    return False, "initial_epoch is where the first phase stopped; epochs is where to stop now."


def _fewer_blocks(answer: object) -> bool | tuple[bool, str]:
    import keras

    if not isinstance(answer, tuple | list) or len(answer) != 2:
        return False, "Hand in a pair: (model, val_accuracy)."
    model, accuracy = answer
    if not isinstance(model, keras.Model):
        return False, "The first item must be the Keras model you fine-tuned."
    bases = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    base = next((b for b in bases if any(lay.name == FEWER_BLOCKS for lay in b.layers)), None)
    if base is None:
        return False, "Hand in the whole model, with the MobileNetV2 base inside it."
    with_weights = [layer for layer in base.layers if layer.weights]
    training = [layer for layer in with_weights if layer.trainable]
    if not training:
        return False, f"Nothing in the base trains: unfreeze it from {FEWER_BLOCKS}."
    if any(isinstance(layer, keras.layers.BatchNormalization) for layer in training):
        return False, "BatchNormalization layers are training: keep them frozen, as in the lesson."
    first = training[0].name
    if first != FEWER_BLOCKS:
        if first.startswith("block_15_"):
            return False, (
                f"Your first trainable layer, {first}, splits block 15: start at its expand "
                "layer so the whole block trains."
            )
        return False, f"You unfroze from {first}; the exercise asks for {FEWER_BLOCKS}."
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or int(optimizer.iterations.numpy()) == 0:
        return False, "The model has not trained yet: recompile it, then fit for one epoch."
    value = float(accuracy)
    if not 0.0 <= value <= 1.0:
        return False, "Give the validation accuracy as a fraction between 0 and 1, not a percent."
    params = sum(int(w.numpy().size) for w in model.trainable_weights)
    return True, (
        f"{len(training)} layers and {params:,} parameters train. Compare your validation "
        f"accuracy ({value:.3f}) and the time per epoch with the run from {LESSON_BLOCK}."
    )


ex1 = Exercise(
    "ex1",
    "Predict before the next cells run: you unfreeze MobileNetV2 from block_12_expand and "
    "keep BatchNorm frozen, as this lesson does. How many of the base's layers have weights "
    "that train?",
    _trainable_layers,
    hint="Look at the list of block 12's layers above: which of them have weights, and which "
    "of those are BatchNorm? Then count the blocks from 12 to the top, and what follows them.",
    solution="answer = 5 * 3 + 1  # expand, depthwise, project in blocks 12-16, then Conv_1",
    kind="predict",
)

ex2 = Exercise(
    "ex2",
    "A frozen phase ran 8 epochs. You want 4 more epochs of fine-tuning whose curves continue "
    "the first ones. Give (initial_epoch, epochs) for model.fit.",
    _initial_epoch,
    hint="fit runs from initial_epoch up to (not including) epochs, counting from 0.",
    solution="answer = (8, 12)",
)

ex3 = Exercise(
    "ex3",
    "Unfreeze fewer blocks: load a fresh copy of the start model, unfreeze its base from "
    "block_15_expand (BatchNorm frozen), recompile with the lesson's learning rate, fine-tune "
    "for one epoch and measure the validation accuracy. Hand in (model, val_accuracy) and "
    "compare the trainable parameters, the epoch time and the accuracy with the lesson's run.",
    _fewer_blocks,
    hint="The same three steps as section 3, with another layer name; transfer.unfreeze_from "
    "takes a name. evaluate(..., return_dict=True) gives the accuracy.",
    solution=(
        "fewer = keras.models.load_model(start_path, safe_mode=True, compile=False)\n"
        'transfer.unfreeze_from(fewer.get_layer("mobilenet_v2"), "block_15_expand")\n'
        "fewer.compile(optimizer=keras.optimizers.Adam(learning_rate=LESSON['learning_rate']),\n"
        "              loss=keras.losses.SparseCategoricalCrossentropy(), metrics=['accuracy'])\n"
        "fewer.fit(splits.train, validation_data=splits.val, epochs=1)\n"
        "answer = (fewer, fewer.evaluate(splits.val, return_dict=True)['accuracy'])"
    ),
    kind="modify",
)


def _built(start: str | None, *, train: bool = True, batchnorm_frozen: bool = True) -> Any:
    """A tiny stand-in for the student's model, unfrozen from ``start`` (tests only)."""
    import numpy as np

    from course_utils.transfer import build_frozen_model, gap_head, unfreeze_from

    base = _tiny_base()
    model = build_frozen_model(base, gap_head(base.output.shape[1:], 5))
    if start is not None:
        unfreeze_from(base, start, keep_batchnorm_frozen=batchnorm_frozen)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    if train:
        model.train_on_batch(np.zeros((2, 32, 32, 3), "float32"), np.array([0, 1]))
    return model


CASES = [
    Case("ex1", 16, correct=True),
    Case("ex1", 47, says="only layers with weights"),
    Case("ex1", 32, says="BatchNormalization layers stay frozen"),
    Case("ex1", 15, says="Conv_1"),
    Case("ex2", (8, 12), correct=True),
    Case("ex2", (8, 4), says="index to stop at"),
    Case("ex2", (9, 13), says="count from 0"),
    Case("ex3", build=lambda: (_built(FEWER_BLOCKS), 0.9), correct=True, says="layers and"),
    Case("ex3", build=lambda: (_built("block_15_depthwise"), 0.9), says="splits block 15"),
    Case("ex3", build=lambda: (_built(LESSON_BLOCK), 0.9), says="asks for block_15_expand"),
    Case("ex3", build=lambda: (_built(FEWER_BLOCKS, train=False), 0.9), says="not trained yet"),
    Case(
        "ex3",
        build=lambda: (_built(FEWER_BLOCKS, batchnorm_frozen=False), 0.9),
        says="BatchNormalization layers are training",
    ),
    Case("ex3", build=lambda: (_built(FEWER_BLOCKS), 90.0), says="not a percent"),
    Case("ex3", build=lambda: (_built(None), 0.9), says="Nothing in the base trains"),
    Case("ex3", 0.9, says="Hand in a pair"),
    Case("ex3", build=lambda: (_tiny_base(), 0.9), says="whole model"),
]
