"""Real pretrained detectors that run offline: face detectors and a segmentation model (lesson 08).

* Faces, the main detector: MTCNN (Zhang et al., 2016, "Joint Face Detection
  and Alignment using Multitask Cascaded Convolutional Networks"), three small
  CNNs run one after the other, from the ``mtcnn`` package (1.0, MIT licence).
  Its P-Net, R-Net and O-Net weights ship inside the wheel and it runs on
  TensorFlow, so it needs no download and no GPU: :func:`detect_faces_cnn`.
* Faces, the historical contrast: OpenCV's Haar cascade
  ``haarcascade_frontalface_default.xml`` (Viola and Jones, 2001), a
  pre-deep-learning detector: :func:`detect_faces`. OpenCV 4's wheels ship
  the cascade files; OpenCV 5 (what Google Colab installs as
  ``opencv-python``) removed ``cv2.CascadeClassifier``. The course uses
  OpenCV 4 where it is installed (laptops, Binder, CI) and supports 5;
  :func:`haar_available` says which one this is.
* Segmentation: DeepLabv3 (MobileNetV2 backbone, PASCAL VOC's 21 classes), an
  8-bit TensorFlow Lite model from the registry entry
  ``deeplabv3_mnv2_dm05_pascal_quant``, run by the LiteRT interpreter.

    >>> import numpy as np
    >>> len(detect_faces_cnn(np.zeros((64, 64, 3), np.uint8)))
    0
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from course_utils import datasets
from course_utils.detection import Detections

FACE_CASCADE = "haarcascade_frontalface_default.xml"
#: MTCNN's five facial landmarks, in the order of :attr:`FaceDetections.landmarks`. "Left" and
#: "right" are as seen in the image (the person's own right eye is ``left_eye``).
FACE_LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
DEEPLAB_MODEL = "deeplabv3_mnv2_dm05_pascal_quant"
PASCAL_VOC_CLASSES = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
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
        import cv2

        arr = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2GRAY)
    return arr


def haar_available() -> bool:
    """Whether OpenCV's Haar cascades can run here: OpenCV 4 is installed, not 5.

    OpenCV 5 removed ``cv2.CascadeClassifier``, so :func:`detect_faces` needs
    OpenCV 4 (with its ``cv2.data`` cascade files); :func:`detect_faces_cnn`
    runs on either.

    >>> import cv2
    >>> haar_available() == (int(cv2.__version__.split(".")[0]) < 5)
    True
    """
    try:
        import cv2
    except ImportError:
        return False
    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        return False
    folder = getattr(cv2.data, "haarcascades", None)
    return folder is not None and (Path(folder) / FACE_CASCADE).is_file()


@functools.lru_cache(maxsize=4)
def _cascade(name: str) -> Any:
    try:
        import cv2
    except ImportError as err:
        raise RuntimeError(
            "the Haar cascade needs OpenCV 4: pip install 'opencv-python-headless>=4.10,<5'"
        ) from err

    if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
        raise RuntimeError(
            f"OpenCV {cv2.__version__} has no Haar cascades (OpenCV 5 removed them); "
            "use detect_faces_cnn instead, or OpenCV 4 (opencv-python-headless<5) for this one"
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

    Needs OpenCV 4 (see :func:`haar_available`); on OpenCV 5 it raises
    ``RuntimeError``. The inputs are checked first, on either version:

    >>> detect_faces(np.zeros((8, 8, 4), np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: expected an RGB [H, W, 3] or grey [H, W] image, got shape (8, 8, 4)
    """
    if scale_factor <= 1.0:
        raise ValueError(f"scale_factor must be > 1, got {scale_factor}")
    if min_neighbors < 0:
        raise ValueError(f"min_neighbors must be >= 0, got {min_neighbors}")
    grey = _as_grey_uint8(image)
    rects, _, weights = _cascade(cascade).detectMultiScale3(
        grey,
        scaleFactor=scale_factor,
        minNeighbors=min_neighbors,
        minSize=tuple(int(v) for v in min_size),
        outputRejectLevels=True,
    )
    rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(weights, dtype=np.float32).reshape(-1)[: len(rects)]
    boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
    order = np.argsort(-scores, kind="stable")
    return Detections(boxes[order], scores[order], np.zeros(len(order), np.int64))


# --------------------------------------------------------------------------- CNN faces (MTCNN)


@dataclass(frozen=True)
class FaceDetections(Detections):
    """:class:`~course_utils.boxes.Detections` in pixels, plus each face's landmarks.

    ``landmarks`` is ``[N, 5, 2]``: (x, y) pixels of :data:`FACE_LANDMARKS`
    for each face, in the order of ``boxes``; ``[N, 0, 2]`` when the stage
    that made the boxes predicts no landmarks (P-Net and R-Net).
    """

    landmarks: np.ndarray


