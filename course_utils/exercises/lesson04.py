"""Exercises for lesson 04 (pretrained ImageNet models). Checkers compute the answers."""

from __future__ import annotations

from functools import cache

from course_utils.backbones import InputSizeError, get_backbone
from course_utils.exercises import Exercise

MODES = ("tf", "caffe", "torch")
CANDIDATE_SIZES = (64, 96, 150, 160, 224, 299)


def _preprocessing(answer: object) -> bool | tuple[bool, str]:
    if not isinstance(answer, dict):
        return False, 'Give a dict, e.g. {"ResNet50": "caffe", ...}.'
    wanted = ("ResNet50", "InceptionV3", "DenseNet121", "VGG16")
    missing = [name for name in wanted if name not in answer]
    if missing:
        return False, f"Also say which mode these use: {', '.join(missing)}."
    given = {name: str(answer[name]).strip().lower() for name in wanted}
    wrong = [name for name in wanted if given[name] != get_backbone(name).preprocessing]
    if wrong:
        return False, f"Not right for {', '.join(wrong)}; each mode is one of {MODES}."
    return True


def _label(text: object) -> str:
    return str(text).strip().lower().replace(" ", "_").replace("-", "_")


@cache
def _top1(photo: str) -> str:
    import keras

    from course_utils.datasets import get_file

    mnv2 = get_backbone("MobileNetV2")
    model = mnv2.build()  # ImageNet weights, with the 1000-class head, 224x224
    image = keras.utils.load_img(get_file(photo), target_size=(224, 224))
    batch = keras.utils.img_to_array(image)[None]
    probs = model.predict(mnv2.preprocess_input(batch), verbose=0)
    return mnv2.decode_predictions(probs, top=1)[0][0][1]


def _parrot(answer: object) -> bool | tuple[bool, str]:
    expected = _top1("photo_parrot")
    if _label(answer) == _label(expected):
        return True, f"MobileNetV2 says {expected!r}."
    return False, "That is not MobileNetV2's top-1 class name for this photo."


def _sizes(answer: object) -> bool | tuple[bool, str]:
    mnv2 = get_backbone("MobileNetV2")
    expected = []
    for size in CANDIDATE_SIZES:
        try:
            expected.append(mnv2.check_input_size(size, include_top=False))
        except InputSizeError:
            pass
    try:
        given = sorted(int(s) for s in answer)
    except (TypeError, ValueError):
        return False, "Give a list of sizes, e.g. [96, 224]."
    if given == expected:
        return True
    extra = sorted(set(given) - set(expected))
    if extra:
        return False, f"No ImageNet weights for {extra}: Keras would load other weights."
    return False, "Some of the candidate sizes that work are missing."


def _feature_params(answer: object) -> bool | tuple[bool, str]:
    base = get_backbone("MobileNetV2").build(weights=None, include_top=False, pooling="avg")
    expected = base.count_params()
    if int(answer) == expected:
        return True
    if int(answer) == 3_538_984:
        return False, "That is the full model: leave out the 1000-class head."
    return False, "Build it with weights=None and call count_params()."


ex1 = Exercise(
    "ex1",
    "Which preprocess_input mode ('tf', 'caffe' or 'torch') do ResNet50, InceptionV3, "
    "DenseNet121 and VGG16 use? Answer with a dict {model name: mode}.",
    _preprocessing,
    hint="Feed a pixel [255, 0, 0] (in a batch) to each model's preprocess_input: [-1, 1] "
    "means 'tf', BGR minus channel means means 'caffe', standardised values mean 'torch'.",
    solution=(
        "import numpy as np, keras\n"
        "pixel = np.array([[[[255.0, 0.0, 0.0]]]])\n"
        "for name in ['resnet50', 'inception_v3', 'densenet', 'vgg16']:\n"
        "    print(name, getattr(keras.applications, name).preprocess_input(pixel.copy()))\n"
        'answer = {"ResNet50": "caffe", "InceptionV3": "tf", "DenseNet121": "torch", '
        '"VGG16": "caffe"}'
    ),
)

ex2 = Exercise(
    "ex2",
    "What is MobileNetV2's (weights='imagenet') top-1 class name for the parrot photo "
    '(get_file("photo_parrot")), loaded at 224x224?',
    _parrot,
    hint="Repeat the cat example: load_img, img_to_array, add the batch axis, "
    "preprocess_input, predict, decode_predictions(top=1).",
    solution=(
        "img = keras.utils.load_img(get_file('photo_parrot'), target_size=(224, 224))\n"
        "x = mnv2.preprocess_input(keras.utils.img_to_array(img)[None])\n"
        "answer = mnv2.decode_predictions(model.predict(x), top=1)[0][0][1]"
    ),
)

ex3 = Exercise(
    "ex3",
    f"Which of the sizes {list(CANDIDATE_SIZES)} can you use for MobileNetV2's ImageNet "
    "convolutional base (include_top=False) without Keras loading other weights?",
    _sizes,
    hint='get_backbone("MobileNetV2").imagenet_sizes lists the sizes its weights exist for.',
    solution=(
        "mnv2 = get_backbone('MobileNetV2')\n"
        f"answer = [s for s in {list(CANDIDATE_SIZES)} if s in mnv2.imagenet_sizes]"
    ),
)

ex4 = Exercise(
    "ex4",
    "How many parameters does MobileNetV2 have without its top and with global average "
    "pooling (the feature extractor behind the Hub feature-vector handle)?",
    _feature_params,
    hint="keras.applications.MobileNetV2(weights=None, include_top=False, pooling='avg')",
    solution=(
        "base = keras.applications.MobileNetV2(weights=None, include_top=False, "
        "pooling='avg')\nanswer = base.count_params()"
    ),
)
