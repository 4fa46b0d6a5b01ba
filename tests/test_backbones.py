"""Tests of the pretrained-model registry, the model catalogue and the lesson-04 photos."""

from __future__ import annotations

import sys
import warnings

import keras
import numpy as np
import pytest
from helpers import needs_imagenet_weights

from course_utils import archives, backbones, datasets
from course_utils.backbones import (
    BACKBONES,
    CATALOGUE,
    InputSizeError,
    WeightsUnavailableError,
    build_and_count,
    catalogue_entry,
    format_catalogue,
    get_backbone,
)

PHOTOS = {
    "photo_cat": "cat_720p.jpg",
    "photo_parrot": "parrot.jpg",
    "photo_owl": "owl.jpg",
    "photo_hot_dog": "hot_dog.jpg",
    "photo_grace_hopper": "grace_hopper.bmp",
}


class _Requested(Exception):
    """Raised by the fake ``get_file`` to report which weight file Keras asked for."""


@pytest.fixture
def record_weight_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make Keras's weight download raise ``_Requested(file name)`` instead of downloading.

    No public route: ``keras.applications`` call ``get_file`` through the module
    that defines it, so that module (found from the public ``keras.utils.get_file``,
    not imported from ``keras.src``) is patched. A Keras that moves it fails here.
    """
    file_utils = sys.modules[keras.utils.get_file.__module__]

    def fake_get_file(fname: str, *args: object, **kwargs: object) -> str:
        raise _Requested(fname)

    monkeypatch.setattr(file_utils, "get_file", fake_get_file)


needs_mobilenet_v2_weights = needs_imagenet_weights("MobileNetV2")


# --- the registry --------------------------------------------------------------


def test_registry_has_the_models_the_course_needs() -> None:
    assert {"MobileNetV2", "ResNet50", "InceptionV3", "Xception"} <= set(BACKBONES)
    assert backbones.list_backbones() == list(BACKBONES)


@pytest.mark.parametrize("name", list(BACKBONES))
def test_entry_points_at_the_library_functions(name: str) -> None:
    b = get_backbone(name)
    module = getattr(keras.applications, b.module)
    assert b.constructor is getattr(keras.applications, name)
    assert b.preprocess_input is module.preprocess_input
    assert b.decode_predictions is module.decode_predictions


@pytest.mark.parametrize("name", list(BACKBONES))
def test_preprocessing_mode_matches_what_preprocess_input_does(name: str) -> None:
    from keras.applications import imagenet_utils

    b = get_backbone(name)
    pixels = np.array([[[[0.0, 128.0, 255.0], [255.0, 10.0, 0.0]]]], dtype="float32")
    expected = imagenet_utils.preprocess_input(pixels.copy(), mode=b.preprocessing)
    np.testing.assert_allclose(b.preprocess_input(pixels.copy()), expected, rtol=1e-6)
    assert b.preprocessing_description == backbones.PREPROCESSING[b.preprocessing]


@pytest.mark.parametrize("name", list(BACKBONES))
def test_min_size_matches_keras(name: str) -> None:
    b = get_backbone(name)
    too_small = (b.min_size - 1, b.min_size - 1, 3)
    with pytest.raises(ValueError, match=f"at least {b.min_size}x{b.min_size}"):
        b.constructor(weights=None, include_top=False, input_shape=too_small)
    with pytest.raises(InputSizeError, match=f"at least {b.min_size}x{b.min_size}"):
        b.check_input_size(b.min_size - 1, weights=None)
    assert b.check_input_size(b.min_size, weights=None) == b.min_size


@pytest.mark.parametrize("name", list(BACKBONES))
def test_full_imagenet_model_needs_the_default_size_like_keras(name: str) -> None:
    b = get_backbone(name)
    wrong = b.default_size + 1
    # Keras refuses this before building anything or downloading weights.
    with pytest.raises(ValueError, match=rf"should be \({b.default_size}, {b.default_size}, 3\)"):
        b.constructor(weights="imagenet", include_top=True, input_shape=(wrong, wrong, 3))
    with pytest.raises(InputSizeError):
        b.check_input_size(wrong, include_top=True)
    assert b.check_input_size(b.default_size, include_top=True) == b.default_size


def test_mobilenet_v2_refuses_sizes_without_imagenet_weights() -> None:
    mnv2 = get_backbone("MobileNetV2")
    with pytest.raises(InputSizeError, match=r"96, 128, 160, 192, 224, not 150"):
        mnv2.check_input_size(150, include_top=False)
    with pytest.raises(InputSizeError, match="silently load"):
        mnv2.build(include_top=False, input_size=299)
    for size in mnv2.imagenet_sizes:
        assert mnv2.check_input_size(size, include_top=False) == size
        assert mnv2.check_input_size(size, include_top=True) == size
    assert mnv2.check_input_size(150, weights=None) == 150
    assert mnv2.allowed_sizes() == "one of 96, 128, 160, 192, 224"


def test_other_bases_take_any_size_above_the_minimum() -> None:
    resnet = get_backbone("ResNet50")
    assert resnet.check_input_size(150, include_top=False) == 150
    assert resnet.allowed_sizes(include_top=True) == "exactly 224"
    assert resnet.allowed_sizes(include_top=False) == "any size from 32 pixels up"
    with pytest.raises(InputSizeError, match="include_top=False"):
        resnet.check_input_size(150, include_top=True)


@pytest.mark.parametrize("bad", [224.0, "224", (224, 224), True, None])
def test_input_size_must_be_an_int(bad: object) -> None:
    with pytest.raises(TypeError, match="must be an int"):
        get_backbone("ResNet50").check_input_size(bad)


def test_unknown_backbone_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="Registered backbones: MobileNetV2"):
        get_backbone("mobilenetv2")


def test_keras_warns_and_swaps_weights_where_the_registry_refuses(
    record_weight_requests: None,
) -> None:
    """The behaviour the registry protects against, shown on the library itself."""
    mnv2 = get_backbone("MobileNetV2")
    with pytest.warns(UserWarning, match=r"Weights for input shape \(224, 224\)"):
        with pytest.raises(_Requested) as asked:
            mnv2.constructor(weights="imagenet", include_top=False, input_shape=(150, 150, 3))
    assert str(asked.value) == mnv2.weights_filename(include_top=False, size=224)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(_Requested) as asked:
            mnv2.constructor(weights="imagenet", include_top=False, input_shape=(160, 160, 3))
    assert str(asked.value) == mnv2.weights_filename(include_top=False, size=160)


@pytest.mark.slow
@pytest.mark.parametrize("include_top", [True, False], ids=["top", "notop"])
@pytest.mark.parametrize("name", list(BACKBONES))
def test_weights_filename_is_the_one_keras_asks_for(
    name: str, include_top: bool, record_weight_requests: None
) -> None:
    b = get_backbone(name)
    size = b.default_size
    try:
        with pytest.raises(_Requested) as asked:
            b.constructor(weights="imagenet", include_top=include_top, input_shape=(size, size, 3))
    finally:
        keras.backend.clear_session()
    assert str(asked.value) == b.weights_filename(include_top=include_top, size=size)


def test_build_without_weights_uses_the_requested_size() -> None:
    model = get_backbone("MobileNetV2").build(weights=None, include_top=False, input_size=96)
    assert model.input_shape == (None, 96, 96, 3)
    assert model.output_shape == (None, 3, 3, 1280)
    default = get_backbone("MobileNetV2").build(weights=None, include_top=False, pooling="avg")
    assert default.input_shape == (None, 224, 224, 3)
    assert default.output_shape == (None, 1280)


def test_build_fails_fast_when_weights_are_missing_offline(
    data_root: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backbones, "network_available", lambda *a, **k: False)
    resnet = get_backbone("ResNet50")
    assert not resnet.weights_available()
    with pytest.raises(WeightsUnavailableError) as err:
        resnet.build()
    message = str(err.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels.h5" in message
    assert "unreachable" in message and "KERAS_HOME" in message


def test_weights_available_with_a_cached_file(
    data_root: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backbones, "network_available", lambda *a, **k: False)
    incv3 = get_backbone("InceptionV3")
    path = incv3.weights_path(include_top=False)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    assert incv3.weights_available(include_top=False)
    assert not incv3.weights_available(include_top=True)
    monkeypatch.setattr(backbones, "network_available", lambda *a, **k: True)
    assert incv3.weights_available(include_top=True)


@needs_mobilenet_v2_weights
def test_real_mobilenet_v2_recognises_the_cat() -> None:
    mnv2 = get_backbone("MobileNetV2")
    model = mnv2.build()
    image = keras.utils.img_to_array(
        keras.utils.load_img(datasets.get_file("photo_cat"), target_size=(224, 224))
    )
    probs = model.predict(mnv2.preprocess_input(image[None]), verbose=0)
    (_, label, score), *_ = mnv2.decode_predictions(probs, top=5)[0]
    assert label == "Egyptian_cat" and score > 0.5


@pytest.mark.parametrize("name", ["ResNet50", "InceptionV3"])
def test_other_imagenet_models_load_or_skip_with_a_reason(name: str) -> None:
    b = get_backbone(name)
    if not b.weights_available():
        pytest.skip(f"{name} ImageNet weights are not cached and the network is unreachable")
    model = b.build()
    assert model.input_shape == (None, b.default_size, b.default_size, 3)
    keras.backend.clear_session()


# --- the catalogue --------------------------------------------------------------


def test_catalogue_has_the_seed_s_18_models() -> None:
    names = [e.name for e in CATALOGUE]
    assert len(names) == 18 == len(set(names))
    for name in names:
        assert hasattr(keras.applications, name), name
    assert catalogue_entry("VGG19").parameters == 143_667_240
    with pytest.raises(KeyError, match="not in the catalogue"):
        catalogue_entry("EfficientNetB0")


def test_format_catalogue_flags_differences_and_gaps() -> None:
    text = format_catalogue({"MobileNetV2": 3_538_984, "VGG16": 1})
    lines = text.splitlines()
    assert len(lines) == 19
    row = {line.split()[0]: line for line in lines[1:]}
    assert row["MobileNetV2"].endswith("same")
    assert row["VGG16"].endswith("DIFFERS")
    assert row["Xception"].endswith("-")


def test_build_and_count_matches_the_catalogue_for_a_small_model() -> None:
    assert build_and_count("MobileNetV2") == catalogue_entry("MobileNetV2").parameters


@pytest.mark.slow
@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_all_18_parameter_counts_equal_the_seed_s(entry: backbones.CatalogueEntry) -> None:
    """Keras 3.15 reproduces every count of the catalogue (built with weights=None)."""
    assert build_and_count(entry.name) == entry.parameters


# --- the lesson's photos (registry entries) -------------------------------------------


@pytest.mark.parametrize("name", list(PHOTOS))
def test_photo_registry_entries(name: str) -> None:
    info = datasets.dataset_info(name)
    assert info.kind == "file" and info.cache_subdir == "photos"
    assert info.filename == PHOTOS[name]
    assert info.url == (
        f"https://raw.githubusercontent.com/google-coral/test_data/master/{PHOTOS[name]}"
    )
    assert info.sha256 is not None and len(info.sha256) == 64
    assert info.size_bytes and info.size_bytes > 0
    assert info.licence


@pytest.mark.parametrize("name", list(PHOTOS))
def test_cached_photos_match_their_checksums(name: str) -> None:
    info = datasets.dataset_info(name)
    path = datasets.data_dir() / "photos" / PHOTOS[name]
    if not path.is_file():
        pytest.skip(f"{path} is not cached")
    assert datasets.get_file(name) == path
    assert path.stat().st_size == info.size_bytes
    assert archives.sha256_of(path) == info.sha256
