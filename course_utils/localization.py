"""A localisation dataset the course generates itself, from real photos (lessons 07-08).

Labelled boxes normally come from people drawing them (VGG Image Annotator,
LabelImg, crowdsourcing). To have thousands of exact boxes with no download
and no annotation, we *make* the scenes: a real flower photo (the object,
whose class we know) is cut out along a random smooth outline and pasted,
at a random position and size that we record, onto a background that does
not compete with it: a close-up of a cat or dog photo (fur, carpet, a
sofa), blurred like an out-of-focus backdrop. The same arguments always
give the same images, boxes and labels::

    >>> data = make_localization_set(8, 96, split="train", seed=0)  # doctest: +SKIP
    >>> data.images.shape, data.boxes.shape, data.class_names[:2]  # doctest: +SKIP
    ((8, 96, 96, 3), (8, 4), ('daisy', 'dandelion'))

Train, validation and test scenes are built from disjoint photos: each
source photo is assigned to a split by a hash of its file name,
independently of ``seed``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from course_utils import boxes as box_ops
from course_utils import datasets, folders
from course_utils.images import load_image

SPLITS = ("train", "validation", "test")
SHAPES = ("blob", "ellipse")
OBJECT_DATASET = "flower_photos"
BACKGROUND_DATASET = "cats_and_dogs_filtered"
PATCH_CLASSES = ("background", "flower")


@dataclass(frozen=True)
class LocalizationSet:
    """Generated scenes: ``images`` uint8 ``[n, s, s, 3]``, ``labels`` int32 ``[n]``,
    ``boxes`` float32 ``[n, 4]`` normalised (in ``box_format``) and ``masks`` uint8
    ``[n, s, s]`` (1 where the object is)."""

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    masks: np.ndarray
    class_names: tuple[str, ...]
    box_format: str

    def __len__(self) -> int:
        return len(self.labels)

    def corners(self) -> np.ndarray:
        """The boxes in corner format, whatever ``box_format`` is."""
        return box_ops.to_corners(self.boxes, self.box_format).astype(np.float32)

    def to_dataset(self, batch_size: int = 32, shuffle: bool = False, seed: int = 0) -> Any:
        """A batched ``tf.data.Dataset`` of ``(images, (class_labels, boxes))``.

        Images stay in [0, 255] (float32); the model rescales them itself.
        """
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((self.images, (self.labels, self.boxes)))
        if shuffle:
            ds = ds.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
        ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y))
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _split_of(relative_path: str, test_fraction: float, validation_fraction: float = 0.0) -> str:
    """``train``, ``validation`` or ``test`` for a source file, from a stable hash of its path.

    >>> _split_of("daisy/100080576_f52e8ee070_n.jpg", 0.2, 0.2)
    'train'
    """
    digest = hashlib.sha256(relative_path.encode("utf-8")).digest()
    u = int.from_bytes(digest[:4], "big") / 2**32
    if u < test_fraction:
        return "test"
    return "validation" if u < test_fraction + validation_fraction else "train"


def _check_fractions(test_fraction: float, validation_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    if not 0.0 <= validation_fraction < 1.0 - test_fraction:
        raise ValueError(
            f"validation_fraction must be >= 0 and leave photos for training "
            f"(< 1 - test_fraction = {1.0 - test_fraction:.2f}), got {validation_fraction}"
        )


def _files_by_class(root: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for folder in folders.class_folders(root):
        files = folders.image_files(folder)
        if files:
            found[folder.relative_to(root).as_posix()] = files
    return found


def source_files(
    root: Path, split: str, test_fraction: float = 0.2, validation_fraction: float = 0.15
) -> dict[str, list[Path]]:
    """Image files per class folder of ``root`` that belong to ``split``.

    About ``test_fraction`` of the photos go to ``test``, ``validation_fraction``
    to ``validation`` and the rest to ``train``.

    >>> source_files(Path("/nonexistent"), "train")
    {}
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    _check_fractions(test_fraction, validation_fraction)
    out = {}
    for name, files in _files_by_class(Path(root)).items():
        chosen = [
            f
            for f in files
            if _split_of(f"{name}/{f.name}", test_fraction, validation_fraction) == split
        ]
        if chosen:
            out[name] = chosen
    return out


