"""The offline face detectors (MTCNN's CNN, OpenCV 4's Haar cascade) and the DeepLab runner."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from course_utils import datasets
from course_utils import pretrained as D
from course_utils.boxes import iou_matrix
from course_utils.detection import Detections
from course_utils.images import load_image

needs_haar = pytest.mark.skipif(
    not D.haar_available(),
    reason="OpenCV 5 removed the Haar cascades (cv2.CascadeClassifier); they need OpenCV 4",
)
# the face in the Grace Hopper photo spans about x 150-380, y 100-330 pixels
HOPPER_FACE = [[150, 100, 380, 330]]
NO_PEOPLE = ("owl.jpg", "parrot.jpg", "hot_dog.jpg", "dog_segmentation_256.bmp")


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


# --------------------------------------------------------------------------- Haar (OpenCV 4)


@needs_haar
def test_finds_grace_hoppers_face() -> None:
    image = _photo("grace_hopper.bmp")
    found = D.detect_faces(image)
    assert len(found) == 1
    assert iou_matrix(found.boxes, HOPPER_FACE)[0, 0] > 0.8
    assert found.boxes.dtype == np.float32 and found.classes.tolist() == [0]


@needs_haar
def test_no_faces_in_photos_without_people() -> None:
    for name in ("owl.jpg", "hot_dog.jpg", "dog_segmentation_256.bmp"):
        assert len(D.detect_faces(_photo(name))) == 0, name


@needs_haar
def test_grey_and_float_inputs_give_the_same_face() -> None:
    image = _photo("grace_hopper.bmp")
    rgb = D.detect_faces(image)
    grey = D.detect_faces(np.round(image @ np.array([0.299, 0.587, 0.114])).astype(np.uint8))
    floats = D.detect_faces(image / 255.0)
    np.testing.assert_allclose(grey.boxes, rgb.boxes)
    np.testing.assert_allclose(floats.boxes, rgb.boxes)


@needs_haar
def test_raw_windows_are_many_and_sorted() -> None:
    raw = D.detect_faces(_photo("grace_hopper.bmp"), min_neighbors=0)
    assert len(raw) > 5
    assert np.all(np.diff(raw.scores) <= 0)


@needs_haar
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
        pytest.param(
            np.zeros((10, 10, 3), np.uint8),
            {"cascade": "nope.xml"},
            FileNotFoundError,
            "nope",
            marks=needs_haar,
        ),
    ],
)
def test_detector_errors(image: np.ndarray, kwargs: dict, error: type, match: str) -> None:
    """The inputs are checked first, so these hold on OpenCV 5 too (but the cascade file)."""
    with pytest.raises(error, match=match):
        D.detect_faces(image, **kwargs)


def test_haar_available_follows_opencv() -> None:
    cv2 = pytest.importorskip("cv2")
    assert D.haar_available() == hasattr(cv2, "CascadeClassifier")


@pytest.mark.skipif(D.haar_available(), reason="OpenCV 4 is installed: the cascade works")
def test_haar_on_opencv5_says_why_and_what_instead() -> None:
    with pytest.raises(RuntimeError, match="OpenCV 5 removed them.*detect_faces_cnn"):
        D.detect_faces(np.zeros((40, 40, 3), np.uint8))


# --------------------------------------------------------------------------- CNN (MTCNN)


def test_cnn_finds_grace_hoppers_face_and_landmarks() -> None:
    image = _photo("grace_hopper.bmp")
    found = D.detect_faces_cnn(image)
    assert isinstance(found, Detections) and len(found) == 1
    assert found.boxes.dtype == np.float32 and found.classes.tolist() == [0]
    assert iou_matrix(found.boxes, HOPPER_FACE)[0, 0] > 0.6
    if D.haar_available():  # the two detectors agree on where the face is
        assert iou_matrix(found.boxes, D.detect_faces(image).boxes)[0, 0] > 0.6
    assert 0.95 < found.scores[0] <= 1.0
    assert found.landmarks.shape == (1, len(D.FACE_LANDMARKS), 2)
    x1, y1, x2, y2 = found.boxes[0]
    xs, ys = found.landmarks[0].T
    assert np.all((x1 <= xs) & (xs <= x2) & (y1 <= ys) & (ys <= y2))
    points = dict(zip(D.FACE_LANDMARKS, found.landmarks[0], strict=True))
    assert points["left_eye"][0] < points["right_eye"][0]  # as seen in the image
    assert max(points["left_eye"][1], points["right_eye"][1]) < points["nose"][1]
    assert points["nose"][1] < min(points["mouth_left"][1], points["mouth_right"][1])


def test_cnn_no_faces_in_photos_without_people() -> None:
    for name in NO_PEOPLE:
        found = D.detect_faces_cnn(_photo(name))
        assert len(found) == 0, (name, found.scores)
        assert found.boxes.shape == (0, 4) and found.landmarks.shape == (0, 5, 2)


def test_cnn_stages_narrow_the_proposals_down() -> None:
    image = _photo("grace_hopper.bmp")
    pnet, rnet, onet = (D.detect_faces_cnn(image, stages=k) for k in (1, 2, 3))
    assert len(pnet) > 20 and len(pnet) > len(rnet) >= len(onet) == 1
    for found in (pnet, rnet):
        assert found.landmarks.shape == (len(found), 0, 2)
        assert np.all(np.diff(found.scores) <= 0)
    assert iou_matrix(onet.boxes, rnet.boxes[:1])[0, 0] > 0.5


def test_cnn_grey_and_float_inputs() -> None:
    image = _photo("grace_hopper.bmp")
    rgb = D.detect_faces_cnn(image)
    np.testing.assert_allclose(D.detect_faces_cnn(image / 255.0).boxes, rgb.boxes)
    grey = D.detect_faces_cnn(np.round(image @ np.array([0.299, 0.587, 0.114])).astype(np.uint8))
    assert len(grey) == 1 and iou_matrix(grey.boxes, rgb.boxes)[0, 0] > 0.8


def test_cnn_min_confidence_and_empty_images() -> None:
    image = _photo("grace_hopper.bmp")
    assert len(D.detect_faces_cnn(image, min_confidence=0.5)) == 1
    assert len(D.detect_faces_cnn(image, min_confidence=0.999)) == 0
    for shape in ((80, 80, 3), (5, 5, 3), (1, 300, 3), (40, 40)):
        for stages in (1, 2, 3):
            found = D.detect_faces_cnn(np.zeros(shape, np.uint8), stages=stages)
            assert found.boxes.shape == (0, 4) and found.scores.shape == (0,), (shape, stages)


def test_cnn_detector_is_built_once() -> None:
    D.detect_faces_cnn(np.zeros((30, 30, 3), np.uint8))
    assert D._mtcnn("CPU:0") is D._mtcnn("CPU:0")
    assert D._mtcnn("CPU:0", 2).stages == D._mtcnn("CPU:0").stages[:2]  # shared networks


@pytest.mark.parametrize(
    ("image", "kwargs", "match"),
    [
        (np.zeros((10, 10, 4), np.uint8), {}, "RGB.*alpha"),
        (np.zeros((10,), np.uint8), {}, "RGB"),
        (np.zeros((0, 10, 3), np.uint8), {}, "empty"),
        (np.full((10, 10, 3), 2.0), {}, r"\[0, 1\]"),
        (np.full((10, 10, 3), np.nan), {}, "NaN"),
        (np.full((10, 10, 3), 256), {}, r"\[0, 255\]"),
        (np.zeros((10, 10, 3), bool), {}, "dtype bool"),
        (np.zeros((10, 10, 3), np.uint8), {"stages": 0}, "stages"),
        (np.zeros((10, 10, 3), np.uint8), {"min_confidence": 1.5}, "min_confidence"),
        (np.zeros((10, 10, 3), np.uint8), {"min_face_size": 0}, "min_face_size"),
    ],
)
def test_cnn_detector_errors(image: np.ndarray, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        D.detect_faces_cnn(image, **kwargs)


# --------------------------------------------------------------------------- segmentation


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
