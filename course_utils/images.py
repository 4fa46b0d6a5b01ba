"""Load photos for the lessons, and find the files that would break a pipeline.

Problems a real photo folder has: zero-byte files, truncated downloads, files
that are not images at all or cannot be read, huge images, images that are
CMYK, grey, 16-bit or carry an alpha channel, phone photos stored sideways
with an EXIF orientation tag, and formats TensorFlow does not decode (TIFF,
WebP, AVIF, JPEG 2000, 16-bit BMP; HEIC needs ``pillow-heif``).
:func:`load_image` turns the readable ones into plain, upright RGB and raises
:class:`BadImageError` (naming the file) for the rest; :func:`check_image`
says whether ``tf.io.decode_image`` reads a file as it is (``"ok"``), only
after conversion (``"convert"``) or not at all (``"bad"``);
:func:`scan_images` and :func:`load_images` skip and count. Hidden files and
folders (``.DS_Store``, AppleDouble ``._photo.jpg``, ``.ipynb_checkpoints``) and
``__MACOSX`` are ignored wherever they are (:func:`image_paths`). Nothing here
ever writes to, moves or deletes a user's file::

    >>> from course_utils.images import sample_image
    >>> sample_image("china").shape
    (427, 640, 3)
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

SAMPLE_IMAGES = ("china", "flower")
#: Images with more pixels than this are refused before decoding (the limit
#: admits a 10000 x 10000 photo, about 300 MB once decoded to RGB).
MAX_PIXELS = 100_000_000
#: The suffixes (any case) ``keras.utils.image_dataset_from_directory`` lists; it then
#: decodes with ``tf.io.decode_image``, which picks the decoder from the content.
KERAS_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
#: A file with one of these suffixes is an image to the course: Keras's, and what phones,
#: scanners and the web also give (each is read or converted, or skipped with a reason).
IMAGE_SUFFIXES = (*KERAS_SUFFIXES, ".webp", ".tif", ".tiff", ".avif", ".jp2", ".heic", ".heif")
#: Contents (Pillow's format names) that ``tf.io.decode_image`` may read as they are: MPO
#: is a camera's JPEG with extra pictures appended, of which TensorFlow reads the first.
TENSORFLOW_FORMATS = ("JPEG", "MPO", "PNG", "BMP", "GIF")
#: ISO media files (brand at bytes 8-12) that this Pillow cannot open without a plug-in.
_PLUGIN_NEEDED = {
    **dict.fromkeys(
        (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"),
        "HEIC needs pillow-heif (pip install pillow-heif, then pillow_heif.register_heif_opener())",
    ),
    **dict.fromkeys((b"avif", b"avis"), "AVIF needs a Pillow built with AVIF support"),
}


class BadImageError(ValueError):
    """A file that cannot be decoded into an image; ``path`` and ``reason`` say why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass
class ScanReport:
    """What :func:`scan_images` found: good files, files needing conversion, bad files."""

    ok: list[Path] = field(default_factory=list)
    converted: list[tuple[Path, str]] = field(default_factory=list)
    bad: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def usable(self) -> list[Path]:
        """Files that load (as they are or after conversion to RGB), in scan order."""
        converted = {p for p, _ in self.converted}
        return sorted(set(self.ok) | converted)

    def add(self, path: Path, status: str, detail: str | None) -> None:
        """Count ``path`` under ``status`` (``"ok"``, ``"convert"`` or ``"bad"``, as checked).

        >>> report = ScanReport()
        >>> report.add(Path("scan.tif"), "convert", "TIFF")
        >>> report.converted
        [(PosixPath('scan.tif'), 'TIFF')]
        """
        if status == "ok":
            self.ok.append(path)
        elif status == "convert":
            self.converted.append((path, detail or ""))
        else:
            self.bad.append((path, detail or ""))

    def summary(self) -> str:
        """One line: counts of good, converted and skipped files.

        >>> ScanReport().summary()
        '0 images ok, 0 converted to RGB, 0 skipped as unreadable'
        """
        return (
            f"{len(self.ok)} images ok, {len(self.converted)} converted to RGB, "
            f"{len(self.bad)} skipped as unreadable"
        )