def _resolve_sources(
    split: str,
    per_class: int | None,
    object_root: Path | None,
    background_root: Path | None,
    test_fraction: float,
    validation_fraction: float = 0.15,
) -> tuple[list[str], list[list[Path]], list[Path]]:
    if object_root is None:
        object_root = folders.subset_per_class(
            datasets.get_dataset(OBJECT_DATASET), per_class, seed=0
        ).path
    if background_root is None:
        background_root = folders.subset_per_class(
            datasets.get_dataset(BACKGROUND_DATASET), per_class, seed=0
        ).path
    objects = source_files(object_root, split, test_fraction, validation_fraction)
    if not objects:
        raise FileNotFoundError(
            f"no object images for split {split!r} under {object_root} "
            "(expected one sub-folder of images per class)"
        )
    all_classes = sorted(_files_by_class(Path(object_root)))
    missing = sorted(set(all_classes) - set(objects))
    if missing:
        raise FileNotFoundError(
            f"classes {missing} have no images in split {split!r} under {object_root}; "
            "use more images per class"
        )
    backgrounds = sorted(
        f
        for files in source_files(
            background_root, split, test_fraction, validation_fraction
        ).values()
        for f in files
    )
    if not backgrounds:
        raise FileNotFoundError(f"no background images for split {split!r} under {background_root}")
    return all_classes, [objects[c] for c in all_classes], backgrounds


def _resize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    return np.array(Image.fromarray(img).resize((width, height), Image.Resampling.BILINEAR))


def _random_square_crop(img: np.ndarray, rng: np.random.Generator, min_frac: float) -> np.ndarray:
    h, w = img.shape[:2]
    side = max(1, int(round(min(h, w) * rng.uniform(min_frac, 1.0))))
    top = int(rng.integers(0, h - side + 1))
    left = int(rng.integers(0, w - side + 1))
    return img[top : top + side, left : left + side]


def _center_crop(img: np.ndarray, aspect: float, keep: float = 0.85) -> np.ndarray:
    """The central part of ``img`` with width/height = ``aspect`` (the flower is usually there)."""
    h, w = img.shape[:2]
    crop_w, crop_h = w * keep, h * keep
    if crop_w / crop_h > aspect:
        crop_w = crop_h * aspect
    else:
        crop_h = crop_w / aspect
    cw, ch = max(1, int(round(crop_w))), max(1, int(round(crop_h)))
    top, left = (h - ch) // 2, (w - cw) // 2
    return img[top : top + ch, left : left + cw]