def _as_rgb_uint8(image: Any) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)  # grey: the same value in R, G and B
    if arr.ndim != 3 or arr.shape[-1] != 3:
        rgba = arr.ndim == 3 and arr.shape[-1] == 4
        hint = " (RGBA? drop the alpha channel: image[..., :3])" if rgba else ""
        raise ValueError(
            f"expected an RGB [H, W, 3] or grey [H, W] image, got shape {arr.shape}{hint}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"the image is empty: shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError("the image has NaN or infinite pixels")
        if arr.min() < 0.0 or arr.max() > 1.0:
            raise ValueError("float images must be in [0, 1]; pass uint8 for [0, 255]")
        arr = np.round(arr * 255.0)
    elif np.issubdtype(arr.dtype, np.integer):
        if arr.min() < 0 or arr.max() > 255:
            raise ValueError(f"integer images must be in [0, 255], got {arr.min()}..{arr.max()}")
    else:
        raise ValueError(f"expected a uint8 or float image, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.uint8)


class _PassOnNoBoxes:
    """An MTCNN stage that passes "no faces" on when it receives no boxes.

    mtcnn 1.0 expects TensorFlow's InvalidArgumentError when a stage gets an
    empty batch of crops, but Keras 3.13's Conv2D raises ValueError instead.
    """

    def __init__(self, stage: Any) -> None:
        self.stage, self.id, self.name = stage, stage.id, stage.name

    def __call__(self, *, bboxes_batch: np.ndarray, **kwargs: Any) -> np.ndarray:
        if bboxes_batch is not None and len(bboxes_batch) == 0:
            return np.empty((0, 16))  # what mtcnn itself returns when no face is found
        return self.stage(bboxes_batch=bboxes_batch, **kwargs)


@contextlib.contextmanager
def _quiet_lz4_close() -> Iterator[None]:
    """Drop the "I/O operation on closed file" noise lz4 prints on Python 3.13 as weights load.

    (joblib reads mtcnn's ``.lz4`` weight files; lz4's frame file flushes its
    already closed file when it is garbage collected. The weights load fine.)
    Every other unraisable exception reaches the usual hook.
    """
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        tb = unraisable.exc_traceback
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        if not (
            isinstance(unraisable.exc_value, ValueError)
            and isinstance(unraisable.object, io.BufferedReader)
            and tb is not None
            and "lz4" in tb.tb_frame.f_code.co_filename
        ):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


@functools.lru_cache(maxsize=8)
def _mtcnn(device: str, stages: int = 3) -> Any:
    """The detector for ``device``, cached: building it creates the networks and loads weights.

    Fewer stages reuse the full detector's P-Net and R-Net (no second copy of the weights).
    """
    from mtcnn import MTCNN

    if stages == 3:
        with _quiet_lz4_close():
            first, *rest = MTCNN(device=device).stages
        return MTCNN(stages=[first, *(_PassOnNoBoxes(s) for s in rest)], device=device)
    return MTCNN(stages=_mtcnn(device).stages[:stages], device=device)


def detect_faces_cnn(
    image: Any,
    *,
    min_confidence: float | None = None,
    min_face_size: int = 20,
    stages: int = 3,
    device: str = "CPU:0",
) -> FaceDetections:
    """Find faces with MTCNN's three-stage CNN cascade; boxes in *pixels*, best first.

    P-Net, a tiny fully convolutional network, proposes face boxes on an image
    pyramid; R-Net re-scores and corrects each proposal from a 24x24 crop;
    O-Net does the same from a 48x48 crop and adds five landmarks
    (:data:`FACE_LANDMARKS`). Non-max suppression runs after every stage.
    ``stages=1`` or ``2`` stops after P-Net or R-Net, to see what each stage
    passes on.

    ``min_confidence`` is the face probability the last stage run must give a
    box. When it is None, each stage uses the ``mtcnn`` package's default:
    0.6 for P-Net, 0.7 for R-Net, 0.8 for O-Net (the earlier stages always
    keep theirs). ``min_face_size`` (pixels) sets the pyramid's largest
    scale: smaller faces are not searched for. Accepts uint8 RGB or grey
    images (floats in [0, 1]). The networks run on ``device`` (a TensorFlow
    device name) and are built once per device.

    >>> found = detect_faces_cnn(np.zeros((64, 64, 3), np.uint8))
    >>> found.boxes.shape, found.scores.shape, found.landmarks.shape
    ((0, 4), (0,), (0, 5, 2))
    """
    if stages not in (1, 2, 3):
        raise ValueError(f"stages must be 1 (P-Net), 2 (R-Net) or 3 (O-Net), got {stages}")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
    if min_face_size < 1:
        raise ValueError(f"min_face_size must be >= 1 pixel, got {min_face_size}")
    rgb = _as_rgb_uint8(image)
    options: dict[str, Any] = {"min_face_size": int(min_face_size)}
    if min_confidence is not None:
        threshold = ("threshold_pnet", "threshold_rnet", "threshold_onet")[stages - 1]
        options[threshold] = float(min_confidence)
    found = _mtcnn(device, stages).detect_faces(
        rgb, box_format="xyxy", output_type="numpy", **options
    )
    # one row per face: [image index, x1, y1, x2, y2, score, 5 landmark x's, 5 landmark y's]
    rows = np.asarray(found, dtype=np.float64)
    if rows.size == 0:  # mtcnn's "no face" can have 6 or 16 columns
        rows = np.empty((0, 16))
    rows = rows[np.argsort(-rows[:, 5], kind="stable")]
    if stages == 3:
        landmarks = np.stack([rows[:, 6:11], rows[:, 11:16]], axis=-1)
    else:
        landmarks = np.zeros((len(rows), 0, 2))
    return FaceDetections(
        rows[:, 1:5].astype(np.float32),
        rows[:, 5].astype(np.float32),
        np.zeros(len(rows), np.int64),
        landmarks.astype(np.float32),
    )


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
        from ai_edge_litert.interpreter import Interpreter
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