@dataclass(frozen=True)
class ImageCheck:
    """What :func:`inspect_image` found in one file.

    ``status`` is ``"ok"`` (``tf.io.decode_image`` reads the file as it is), ``"convert"``
    (TensorFlow needs a converted copy; ``detail`` says why) or ``"bad"`` (``detail`` is the
    reason); ``image`` holds the pixels as :func:`load_image` gives them (None when bad).
    """

    status: str
    detail: str | None = None
    image: Image.Image | None = None


class _Decoded(NamedTuple):
    image: Image.Image  # 8-bit RGB, upright, the first page or frame
    mode: str  # the file's own mode: "RGB", "L", "CMYK", "I;16", "P", ...
    format: str  # what the content is, in Pillow's words: "JPEG", "TIFF", "WEBP", ...
    orientation: int  # the EXIF orientation (1: upright, or no tag)
    frames: int  # pages or animation frames in the file


def is_ignored(name: str, folder: bool = False) -> bool:
    """Whether the course skips this file or folder name, wherever it is, as debris.

    Hidden names (``.DS_Store``, a Mac's AppleDouble ``._photo.jpg``,
    ``.ipynb_checkpoints``) and, for folders, ``__MACOSX`` (from a Mac-made zip)
    and other ``__`` names; Keras likewise skips hidden class folders:

    >>> [is_ignored(name) for name in ("._cat.jpg", ".DS_Store", "cat.jpg")]
    [True, True, False]
    >>> is_ignored("__MACOSX", folder=True), is_ignored("cats", folder=True)
    (True, False)
    """
    return name.startswith(".") or (folder and name.startswith("__"))


def image_paths(root: Path | str, recursive: bool = True) -> list[Path]:
    """The image files under ``root`` (by suffix, any case: :data:`IMAGE_SUFFIXES`), sorted.

    What :func:`is_ignored` names is skipped wherever it is; links to folders are
    followed (not back up the tree); ``recursive=False`` lists ``root`` itself only.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("cats/a.JPG", "cats/._a.JPG", "__MACOSX/cats/._a.JPG", "cats/notes.txt"):
    ...     (root / name).parent.mkdir(parents=True, exist_ok=True)
    ...     _ = (root / name).write_bytes(b"")
    >>> [p.relative_to(root).as_posix() for p in image_paths(root)]
    ['cats/a.JPG']
    """
    found: list[Path] = []
    above: dict[str, frozenset[str]] = {}  # folder -> the real folders it lies in
    for top, folders, files in os.walk(root, followlinks=True):
        chain = above.pop(top, frozenset()) | {os.path.realpath(top)}
        folders[:] = [
            name
            for name in folders
            if recursive
            and not is_ignored(name, folder=True)
            and os.path.realpath(os.path.join(top, name)) not in chain  # no link loops
        ]
        above.update((os.path.join(top, name), chain) for name in folders)
        found += [
            Path(top, name)
            for name in files
            if not is_ignored(name)
            and os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES
            and os.path.isfile(os.path.join(top, name))  # not a dangling link, a pipe...
        ]
    return sorted(found)


def sample_image(name: str) -> np.ndarray:
    """One of scikit-learn's bundled sample photos (``china`` or ``flower``), uint8 RGB.

    >>> sample_image("flower").dtype
    dtype('uint8')
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"Unknown sample image {name!r}; choose one of {SAMPLE_IMAGES}")
    from sklearn.datasets import load_sample_image

    return load_sample_image(f"{name}.jpg")


def sample_images(scale: bool = True) -> np.ndarray:
    """Both sample photos as a batch ``[2, 427, 640, 3]``, float32 in [0, 1] when ``scale``.

    >>> sample_images().shape
    (2, 427, 640, 3)
    """
    batch = np.stack([sample_image(n) for n in SAMPLE_IMAGES])
    return (batch / 255.0).astype(np.float32) if scale else batch


def _sixteen_bit_to_rgb(img: Image.Image) -> Image.Image:
    """A 16-bit grey image (mode ``I;16*`` or ``I``) scaled down to 8-bit RGB."""
    values = np.clip(np.asarray(img, dtype=np.int64), 0, 65535) >> 8
    return Image.fromarray(values.astype(np.uint8)).convert("RGB")  # 2-D uint8: mode "L"


def _to_rgb(img: Image.Image) -> Image.Image:
    """``img`` as 8-bit RGB (itself when it is): 16-bit scaled down, alpha over white."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I;16") or mode == "I":
        return _sixteen_bit_to_rgb(img)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def _unidentified(path: Path) -> str:
    """Why Pillow did not recognise ``path``: a format that needs a plug-in, or no image."""
    with open(path, "rb") as file:
        head = file.read(12)
    brand = head[8:12] if head[4:8] == b"ftyp" else b""
    return _PLUGIN_NEEDED.get(brand, "not an image file (unrecognised format)")


