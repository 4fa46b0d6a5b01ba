"""Exercises for lesson 05 (transfer learning with a frozen base).

Checkers compute the answer with the course's own head builders or with OpenCV.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_utils.exercises import Case, Exercise


def _gap_head_params(answer: object) -> bool | tuple[bool, str]:
    from course_utils.transfer import gap_head

    expected = gap_head((5, 5, 1280), 5, dropout=0.0).count_params()
    if int(answer) == expected:
        return True
    if int(answer) == 1280 * 5:
        return False, "You counted the weights; each of the five output units also has a bias."
    if int(answer) == 5 * 5 * 1280 * 5 + 5:
        return False, "Global average pooling leaves 1,280 numbers, not 5 x 5 x 1,280."
    if int(answer) == 1281:
        return False, "1,281 is the two-class head (one sigmoid unit); this one has five outputs."
    return False, "Pooling leaves one number per channel; then weights + biases of Dense(5)."


def _flatten_head_params(answer: object) -> bool | tuple[bool, str]:
    from course_utils.transfer import flatten_head

    expected = flatten_head((6, 6, 1280), 2, units=128).count_params()
    if int(answer) == expected:
        return True
    if int(answer) == 6 * 6 * 1280 * 128 + 128:
        return False, "That is the hidden layer; add the output unit's 128 weights and 1 bias."
    if int(answer) == flatten_head((5, 5, 1280), 2, units=128).count_params():
        return False, "That is the head on a 5x5 grid (160x160 images); 192x192 gives 6x6."
    return False, "Flatten gives 6 x 6 x 1,280 inputs for Dense(128); then Dense(1) on 128."


def _to_rgb(answer: object) -> bool | tuple[bool, str]:
    import cv2

    if not callable(answer):
        return False, "Answer with a function, e.g. def to_rgb(img): ..."
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    got = np.asarray(answer(bgr.copy()))
    if got.shape != bgr.shape:
        return False, f"The shape changed from {bgr.shape} to {got.shape}."
    if np.array_equal(got, bgr):
        return False, "The channels are still in BGR order."
    if not np.array_equal(got, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)):
        return False, "Not RGB yet: only the first and the last channel swap places."
    return True


ex1 = Exercise(
    "ex1",
    "The five flower classes get a GlobalAveragePooling2D + Dense(5) head on MobileNetV2's "
    "5x5x1280 output. How many trainable parameters does the head have?",
    _gap_head_params,
    hint="Pooling has no weights and leaves 1,280 numbers per image.",
    solution="answer = 1280 * 5 + 5  # 6,405: a weight per channel and class, a bias per class",
)

ex2 = Exercise(
    "ex2",
    "The course notes 'Convolutional Neural Networks (Part II)' flatten MobileNetV2's 6x6x1280 "
    "output (192x192 images) into Dense(128) and then Dense(1). How many trainable parameters "
    "does that head have?",
    _flatten_head_params,
    hint="Flatten turns 6 x 6 x 1,280 into one long vector; count weights and biases of both "
    "Dense layers.",
    solution="answer = 6 * 6 * 1280 * 128 + 128 + 128 + 1  # 5,898,497, about 4,600x the GAP head",
)

ex3 = Exercise(
    "ex3",
    "cv2.imread gives channels in BGR order. Write a function to_rgb(img) that returns the "
    "image in RGB order (shape unchanged).",
    _to_rgb,
    hint="Either reverse the last axis with NumPy slicing or use cv2.cvtColor.",
    solution="def to_rgb(img):\n    return img[..., ::-1]  # or cv2.cvtColor(img, "
    "cv2.COLOR_BGR2RGB)\n\nanswer = to_rgb",
)


def _max_pool_head(answer: object) -> bool | tuple[bool, str]:
    import keras

    if not isinstance(answer, tuple | list) or len(answer) != 2:
        return False, "Hand in a pair: (head, val_accuracy)."
    head, accuracy = answer
    if not isinstance(head, keras.Model):
        return False, "The first item must be the Keras head you built and trained."
    kinds = [type(layer).__name__ for layer in head.layers]
    if "GlobalMaxPooling2D" not in kinds:
        if "GlobalAveragePooling2D" in kinds:
            return False, "Still average pooling: swap in keras.layers.GlobalMaxPooling2D()."
        return False, "No GlobalMaxPooling2D layer in your head."
    if len(head.input_shape) != 4:
        return False, (
            f"Your head takes inputs of shape {head.input_shape}: it must take the feature maps "
            "(height, width, 1280), which is what there is to pool."
        )
    last = head.layers[-1]
    if getattr(last, "units", None) != 1 or last.activation.__name__ != "sigmoid":
        return False, "Two classes need one sigmoid unit (Dense(1, activation='sigmoid'))."
    optimizer = getattr(head, "optimizer", None)
    if optimizer is None or int(optimizer.iterations.numpy()) == 0:
        return False, "The head has not trained yet: compile it, then fit it on the features."
    value = float(accuracy)
    if not 0.0 <= value <= 1.0:
        return False, "Give the validation accuracy as a fraction between 0 and 1, not a percent."
    return True, (
        f"Validation accuracy {value:.3f} with max pooling: compare it with the GAP head's. Max "
        "keeps each channel's strongest response anywhere in the grid, average its mean."
    )


ex4 = Exercise(
    "ex4",
    "Replace the GAP head's global average pooling with global max pooling, train the new head "
    "on the cached cats/dogs feature maps like the GAP head, and hand in (head, val_accuracy).",
    _max_pool_head,
    hint="Build a keras.Sequential that starts from keras.Input(train_features.shape[1:]); the "
    "pooling layer you need sits next to GlobalAveragePooling2D in keras.layers.",
    solution=(
        "head4 = keras.Sequential([keras.Input(train_features.shape[1:]),\n"
        "    keras.layers.GlobalMaxPooling2D(), keras.layers.Dropout(0.2),\n"
        "    keras.layers.Dense(1, activation='sigmoid')])\n"
        "head4.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),\n"
        "              loss=keras.losses.BinaryCrossentropy(), metrics=['accuracy'])\n"
        "h4 = head4.fit(train_features, train_labels, validation_data=(val_features, val_labels),\n"
        "               epochs=LESSON['head_epochs'], batch_size=BATCH, verbose=0)\n"
        "answer = (head4, h4.history['val_accuracy'][-1])"
    ),
    kind="modify",
)


def _head(
    pool: str = "max", *, flat_input: bool = False, units: int = 1, train: bool = True
) -> Any:
    """A small stand-in for the student's head on 3x3x8 feature maps (tests only)."""
    import keras

    pooling = {"max": keras.layers.GlobalMaxPooling2D, "avg": keras.layers.GlobalAveragePooling2D}
    shape = (8,) if flat_input else (3, 3, 8)
    front = [keras.layers.Reshape((1, 1, 8))] if flat_input else []  # pooled already: no grid
    activation = "sigmoid" if units == 1 else "softmax"
    head = keras.Sequential(
        [keras.Input(shape), *front, pooling[pool](), keras.layers.Dense(units, activation)]
    )
    head.compile(optimizer="adam", loss="binary_crossentropy" if units == 1 else "mse")
    if train:
        x = np.zeros((4, *shape), "float32")
        y = np.array([0, 1, 0, 1]) if units == 1 else np.zeros((4, units))
        head.train_on_batch(x, y)
    return head


