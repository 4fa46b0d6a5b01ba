"""The offline face detector and the DeepLab segmentation runner."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from course_utils import datasets
from course_utils import detection as D
from course_utils.boxes import iou_matrix
from course_utils.images import load_image


def _photo(name: str) -> np.ndarray:
    try:
        return load_image(D.photo_path(name))
    except datasets.DatasetUnavailableError as err:
        pytest.skip(f"offline photo not available: {err}")


@pytest.fixture(scope="module")
def deeplab_path() -> Path:
    """The model from the course cache, else straight from the offline assets."""
    try:
        return datasets.get_file(D.DEEPLAB_MODEL)
    except datasets.DatasetUnavailableError:
        assets = os.environ.get("COURSE_ASSETS_DIR")
        candidate = Path(assets or "/nonexistent") / "tflite" / f"{D.DEEPLAB_MODEL}.tflite"
        if candidate.is_file():
            return candidate
        pytest.skip("DeepLab model neither cached nor in $COURSE_ASSETS_DIR/tflite")


def test_finds_grace_hoppers_face() -> None:
    image = _photo("grace_hopper.bmp")
    found = D.detect_faces(image)
    assert len(found) == 1
    # the face in this photo spans about x 150-380, y 100-330 pixels
    assert iou_matrix(found.boxes, [[150, 100, 380, 330]])[0, 0] > 0.8
    assert found.boxes.dtype == np.float32 and found.classes.tolist() == [0]


def test_no_faces_in_photos_without_people() -> None:
    for name in ("owl.jpg", "hot_dog.jpg", "dog_segmentation_256.bmp"):
        assert len(D.detect_faces(_photo(name))) == 0, name


def test_grey_and_float_inputs_give_the_same_face() -> None:
    image = _photo("grace_hopper.bmp")
    rgb = D.detect_faces(image)
    grey = D.detect_faces(np.round(image @ np.array([0.299, 0.587, 0.114])).astype(np.uint8))
    floats = D.detect_faces(image / 255.0)
    np.testing.assert_allclose(grey.boxes, rgb.boxes)
    np.testing.assert_allclose(floats.boxes, rgb.boxes)


def test_raw_windows_are_many_and_sorted() -> None:
    raw = D.detect_faces(_photo("grace_hopper.bmp"), min_neighbors=0)
    assert len(raw) > 5
    assert np.all(np.diff(raw.scores) <= 0)


def test_empty_detections_have_the_right_shapes() -> None:
    found = D.detect_faces(np.zeros((80, 80, 3), np.uint8))
    assert found.boxes.shape == (0, 4) and found.scores.shape == (0,) and len(found) == 0


@pytest.mark.parametrize(
    ("image", "kwargs", "error", "match"),
    [
        (np.zeros((10, 10, 4), np.uint8), {}, ValueError, "RGB"),
        (np.zeros((10,), np.uint8), {}, ValueError, "RGB"),
        (np.full((10, 10, 3), 2.0), {}, ValueError, r"\[0, 1\]"),
        (np.zeros((10, 10, 3), np.uint8), {"scale_factor": 1.0}, ValueError, "scale_factor"),
        (np.zeros((10, 10, 3), np.uint8), {"min_neighbors": -1}, ValueError, "min_neighbors"),
        (np.zeros((10, 10, 3), np.uint8), {"cascade": "nope.xml"}, FileNotFoundError, "nope"),
    ],
)
def test_detector_errors(image: np.ndarray, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        D.detect_faces(image, **kwargs)


def test_photo_path_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(datasets.DatasetUnavailableError, match="not_there.png"):
        D.photo_path("not_there.png")
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "mine.png").write_bytes(b"x")
    assert D.photo_path("mine.png") == tmp_path / "photos" / "mine.png"


def test_registry_entry_matches_the_class_list() -> None:
    info = datasets.dataset_info(D.DEEPLAB_MODEL)
    assert info.kind == "file" and info.cache_subdir == "models"
    assert tuple(info.class_names) == D.PASCAL_VOC_CLASSES
    assert len(D.PASCAL_VOC_CLASSES) == 21 and D.PASCAL_VOC_CLASSES[12] == "dog"


def test_deeplab_finds_the_dog(deeplab_path: Path) -> None:
    image = _photo("dog_segmentation_256.bmp")
    labels = D.segment_image(image, model_path=deeplab_path)
    assert labels.shape == image.shape[:2]
    counts = np.bincount(labels.ravel(), minlength=21)
    assert counts[D.PASCAL_VOC_CLASSES.index("dog")] > 0.3 * labels.size
    assert counts[0] > 0.2 * labels.size  # and some background
    assert counts[1:].argmax() + 1 == D.PASCAL_VOC_CLASSES.index("dog")


def test_deeplab_input_errors(deeplab_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint8"):
        D.segment_image(np.zeros((8, 8, 3), np.float32), model_path=deeplab_path)
    with pytest.raises(FileNotFoundError):
        D.tflite_interpreter(tmp_path / "missing.tflite")


def test_overlay_mask() -> None:
    image = np.full((2, 2, 3), 100, np.uint8)
    labels = np.array([[0, 12], [0, 0]])
    out = D.overlay_mask(image, labels, alpha=0.5)
    np.testing.assert_array_equal(out[0, 0], [100, 100, 100])
    np.testing.assert_array_equal(out[0, 1], [82, 50, 114])  # halfway to dog's (64, 0, 128)
    with pytest.raises(ValueError, match="differ"):
        D.overlay_mask(image, np.zeros((3, 3), int))
    with pytest.raises(ValueError, match="alpha"):
        D.overlay_mask(image, labels, alpha=2.0)


def test_voc_colormap_is_distinct() -> None:
    cmap = D.voc_colormap(21)
    assert len({tuple(c) for c in cmap}) == 21
