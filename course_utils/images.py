"""Load photos for the lessons, and find the files that would break a pipeline.

Problems a real photo folder has: zero-byte files, truncated downloads, files
that are not images at all or cannot be read, huge images, and images that
are CMYK, grey, 16-bit or carry an alpha channel. :func:`load_image` turns
the convertible ones into plain RGB and
raises :class:`BadImageError` (naming the file) for the rest;
:func:`scan_images` and :func:`load_images` skip and count. Nothing here ever
writes to, moves or deletes a user's file::

    >>> from course_utils.images import sample_image
    >>> sample_image("china").shape
    (427, 640, 3)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

SAMPLE_IMAGES = ("china", "flower")
#: Images with more pixels than this are refused before decoding (the limit
#: admits a 10000 x 10000 photo, about 300 MB once decoded to RGB).
MAX_PIXELS = 100_000_000


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

    def summary(self) -> str:
        """One line: counts of good, converted and skipped files.

        >>> ScanReport().summary()
        '0 images ok, 0 converted to RGB, 0 skipped as unreadable'
        """
        return (
            f"{len(self.ok)} images ok, {len(self.converted)} converted to RGB, "
            f"{len(self.bad)} skipped as unreadable"
        )


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


def _open_rgb(path: Path) -> tuple[Image.Image, str | None]:
    """Decode ``path`` fully; return an RGB image and the original mode if converted."""
    if not path.is_file():
        raise BadImageError(path, "no such file")
    if path.stat().st_size == 0:
        raise BadImageError(path, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            # The pixel limit below replaces Pillow's decompression-bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise BadImageError(
                        path,
                        f"too large ({width} x {height} = {width * height:,} pixels; "
                        f"the limit is {MAX_PIXELS:,}): shrink it first",
                    )
                img.load()  # decode every byte now: truncated files fail here
                mode = img.mode
                if mode == "RGB":
                    return img.copy(), None
                if mode.startswith("I;16") or mode == "I":
                    return _sixteen_bit_to_rgb(img), mode
                if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
                    rgba = img.convert("RGBA")
                    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    return Image.alpha_composite(background, rgba).convert("RGB"), mode
                return img.convert("RGB"), mode
    except BadImageError:
        raise  # the pixel limit above
    except PermissionError:
        raise BadImageError(path, "cannot be read (permission denied)") from None
    except UnidentifiedImageError:
        raise BadImageError(path, "not an image file (unrecognised format)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise BadImageError(path, f"corrupt or truncated image ({err})") from None


def load_image(path: Path | str, target_size: tuple[int, int] | None = None) -> np.ndarray:
    """Load ``path`` as a uint8 RGB array ``[height, width, 3]``.

    Grey, CMYK, palette and alpha images are converted to RGB (alpha is
    composited on white); ``target_size=(height, width)`` resizes with
    bilinear filtering. Unreadable files raise :class:`BadImageError`.

    >>> load_image("missing.jpg")
    Traceback (most recent call last):
    ...
    course_utils.images.BadImageError: missing.jpg: no such file
    """
    img, _ = _open_rgb(Path(path))
    if target_size is not None:
        height, width = target_size
        img = img.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def check_image(path: Path | str) -> tuple[str, str | None]:
    """Classify one file: ``("ok", None)``, ``("convert", mode)`` or ``("bad", reason)``.

    >>> check_image("missing.jpg")
    ('bad', 'no such file')
    """
    try:
        _, mode = _open_rgb(Path(path))
    except BadImageError as err:
        return "bad", err.reason
    return ("ok", None) if mode is None else ("convert", mode)


def scan_images(paths: Path | str | Iterable[Path | str]) -> ScanReport:
    """Check every image in a folder (recursively) or in a list of paths.

    >>> scan_images([]).summary()
    '0 images ok, 0 converted to RGB, 0 skipped as unreadable'
    """
    if isinstance(paths, (str, Path)):
        root = Path(paths)
        files: Iterable[Path | str] = sorted(p for p in root.rglob("*") if p.is_file())
    else:
        files = paths
    report = ScanReport()
    for item in files:
        status, detail = check_image(item)
        if status == "ok":
            report.ok.append(Path(item))
        elif status == "convert":
            report.converted.append((Path(item), detail or ""))
        else:
            report.bad.append((Path(item), detail or ""))
    return report


def load_images(
    paths: Iterable[Path | str], target_size: tuple[int, int]
) -> tuple[np.ndarray, list[Path], ScanReport]:
    """Load many files into one uint8 batch, skipping and counting the bad ones.

    Returns ``(batch, loaded_paths, report)``; ``batch`` is
    ``[n_loaded, height, width, 3]``.

    >>> batch, loaded, report = load_images([], (8, 8))
    >>> batch.shape, report.summary()
    ((0, 8, 8, 3), '0 images ok, 0 converted to RGB, 0 skipped as unreadable')
    """
    arrays, loaded, report = [], [], ScanReport()
    for item in paths:
        path = Path(item)
        try:
            img, mode = _open_rgb(path)
        except BadImageError as err:
            report.bad.append((path, err.reason))
            continue
        if mode is None:
            report.ok.append(path)
        else:
            report.converted.append((path, mode))
        height, width = target_size
        arrays.append(np.asarray(img.resize((width, height), Image.Resampling.BILINEAR)))
        loaded.append(path)
    batch = np.stack(arrays) if arrays else np.zeros((0, *target_size, 3), np.uint8)
    return batch, loaded, report