CASES = [
    Case("ex1", 6405, correct=True),
    Case("ex1", 6400, says="bias"),
    Case("ex1", 160_005, says="not 5 x 5 x 1,280"),
    Case("ex1", 1281, says="two-class head"),
    Case("ex2", 5_898_497, correct=True),
    Case("ex2", 5_898_368, says="add the output unit"),
    Case("ex2", 4_096_257, says="5x5 grid"),
    Case("ex3", lambda img: img[..., ::-1], correct=True),
    Case("ex3", lambda img: img, says="still in BGR order"),
    Case("ex3", lambda img: img[..., [1, 0, 2]], says="only the first and the last channel"),
    Case("ex3", lambda img: img[..., 0], says="shape changed"),
    Case("ex3", 42, says="Answer with a function"),
    Case("ex4", build=lambda: (_head("max"), 0.95), correct=True, says="compare it with"),
    Case("ex4", build=lambda: (_head("avg"), 0.95), says="Still average pooling"),
    Case("ex4", build=lambda: (_head("max", flat_input=True), 0.95), says="feature maps"),
    Case("ex4", build=lambda: (_head("max", units=2), 0.95), says="one sigmoid unit"),
    Case("ex4", build=lambda: (_head("max", train=False), 0.95), says="not trained yet"),
    Case("ex4", build=lambda: (_head("max"), 95.0), says="not a percent"),
    Case("ex4", 0.95, says="Hand in a pair"),
]