def ellipse_mask(width: int, height: int) -> np.ndarray:
    """A ``[height, width]`` 0/1 mask of the ellipse inscribed in the rectangle.

    It touches all four sides, so the rectangle is its tight bounding box.

    >>> ellipse_mask(5, 3).tolist()
    [[0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0]]
    """
    y = (np.arange(height) + 0.5 - height / 2) / (height / 2)
    x = (np.arange(width) + 0.5 - width / 2) / (width / 2)
    inside = x[None, :] ** 2 + y[:, None] ** 2 <= 1.0
    # Tiny ellipses can miss a side; make sure the middle row and column are full.
    inside[height // 2, :] = True
    inside[:, width // 2] = True
    return inside.astype(np.uint8)


def blob_mask(
    width: int, height: int, rng: np.random.Generator, wobble: float = 0.25
) -> np.ndarray:
    """A ``[height, width]`` 0/1 mask of a random smooth blob that fills the rectangle.

    The outline is a circle whose radius wobbles with a few random low
    harmonics (``wobble`` is their total amplitude: 0 gives an ellipse), like
    the rough outline of a flower head; it is stretched to touch all four
    sides, so the rectangle is its tight bounding box.

    >>> m = blob_mask(9, 6, np.random.default_rng(0))
    >>> m.shape, bool(m[0].any() and m[-1].any() and m[:, 0].any() and m[:, -1].any())
    ((6, 9), True)
    """
    theta = np.linspace(0.0, 2 * np.pi, 72, endpoint=False)
    k = np.arange(2, 6)
    amplitude = rng.dirichlet(np.ones(len(k))) * wobble
    phase = rng.uniform(0, 2 * np.pi, len(k))
    radius = 1.0 + (amplitude[:, None] * np.cos(k[:, None] * theta + phase[:, None])).sum(axis=0)
    x, y = radius * np.cos(theta), radius * np.sin(theta)
    x = (x - x.min()) / (x.max() - x.min()) * (width - 1)
    y = (y - y.min()) / (y.max() - y.min()) * (height - 1)
    canvas = Image.new("L", (width, height), 0)
    ImageDraw.Draw(canvas).polygon(list(zip(x.tolist(), y.tolist(), strict=True)), fill=1)
    return np.asarray(canvas, np.uint8)


def _background(img: np.ndarray, rng: np.random.Generator, size: int, blur: float) -> np.ndarray:
    """A close-up of ``img`` (a random square of 25-50% of its side), ``size`` pixels, blurred.

    A close-up of a pet photo shows fur, a carpet or a sofa rather than a
    whole animal, and the blur (radius ``blur`` x ``size``) makes it an
    out-of-focus backdrop that competes neither with the object's class nor
    with its outline.
    """
    h, w = img.shape[:2]
    side = max(1, int(round(min(h, w) * rng.uniform(0.25, 0.5))))
    top = int(rng.integers(0, h - side + 1))
    left = int(rng.integers(0, w - side + 1))
    crop = Image.fromarray(img[top : top + side, left : left + side])
    crop = crop.resize((size, size), Image.Resampling.BILINEAR)
    if blur > 0:
        crop = crop.filter(ImageFilter.GaussianBlur(radius=blur * size))
    return np.asarray(crop, np.uint8).copy()


def _check_sizes(n_images: int, image_size: int) -> None:
    if n_images < 1:
        raise ValueError(f"n_images must be >= 1, got {n_images}")
    if image_size < 16:
        raise ValueError(f"image_size must be >= 16 pixels, got {image_size}")


def _check_object_ranges(
    scale_range: tuple[float, float], aspect_range: tuple[float, float]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both ranges, unpacked; refuses a size range outside (0, 1] or a non-positive aspect."""
    lo, hi = scale_range
    if not 0.0 < lo <= hi <= 1.0:
        raise ValueError(f"scale_range must satisfy 0 < low <= high <= 1, got {scale_range}")
    a_lo, a_hi = aspect_range
    if not 0.0 < a_lo <= a_hi:
        raise ValueError(f"aspect_range must satisfy 0 < low <= high, got {aspect_range}")
    return (lo, hi), (a_lo, a_hi)


def make_localization_set(
    n_images: int,
    image_size: int,
    *,
    split: str = "train",
    seed: int = 0,
    per_class: int | None = None,
    box_format: str = "corners",
    scale_range: tuple[float, float] = (0.15, 0.5),
    aspect_range: tuple[float, float] = (0.6, 1.6),
    shape: str = "blob",
    background_blur: float = 0.02,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.15,
    object_root: Path | str | None = None,
    background_root: Path | str | None = None,
) -> LocalizationSet:
    """Generate ``n_images`` square scenes of ``image_size`` pixels, each with one object.

    Objects are flower photos (``flower_photos``, class = folder), cut out
    along a random smooth outline (``shape="blob"``, see :func:`blob_mask`)
    or an ellipse (``shape="ellipse"``), anywhere in the scene; the size of
    the object's box is ``scale_range`` (the square root of its area, as a
    fraction of the image side) with width/height in ``aspect_range``.
    Backgrounds are blurred close-ups of ``cats_and_dogs_filtered`` photos
    (``background_blur`` = blur radius / image side; 0 keeps them sharp).
    ``per_class`` limits the source photos per class folder (via
    :func:`course_utils.folders.subset_per_class`); ``split`` is ``"train"``,
    ``"validation"`` or ``"test"``, each built from its own photos (about
    ``test_fraction`` and ``validation_fraction`` of them for the last two).
    ``object_root`` / ``background_root`` replace the two datasets with your
    own folders (one sub-folder of images per class; any layout for
    backgrounds). Boxes are the tight boxes of the pasted objects,
    normalised to [0, 1], in ``box_format`` (``"corners"`` or ``"center"``).

    >>> make_localization_set(0, 96)
    Traceback (most recent call last):
    ...
    ValueError: n_images must be >= 1, got 0
    """
    _check_sizes(n_images, image_size)
    box_ops._check_format(box_format)
    (lo, hi), (a_lo, a_hi) = _check_object_ranges(scale_range, aspect_range)
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    if not 0.0 <= background_blur <= 0.25:
        raise ValueError(f"background_blur must be between 0 and 0.25, got {background_blur}")
    class_names, objects, backgrounds = _resolve_sources(
        split,
        per_class,
        None if object_root is None else Path(object_root),
        None if background_root is None else Path(background_root),
        test_fraction,
        validation_fraction,
    )
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    s = image_size
    images = np.empty((n_images, s, s, 3), np.uint8)
    masks = np.zeros((n_images, s, s), np.uint8)
    labels = np.empty(n_images, np.int32)
    corners = np.empty((n_images, 4), np.float32)
    for i in range(n_images):
        label = int(rng.integers(len(class_names)))
        obj_path = objects[label][int(rng.integers(len(objects[label])))]
        bg_path = backgrounds[int(rng.integers(len(backgrounds)))]
        background = _background(load_image(bg_path), rng, s, background_blur)
        side = rng.uniform(lo, hi) * s
        aspect = float(np.exp(rng.uniform(np.log(a_lo), np.log(a_hi))))
        w = int(np.clip(round(side * np.sqrt(aspect)), 4, s))
        h = int(np.clip(round(side / np.sqrt(aspect)), 4, s))
        x0 = int(rng.integers(0, s - w + 1))
        y0 = int(rng.integers(0, s - h + 1))
        patch = _resize(_center_crop(load_image(obj_path), w / h), w, h)
        mask = blob_mask(w, h, rng) if shape == "blob" else ellipse_mask(w, h)
        region = background[y0 : y0 + h, x0 : x0 + w]
        region[mask == 1] = patch[mask == 1]
        images[i] = background
        masks[i, y0 : y0 + h, x0 : x0 + w] = mask
        labels[i] = label
        ys, xs = np.nonzero(masks[i])  # the tight box of what was pasted
        corners[i] = (xs.min() / s, ys.min() / s, (xs.max() + 1) / s, (ys.max() + 1) / s)
    out_boxes = corners if box_format == "corners" else box_ops.corners_to_center(corners)
    return LocalizationSet(
        images, labels, out_boxes.astype(np.float32), masks, tuple(class_names), box_format
    )


def make_patch_set(
    n_images: int,
    image_size: int,
    *,
    split: str = "train",
    seed: int = 0,
    per_class: int | None = None,
    background_blur: float = 0.02,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.15,
    object_root: Path | str | None = None,
    background_root: Path | str | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Square patches labelled 0 = background or 1 = flower.

    Half of the patches (rounded down) are flowers: the central part of a
    flower photo; the others are backgrounds like the scenes' (a blurred
    close-up of a cat/dog photo). Lesson 08 trains a small classifier on them
    and slides it over larger scenes. Returns ``(images uint8 [n, s, s, 3], labels int32
    [n], class_names)``; the same photos-per-split rule as
    :func:`make_localization_set`.

    >>> make_patch_set(0, 64)
    Traceback (most recent call last):
    ...
    ValueError: n_images must be >= 1, got 0
    """
    _check_sizes(n_images, image_size)
    _, objects, backgrounds = _resolve_sources(
        split,
        per_class,
        None if object_root is None else Path(object_root),
        None if background_root is None else Path(background_root),
        test_fraction,
        validation_fraction,
    )
    flat_objects = [f for files in objects for f in files]
    rng = np.random.default_rng([seed, SPLITS.index(split), 8])
    labels = np.zeros(n_images, np.int32)
    labels[: n_images // 2] = 1
    rng.shuffle(labels)
    images = np.empty((n_images, image_size, image_size, 3), np.uint8)
    for i, label in enumerate(labels):
        if label == 1:
            src = load_image(flat_objects[int(rng.integers(len(flat_objects)))])
            crop = _center_crop(src, 1.0, keep=float(rng.uniform(0.5, 0.9)))
            images[i] = _resize(crop, image_size, image_size)
        else:
            src = load_image(backgrounds[int(rng.integers(len(backgrounds)))])
            images[i] = _background(src, rng, image_size, background_blur)
    return images, labels, PATCH_CLASSES


# --------------------------------------------------------------------------- several objects


@dataclass(frozen=True)
class DetectionSet:
    """Generated scenes with several objects each (lesson 08's detector).

    ``images`` uint8 ``[n, s, s, 3]``; ``boxes[i]`` float32 ``[k_i, 4]``
    normalised corners and ``labels[i]`` int32 ``[k_i]`` for image i (k_i
    objects, 1 or more).
    """

    images: np.ndarray
    boxes: tuple[np.ndarray, ...]
    labels: tuple[np.ndarray, ...]
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.images)

    def all_boxes(self) -> np.ndarray:
        """Every box of every image, ``[sum k_i, 4]`` (e.g. for k-means anchors)."""
        return np.concatenate(self.boxes).reshape(-1, 4)


def _blurred_background(path: Path, rng: np.random.Generator, size: int) -> np.ndarray:
    from PIL import ImageFilter

    crop = _resize(_random_square_crop(load_image(path), rng, 0.6), size, size)
    blurred = Image.fromarray(crop).filter(ImageFilter.GaussianBlur(radius=max(1.0, size / 48)))
    return np.array(blurred)


def make_detection_set(
    n_images: int,
    image_size: int,
    *,
    split: str = "train",
    seed: int = 0,
    per_class: int | None = None,
    classes: tuple[str, ...] | None = None,
    objects_per_image: tuple[int, int] = (1, 3),
    scale_range: tuple[float, float] = (0.25, 0.5),
    aspect_range: tuple[float, float] = (0.7, 1.4),
    max_overlap: float = 0.1,
    test_fraction: float = 0.2,
    object_root: Path | str | None = None,
    background_root: Path | str | None = None,
) -> DetectionSet:
    """Scenes with several objects each: ``n_images`` square images of ``image_size`` pixels.

    Each scene holds between ``objects_per_image[0]`` and ``[1]`` objects
    (flower photos cut to an ellipse, class = folder, only the folders named
    in ``classes`` when given) of ``scale_range`` x the image side, placed
    anywhere so that no two overlap with IoU above ``max_overlap``, on a
    blurred crop of a cat or dog photo (the blur keeps the pets from
    competing with the objects). Source photos are split as in
    :func:`make_localization_set`; the same arguments give the same scenes.

    >>> make_detection_set(2, 96, classes=("no such flower",),
    ...                    object_root="/nonexistent")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: no object images for split 'train' under /nonexistent ...
    """
    _check_sizes(n_images, image_size)
    (lo, hi), (a_lo, a_hi) = _check_object_ranges(scale_range, aspect_range)
    k_lo, k_hi = objects_per_image
    if not 1 <= k_lo <= k_hi:
        raise ValueError(
            f"objects_per_image must satisfy 1 <= low <= high, got {objects_per_image}"
        )
    if not 0.0 <= max_overlap <= 1.0:
        raise ValueError(f"max_overlap must be in [0, 1], got {max_overlap}")
    class_names, objects, backgrounds = _resolve_sources(
        split,
        per_class,
        None if object_root is None else Path(object_root),
        None if background_root is None else Path(background_root),
        test_fraction,
    )
    if classes is not None:
        unknown = sorted(set(classes) - set(class_names))
        if unknown or not classes:
            raise ValueError(
                f"classes {unknown or list(classes)} are not object folders; choose from "
                f"{class_names}"
            )
        objects = [objects[class_names.index(c)] for c in classes]
        class_names = list(classes)
    rng = np.random.default_rng([seed, SPLITS.index(split), 88])
    s = image_size
    images = np.empty((n_images, s, s, 3), np.uint8)
    all_boxes: list[np.ndarray] = []
    all_labels: list[np.ndarray] = []
    for i in range(n_images):
        scene = _blurred_background(backgrounds[int(rng.integers(len(backgrounds)))], rng, s)
        placed: list[tuple[int, int, int, int]] = []
        labels: list[int] = []
        for _ in range(int(rng.integers(k_lo, k_hi + 1))):
            label = int(rng.integers(len(class_names)))
            side = rng.uniform(lo, hi) * s
            aspect = float(np.exp(rng.uniform(np.log(a_lo), np.log(a_hi))))
            w = int(np.clip(round(side * np.sqrt(aspect)), 4, s))
            h = int(np.clip(round(side / np.sqrt(aspect)), 4, s))
            for _attempt in range(20):  # find a free spot; give up on this object if none
                x0, y0 = int(rng.integers(0, s - w + 1)), int(rng.integers(0, s - h + 1))
                box = (x0, y0, x0 + w, y0 + h)
                if not placed or box_ops.iou_matrix([box], placed).max() <= max_overlap:
                    break
            else:
                continue
            path = objects[label][int(rng.integers(len(objects[label])))]
            patch = _resize(_center_crop(load_image(path), w / h), w, h)
            mask = ellipse_mask(w, h) == 1
            scene[y0 : y0 + h, x0 : x0 + w][mask] = patch[mask]
            placed.append(box)
            labels.append(label)
        images[i] = scene
        all_boxes.append(np.array(placed, np.float32).reshape(-1, 4) / s)
        all_labels.append(np.array(labels, np.int32))
    return DetectionSet(images, tuple(all_boxes), tuple(all_labels), tuple(class_names))
