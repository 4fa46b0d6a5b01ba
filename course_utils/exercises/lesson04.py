"""Lesson 04 exercises: padding, preprocessing, the wrong preprocessing, the catalogue.

Checkers compute their answers with Keras and TensorFlow (or from the course's
catalogue); exercises 1 and 2 are "predict, then run", exercise 3 is "modify and
observe"::

    >>> from course_utils.exercises.lesson04 import ex4
    >>> ex4.check(6)
    ✅ Correct! (ex4) Xception, ResNet50V2, InceptionV3, DenseNet121, DenseNet169, DenseNet201.
    True
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from course_utils.exercises import Case, Exercise

#: The orange pixel of exercise 2 (RGB, in [0, 255]).
PIXEL = (255.0, 128.0, 0.0)
#: Exercise 2 accepts each value within this distance (the answer's rounding).
PIXEL_TOLERANCE = 0.01
#: The photos of section 2, in the notebook's order (course files, then scikit-learn's two).
PHOTOS = ("photo_cat", "photo_parrot", "photo_owl", "photo_hot_dog", "photo_grace_hopper")
SAMPLES = ("china", "flower")


@cache
def cat_pad_rows(size: int = 224) -> int:
    """Black rows above the cat photo after ``tf.image.resize_with_pad`` to ``size``, by TF.

    >>> cat_pad_rows()
    49
    """
    import keras
    import tensorflow as tf

    from course_utils.datasets import get_file

    width, height = keras.utils.load_img(get_file("photo_cat")).size
    padded = tf.image.resize_with_pad(np.ones((height, width, 1), "float32"), size, size)
    rows = np.asarray(padded)[..., 0].max(axis=1)
    return int(np.argmax(rows > 0))


def preprocessed_pixel(mode_module: str = "mobilenet_v2") -> np.ndarray:
    """The orange pixel after ``keras.applications.<mode_module>.preprocess_input``.

    >>> np.round(preprocessed_pixel(), 3).tolist()
    [1.0, 0.004, -1.0]
    """
    import keras

    module = getattr(keras.applications, mode_module)
    return np.asarray(module.preprocess_input(np.array([[[PIXEL]]]))[0, 0, 0], dtype=float)


def _pad_check(answer: Any) -> tuple[bool, str]:
    expected = cat_pad_rows()
    got = int(answer)
    if got == expected:
        return True, (
            "1280 px scale to 224, so 720 px become 126; the 98 spare rows are split, 49 above."
        )
    if got == 2 * expected:
        return False, "That is both bars together: resize_with_pad centres the photo."
    if got == 0:
        return False, "The photo is wider than tall, so the bars go above and below it."
    if got in (224 - 126, 224 - 720 // 2):
        return False, "Scale both sides by the same factor, the one that makes the width fit."
    return False, "Shrink the photo until its longer side is 224, then split what is left over."


def _pixel_check(answer: Any) -> tuple[bool, str]:
    expected = preprocessed_pixel("mobilenet_v2")
    if isinstance(answer, (str, bytes)):
        return False, "Give three numbers, one per channel (R, G, B)."
    got = np.asarray(answer, dtype=float).ravel()
    if got.shape != (3,):
        return False, f"Give three numbers, one per channel (R, G, B); you gave {got.size}."
    if np.allclose(got, expected, atol=PIXEL_TOLERANCE):
        return True, "x / 127.5 - 1: 0 -> -1, 255 -> 1, and 128 lands just above 0."
    if np.allclose(got, np.array(PIXEL) / 255, atol=PIXEL_TOLERANCE):
        return False, "x / 255 gives [0, 1]; the 'tf' mode goes on to [-1, 1]."
    if np.allclose(got, expected[::-1], atol=PIXEL_TOLERANCE):
        return False, "The 'tf' mode keeps the RGB order; only 'caffe' reverses it to BGR."
    if np.allclose(got, PIXEL):
        return False, "preprocess_input does change the pixel: these are the raw values."
    if np.allclose(got, preprocessed_pixel("resnet50"), atol=PIXEL_TOLERANCE):
        return False, "Those are the 'caffe' values (ResNet50's); MobileNetV2 uses 'tf'."
    near = np.abs(got - expected).max()
    if near < 0.1:
        return False, (
            f"Close, but one value is {near:.3f} off; each must be within {PIXEL_TOLERANCE} "
            "(how exactly does 128 map?)."
        )
    return False, "Work out where 0 and 255 go in the 'tf' mode, then 128."


@cache
def _stretched_batch() -> np.ndarray:
    import keras
    import tensorflow as tf

    from course_utils.datasets import get_file
    from course_utils.images import sample_image

    photos = [keras.utils.img_to_array(keras.utils.load_img(get_file(p))) for p in PHOTOS]
    photos += [sample_image(name).astype("float32") for name in SAMPLES]
    return np.stack([tf.image.resize(photo, (224, 224)).numpy() for photo in photos])


@cache
def top1_labels(preprocessing: str = "resnet50") -> tuple[tuple[str, float], ...]:
    """MobileNetV2's top-1 (name, probability) per photo, prepared with ``preprocessing``'s mode.

    >>> top1_labels("mobilenet_v2")[1][0]  # the parrot, with its own preprocessing
    'macaw'
    """
    import keras

    model = keras.applications.MobileNetV2(weights="imagenet")
    module = getattr(keras.applications, preprocessing)
    probs = model.predict(module.preprocess_input(_stretched_batch().copy()), verbose=0)
    decoded = keras.applications.mobilenet_v2.decode_predictions(probs, top=1)
    return tuple((top[0][1], float(top[0][2])) for top in decoded)


def _label(text: Any) -> str:
    return str(text).strip().lower().replace(" ", "_").replace("-", "_")


def _wrong_preprocessing_check(answer: Any) -> tuple[bool, str]:
    n = len(PHOTOS) + len(SAMPLES)
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        return False, f"Give a list of {n} class names, one per photo in the order of `names`."
    got = [_label(a[1] if isinstance(a, (tuple, list)) and len(a) == 3 else a) for a in answer]
    if len(got) != n:
        return False, f"Give one class name per photo: {n} names, you gave {len(got)}."
    wrong = top1_labels("resnet50")
    right = top1_labels("mobilenet_v2")
    if got == [_label(name) for name, _ in right]:
        return False, (
            "These are the answers with MobileNetV2's own preprocessing: prepare the batch with "
            "keras.applications.resnet50.preprocess_input instead."
        )
    same = sum(g == _label(name) for g, (name, _) in zip(got, wrong, strict=True))
    if same < n - 1:  # one near-tie may flip between machines
        return False, (
            f"Only {same} of {n} match what MobileNetV2 answers with caffe preprocessing. Did you "
            "apply resnet50.preprocess_input to a copy of the stretched [0, 255] batch?"
        )
    changed = sum(a != b for (a, _), (b, _) in zip(wrong, right, strict=True))
    mean_wrong = float(np.mean([p for _, p in wrong]))
    mean_right = float(np.mean([p for _, p in right]))
    name, top = max(wrong, key=lambda pair: pair[1])
    return True, (
        f"{changed} of {n} top-1 answers change; the mean top-1 probability drops from "
        f"{mean_right:.0%} to {mean_wrong:.0%}, yet some nonsense is confident ({name} at "
        f"{top:.0%}), and nothing raises an error: inputs in [-124, 151] instead of [-1, 1]."
    )


def dominating(reference: str = "ResNet50") -> list[str]:
    """Catalogue models with fewer parameters *and* a higher top-1 than ``reference``.

    >>> dominating("VGG19")[:2]
    ['Xception', 'ResNet50']
    """
    from course_utils.backbones import CATALOGUE, catalogue_entry

    ref = catalogue_entry(reference)
    return [e.name for e in CATALOGUE if e.parameters < ref.parameters and e.top1 > ref.top1]


def _catalogue_check(answer: Any) -> tuple[bool, str]:
    from course_utils.backbones import CATALOGUE, catalogue_entry

    names = dominating("ResNet50")
    got = int(answer)
    ref = catalogue_entry("ResNet50")
    smaller = [e for e in CATALOGUE if e.parameters < ref.parameters]
    better = [e for e in CATALOGUE if e.top1 > ref.top1]
    by_megabytes = [e for e in CATALOGUE if e.size_mb < ref.size_mb and e.top1 > ref.top1]
    if got == len(names):
        return True, ", ".join(names) + "."
    if got == len(by_megabytes):
        return False, (
            "Compare parameters, not megabytes: ResNet50V2 has the same 98 MB but fewer parameters."
        )
    if got == len(smaller):
        return False, "That counts the smaller models; keep only those that are also more accurate."
    if got == len(better):
        return False, "That counts the more accurate models; keep only those that are also smaller."
    return False, "Count the points above and to the left of ResNet50 in the scatter."


ex1 = Exercise(
    "ex1",
    "The cat photo is 1280x720. Predict how many rows of black tf.image.resize_with_pad(photo, "
    "224, 224) puts above it.",
    _pad_check,
    hint="One scale factor for both sides, chosen so that the longer side fits; the bars share "
    "what is left of the shorter side.",
    solution="scale = 224 / 1280  # the width must fit\n"
    "height = round(720 * scale)  # 126 rows of photo\n"
    "answer = (224 - height) // 2  # 49 rows above, 49 below",
    kind="predict",
)

ex2 = Exercise(
    "ex2",
    "Predict what MobileNetV2's preprocess_input (the 'tf' mode) makes of the pixel [255, 128, 0].",
    _pixel_check,
    hint="The 'tf' mode maps [0, 255] linearly onto [-1, 1], channel by channel, in RGB order.",
    solution="answer = [255 / 127.5 - 1, 128 / 127.5 - 1, 0 / 127.5 - 1]  # [1, 0.0039, -1]",
    kind="predict",
)

ex3 = Exercise(
    "ex3",
    "Prepare the stretched photos with keras.applications.resnet50.preprocess_input instead of "
    "MobileNetV2's own, and hand in MobileNetV2's top-1 class names, in the order of `names`.",
    _wrong_preprocessing_check,
    hint="Only the preprocessing line of section 2 changes; keep the same model and the same "
    "decode_predictions, and give the function a copy of the batch.",
    solution=(
        "wrong_inputs = keras.applications.resnet50.preprocess_input(batch.copy())\n"
        "wrong_top = mobilenet_v2.decode_predictions(model.predict(wrong_inputs), top=1)\n"
        "answer = [top[0][1] for top in wrong_top]"
    ),
    kind="modify",
)

ex4 = Exercise(
    "ex4",
    "How many catalogue models are both smaller (fewer parameters) and more accurate "
    "(higher top-1) than ResNet50?",
    _catalogue_check,
    hint="In the scatter, ResNet50 is one point; the models you want are above it and to its "
    "left. Some are very close: the catalogue table has the exact numbers.",
    solution=(
        "ref = backbones.catalogue_entry('ResNet50')\n"
        "answer = sum(e.parameters < ref.parameters and e.top1 > ref.top1 "
        "for e in backbones.CATALOGUE)"
    ),
)


def _wrong_answers() -> list[str]:
    return [name for name, _ in top1_labels("resnet50")]


CASES = [
    Case("ex1", 49, correct=True, says="49 above"),
    Case("ex1", 98, says="both bars"),
    Case("ex1", 0, says="wider than tall"),
    Case("ex1", 12, says="longer side"),
    Case("ex2", [1.0, 0.0039, -1.0], correct=True),
    Case("ex2", (1, 0, -1), correct=True, says="just above 0"),
    Case("ex2", [1.0, 0.502, 0.0], says="[0, 1]"),
    Case("ex2", [-1.0, 0.0039, 1.0], says="RGB order"),
    Case("ex2", [255, 128, 0], says="raw values"),
    Case("ex2", [1.0, 0.05, -1.0], says="within 0.01"),
    Case("ex2", [1.0, 0.0039], says="three numbers"),
    Case("ex3", build=_wrong_answers, correct=True, says="nothing raises an error"),
    Case(
        "ex3", build=lambda: [n for n, _ in top1_labels("mobilenet_v2")], says="own preprocessing"
    ),
    Case("ex3", build=lambda: _wrong_answers()[:3], says="one class name per photo"),
    Case("ex3", ["macaw"] * 7, says="match"),
    Case("ex4", 6, correct=True, says="DenseNet121"),
    Case("ex4", 5, says="megabytes"),
    Case("ex4", 9, says="smaller models"),
    Case("ex4", 12, says="more accurate models"),
]

__all__ = [
    "CASES",
    "ex1",
    "ex2",
    "ex3",
    "ex4",
    "cat_pad_rows",
    "dominating",
    "preprocessed_pixel",
    "top1_labels",
]
