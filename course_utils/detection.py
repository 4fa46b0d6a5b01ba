"""Real pretrained detectors that run offline: a face detector and a segmentation model (lesson 08).

* Faces: OpenCV's Haar cascade ``haarcascade_frontalface_default.xml``
  (Viola-Jones, 2001). Chosen because the course already depends on
  ``opencv-python-headless`` 4.x, whose wheel ships the cascade files, so it
  needs no extra package, no download and no GPU, and it finds the face in
  the course's Grace Hopper photo in a fraction of a second. (OpenCV 5 no
  longer ships cascades: keep the pin below 5.) It is a pre-deep-learning
  detector: a CNN detector such as the ``mtcnn`` package is more robust to
  pose and lighting.
* Segmentation: DeepLabv3 (MobileNetV2 backbone, PASCAL VOC's 21 classes), an
  8-bit TensorFlow Lite model from the registry entry
  ``deeplabv3_mnv2_dm05_pascal_quant``, run by the LiteRT interpreter.

    >>> import numpy as np
    >>> len(detect_faces(np.zeros((64, 64, 3), np.uint8)))
    0
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from course_utils import datasets
from course_utils.boxes import Detections

FACE_CASCADE = "haarcascade_frontalface_default.xml"
DEEPLAB_MODEL = "deeplabv3_mnv2_dm05_pascal_quant"
PASCAL_VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)


def photo_path(filename: str) -> Path:
    """Path of one of the course's sample photos (e.g. ``grace_hopper.bmp``).

    A registry entry with that file name is fetched with
    :func:`course_utils.datasets.get_file` (cache first, download if needed);
    otherwise the photo must already be in ``<data_dir>/photos/``.

    >>> photo_path("no_such_photo.jpg")
    Traceback (most recent call last):
    ...
    course_utils.datasets.DatasetUnavailableError: photo 'no_such_photo.jpg' is not in ...
    """
    for name, info in datasets.REGISTRY.items():
        if info.kind == "file" and info.filename == filename:
            return datasets.get_file(name)
    path = datasets.data_dir() / "photos" / filename
    if path.is_file():
        return path
    raise datasets.DatasetUnavailableError(
        f"photo {filename!r} is not in the dataset registry and not at {path}; "
        f"copy it there (or set {datasets.DATA_ENV_VAR} to a folder whose photos/ holds it)"
    )


def _as_grey_uint8(image: Any) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] != 3):
        raise ValueError(f"expected an RGB [H, W, 3] or grey [H, W] image, got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
            raise ValueError("float images must be in [0, 1]; pass uint8 for [0, 255]")
        arr = np.round(arr * 255.0)
    arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 3:
        # ITU-R 601 luma, as OpenCV's RGB2GRAY
        arr = np.round(arr @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    return arr


@functools.lru_cache(maxsize=4)
def _cascade(name: str) -> Any:
    import cv2

    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        raise RuntimeError(
            f"OpenCV {cv2.__version__} has no Haar cascades (OpenCV 5 removed them); "
            "install opencv-python-headless<5"
        )
    path = Path(cv2.data.haarcascades) / name
    if not path.is_file():
        raise FileNotFoundError(f"no cascade file {name!r} in {path.parent}")
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"OpenCV could not load the cascade {path}")
    return cascade


def detect_faces(
    image: Any,
    *,
    scale_factor: float = 1.1,
    min_neighbors: int = 5,
    min_size: tuple[int, int] = (30, 30),
    cascade: str = FACE_CASCADE,
) -> Detections:
    """Find frontal faces with OpenCV's Haar cascade; boxes in *pixels*, best first.

    The cascade scans windows at every position and at sizes growing by
    ``scale_factor``; ``min_neighbors`` is how many overlapping raw hits a
    face needs (OpenCV's own way of merging duplicates; 0 returns every raw
    window, which is what non-max suppression is for). Scores are the
    cascade's confidence ("level weights"): comparable within one image, not
    probabilities. Accepts uint8 RGB or grey images (floats in [0, 1]).

    >>> d = detect_faces(np.full((100, 100), 255, np.uint8))
    >>> d.boxes.shape, d.scores.shape
    ((0, 4), (0,))
    """
    if scale_factor <= 1.0:
        raise ValueError(f"scale_factor must be > 1, got {scale_factor}")
    if min_neighbors < 0:
        raise ValueError(f"min_neighbors must be >= 0, got {min_neighbors}")
    grey = _as_grey_uint8(image)
    rects, _, weights = _cascade(cascade).detectMultiScale3(
        grey, scaleFactor=scale_factor, minNeighbors=min_neighbors,
        minSize=tuple(int(v) for v in min_size), outputRejectLevels=True,
    )
    rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(weights, dtype=np.float32).reshape(-1)[: len(rects)]
    boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
    order = np.argsort(-scores, kind="stable")
    return Detections(boxes[order], scores[order], np.zeros(len(order), np.int64))


# --------------------------------------------------------------------------- segmentation


def tflite_interpreter(model_path: Path | str) -> Any:
    """A ready (tensors allocated) TensorFlow Lite interpreter for ``model_path``.

    Uses the LiteRT package (``ai_edge_litert``) when it is installed, else
    ``tf.lite.Interpreter``, whose "deprecated, use LiteRT" warning is
    silenced here: in TensorFlow 2.21 it is still the interpreter that ships
    with TensorFlow.
    """
    path = Path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"no TensorFlow Lite model at {path}")
    try:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-not-found]
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*tf\.lite\.Interpreter is deprecated")
            interpreter = tf.lite.Interpreter(model_path=str(path))
    else:
        interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    return interpreter


@functools.lru_cache(maxsize=2)
def _deeplab(model_path: str) -> Any:
    return tflite_interpreter(model_path)


def segment_image(image: Any, model_path: Path | str | None = None) -> np.ndarray:
    """Semantic segmentation with DeepLabv3: a PASCAL VOC class index for every pixel.

    The photo is resized to the model's 513x513 input (uint8, as the
    quantised model expects), and the label map is resized back to the
    photo's size with nearest-neighbour sampling. Class names:
    :data:`PASCAL_VOC_CLASSES`.

    >>> segment_image(np.zeros((8, 8), np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: expected an RGB image [H, W, 3], got shape (8, 8)
    """
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {arr.dtype}")
    path = Path(model_path) if model_path is not None else datasets.get_file(DEEPLAB_MODEL)
    interpreter = _deeplab(str(path.resolve()))
    (inp,) = interpreter.get_input_details()
    (out,) = interpreter.get_output_details()
    _, height, width, _ = inp["shape"]
    resized = np.asarray(Image.fromarray(arr).resize((width, height), Image.Resampling.BILINEAR))
    interpreter.set_tensor(inp["index"], resized[None].astype(inp["dtype"]))
    interpreter.invoke()
    labels = np.asarray(interpreter.get_tensor(out["index"]))[0].astype(np.uint8)
    back = Image.fromarray(labels).resize((arr.shape[1], arr.shape[0]), Image.Resampling.NEAREST)
    return np.asarray(back).astype(np.int64)


def voc_colormap(n: int = 256) -> np.ndarray:
    """The PASCAL VOC colour palette: ``[n, 3]`` uint8, one colour per class index.

    >>> voc_colormap()[[0, 12, 15]].tolist()   # background, dog, person
    [[0, 0, 0], [64, 0, 128], [192, 128, 128]]
    """
    cmap = np.zeros((n, 3), np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


def overlay_mask(image: np.ndarray, labels: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """Blend each class's VOC colour over ``image`` (class 0, the background, stays clear).

    >>> overlay_mask(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), int)).shape
    (2, 2, 3)
    """
    image = np.asarray(image)
    labels = np.asarray(labels)
    if image.shape[:2] != labels.shape:
        raise ValueError(f"image {image.shape[:2]} and labels {labels.shape} differ in size")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    colours = voc_colormap()[labels].astype(np.float64)
    out = image.astype(np.float64)
    fg = labels > 0
    out[fg] = (1 - alpha) * out[fg] + alpha * colours[fg]
    return out.round().astype(np.uint8)