def _open_rgb(path: Path) -> _Decoded:
    """Decode ``path`` fully with Pillow: upright 8-bit RGB, and what the file held."""
    if not path.is_file():
        raise BadImageError(path, "no such file")
    if path.stat().st_size == 0:
        raise BadImageError(path, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            # The pixel limit below replaces Pillow's decompression-bomb warning, and a
            # damaged EXIF block (read for the orientation only) just means "upright".
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", "Corrupt EXIF data", UserWarning)
            with Image.open(path) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise BadImageError(
                        path,
                        f"too large ({width} x {height} = {width * height:,} pixels; "
                        f"the limit is {MAX_PIXELS:,}): shrink it first",
                    )
                img.load()  # decode every byte now: truncated files fail here
                orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
                orientation = orientation if orientation in range(2, 9) else 1
                rgb = _to_rgb(ImageOps.exif_transpose(img) if orientation != 1 else img)
                return _Decoded(
                    rgb.copy() if rgb is img else rgb,  # the file closes below
                    img.mode,
                    img.format or "unknown",
                    orientation,
                    getattr(img, "n_frames", 1),
                )
    except BadImageError:
        raise  # the pixel limit above
    except PermissionError:
        raise BadImageError(path, "cannot be read (permission denied)") from None
    except UnidentifiedImageError:
        raise BadImageError(path, _unidentified(path)) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise BadImageError(path, f"corrupt or truncated image ({err})") from None


def load_image(path: Path | str, target_size: tuple[int, int] | None = None) -> np.ndarray:
    """Load ``path`` as a uint8 RGB array ``[height, width, 3]``, upright.

    Grey, CMYK, palette, 16-bit and alpha images are converted to RGB (alpha is
    composited on white); a phone photo's EXIF orientation is applied; a
    multi-page TIFF or an animated GIF or WebP gives its first page or frame;
    ``target_size=(height, width)`` resizes with bilinear filtering. Unreadable
    files raise :class:`BadImageError`.

    >>> load_image("missing.jpg")
    Traceback (most recent call last):
    ...
    course_utils.images.BadImageError: missing.jpg: no such file
    """
    return _pixels(_open_rgb(Path(path)).image, target_size)


def _pixels(img: Image.Image, target_size: tuple[int, int] | None) -> np.ndarray:
    """``img`` as a uint8 array, resized (bilinear) to ``target_size=(height, width)`` if given."""
    if target_size is not None:
        height, width = target_size
        img = img.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def _tensorflow_problem(path: Path, decoded: _Decoded) -> str | None:
    """Why ``tf.io.decode_image``, called as ``image_dataset_from_directory`` calls it, cannot
    take ``path`` as it is (it fails, or differs from Pillow in size or, lossless, in pixels)."""
    import tensorflow as tf

    with open(path, "rb") as file:
        contents = file.read()
    try:
        pixels = tf.io.decode_image(contents, channels=3, expand_animations=False).numpy()
    except tf.errors.OpError as err:
        message = re.sub(r"\{\{.*?\}\}|\[Op:\w+\]", "", err.message).strip()
        return f"TensorFlow cannot decode this {decoded.format} ({message})"
    expected = np.asarray(decoded.image)
    if pixels.shape != expected.shape:
        return f"TensorFlow reads this {decoded.format} as {pixels.shape[1]} x {pixels.shape[0]}"
    if decoded.format not in ("JPEG", "MPO") and not np.array_equal(pixels, expected):
        return f"TensorFlow decodes this {decoded.format} to other pixels"
    return None


def _conversions(path: Path, decoded: _Decoded) -> list[str]:
    """What stops TensorFlow from reading ``path`` as it is; empty when nothing does."""
    why = [] if decoded.mode == "RGB" else [decoded.mode]
    if decoded.format not in TENSORFLOW_FORMATS:
        why.append(decoded.format)
    elif path.suffix.lower() not in KERAS_SUFFIXES:
        why.append(f"{decoded.format} named {path.suffix}")  # Keras would not list it
    if decoded.orientation != 1:
        why.append(f"EXIF orientation {decoded.orientation}")  # TensorFlow ignores the tag
    if not why and (problem := _tensorflow_problem(path, decoded)):
        why.append(problem)
    if why and decoded.frames > 1 and decoded.format != "MPO":
        why.append(f"first of {decoded.frames} frames")
    return why


def inspect_image(path: Path | str) -> ImageCheck:
    """Decode ``path`` (as :func:`load_image` does) and say whether TensorFlow reads it as it is.

    A file is ``"ok"`` only if it is 8-bit RGB JPEG, PNG or BMP content under a name
    Keras lists, upright, and ``tf.io.decode_image`` gives the same size (and, for
    lossless formats, the same pixels); otherwise ``"convert"`` says why:

    >>> import tempfile
    >>> scan = Path(tempfile.mkdtemp()) / "scan.tif"
    >>> Image.new("RGB", (4, 2)).save(scan)
    >>> check = inspect_image(scan)
    >>> check.status, check.detail, check.image.size
    ('convert', 'TIFF', (4, 2))
    """
    try:
        decoded = _open_rgb(Path(path))
    except BadImageError as err:
        return ImageCheck("bad", err.reason)
    why = _conversions(Path(path), decoded)
    return ImageCheck("convert" if why else "ok", ", ".join(why) or None, decoded.image)


def check_image(path: Path | str) -> tuple[str, str | None]:
    """Classify one file: ``("ok", None)``, ``("convert", why)`` or ``("bad", reason)``.

    ``why`` names the mode (``"L"``, ``"CMYK"``, ``"I;16"``, ``"RGBA"``...), a format
    TensorFlow does not decode (``"TIFF"``, ``"WEBP"``...), an EXIF orientation, or what
    TensorFlow does wrong (:func:`inspect_image`).

    >>> check_image("missing.jpg")
    ('bad', 'no such file')
    """
    check = inspect_image(path)
    return check.status, check.detail


def _paths(paths: Path | str | Iterable[Path | str]) -> list[Path]:
    """The files meant: a folder's images (:func:`image_paths`), one file, or a list of paths."""
    if isinstance(paths, (str, os.PathLike)):
        path = Path(paths)
        if path.is_dir():
            return image_paths(path)
        if not path.exists():
            raise FileNotFoundError(f"No such file or folder: {path}")
        return [path]
    if not isinstance(paths, Iterable):
        raise TypeError(f"Expected a file, a folder or a list of paths, got {paths!r}")
    items = list(paths)
    if wrong := [item for item in items if not isinstance(item, (str, os.PathLike))]:
        raise TypeError(f"Expected paths (str or Path) in the list, got {wrong[0]!r}")
    return [Path(item) for item in items]


def scan_images(paths: Path | str | Iterable[Path | str]) -> ScanReport:
    """Check every image in a folder (recursively, as :func:`image_paths` lists them), one
    file, or a list of paths (:func:`check_image`).

    >>> scan_images([]).summary()
    '0 images ok, 0 converted to RGB, 0 skipped as unreadable'
    >>> scan_images("no_such_folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: No such file or folder: no_such_folder
    """
    report = ScanReport()
    for path in _paths(paths):
        report.add(path, *check_image(path))
    return report


def load_images(
    paths: Path | str | Iterable[Path | str], target_size: tuple[int, int]
) -> tuple[np.ndarray, list[Path], ScanReport]:
    """Load a folder's images, one file or a list of files into one uint8 batch, skipping and
    counting the bad ones (counted as :func:`scan_images` counts them).

    Returns ``(batch, loaded_paths, report)``; ``batch`` is
    ``[n_loaded, height, width, 3]``.

    >>> batch, loaded, report = load_images([], (8, 8))
    >>> batch.shape, report.summary()
    ((0, 8, 8, 3), '0 images ok, 0 converted to RGB, 0 skipped as unreadable')
    """
    arrays, loaded, report = [], [], ScanReport()
    for path in _paths(paths):
        check = inspect_image(path)
        report.add(path, check.status, check.detail)
        if check.image is not None:
            arrays.append(_pixels(check.image, target_size))
            loaded.append(path)
    batch = np.stack(arrays) if arrays else np.zeros((0, *target_size, 3), np.uint8)
    return batch, loaded, report
