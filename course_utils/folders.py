"""Building and checking folder views: class folders, layout checks, per-class subsets.

A dataset on disk is one folder of images per class, optionally under split
folders (``train/``, ``validation/``). :func:`subset_per_class` makes a checked,
deterministic view of at most N images per class folder, under
``<data_dir>/subsets/``, without ever modifying the source::

    >>> import tempfile
    >>> from pathlib import Path
    >>> from course_utils.folders import count_images
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("train/cats/a.jpg", "train/cats/b.png", "train/dogs/c.jpg", "notes.txt"):
    ...     (root / name).parent.mkdir(parents=True, exist_ok=True)
    ...     _ = (root / name).write_bytes(b"")
    >>> count_images(root)
    {'train/cats': 2, 'train/dogs': 1}
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_utils.archives import file_lock
from course_utils.datasets import data_dir

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class ClassFolderError(ValueError):
    """A class folder is empty, unreadable, or missing from one split."""


def image_files(folder: Path) -> list[Path]:
    """The files directly in ``folder`` whose suffix is an image's (any case), sorted.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("b.JPG", "a.png", "notes.txt"):
    ...     _ = (d / name).write_bytes(b"")
    >>> [p.name for p in image_files(d)]
    ['a.png', 'b.JPG']
    """
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def class_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` that directly holds image files, sorted.

    >>> class_folders(Path("/nonexistent"))
    []
    """
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in sorted(root.rglob("*")) if p.is_dir() and image_files(p)]
    return found + ([root] if image_files(root) else [])


@dataclass(frozen=True)
class FolderView:
    """A read-only view of an image folder made by :func:`subset_per_class`."""

    path: Path
    counts: dict[str, int]
    skipped: list[tuple[str, str]]
    converted: list[tuple[str, str]]

    def summary(self) -> str:
        """One line: images per class folder, and how many were converted or skipped.

        >>> view = FolderView(Path("v"), {"cats": 2, "dogs": 1}, [("dogs/x.jpg", "empty file")], [])
        >>> view.summary()
        '3 images (cats: 2, dogs: 1); 0 converted to RGB, 1 unreadable skipped'
        """
        per = ", ".join(f"{k}: {v}" for k, v in self.counts.items())
        return (
            f"{sum(self.counts.values())} images ({per}); "
            f"{len(self.converted)} converted to RGB, {len(self.skipped)} unreadable skipped"
        )


def _is_hidden(folder: Path) -> bool:
    return folder.name.startswith((".", "__"))  # .ipynb_checkpoints, __MACOSX


def _check_class_layout(
    source: Path, folders: list[Path], class_names: Sequence[str] | None
) -> None:
    """Every split must hold the same class folders, none of them without images."""
    splits = sorted({f.parent for f in folders if f != source})
    seen: dict[Path, set[str]] = {}
    for split in splits:
        classes = {d.name for d in split.iterdir() if d.is_dir() and not _is_hidden(d)}
        for name in sorted(classes):
            if not image_files(split / name):
                raise ClassFolderError(
                    f"Class folder {split / name} has no image files. "
                    "image_dataset_from_directory would still count it as a class (with no "
                    "examples), shifting every label after it. Add images or remove the folder."
                )
        seen[split] = classes
    every = set().union(*seen.values()) | set(class_names or [])
    for split, classes in seen.items():
        if missing := sorted(every - classes):
            raise ClassFolderError(
                f"{split} has no class folder {', '.join(map(repr, missing))}, which "
                f"{'the dataset has' if class_names else 'another split has'}: the labels of "
                "the splits would not match. Add the folder (with images) or remove the class "
                "everywhere."
            )


def subset_per_class(
    source: Path,
    per_class: int | None,
    *,
    seed: int = 0,
    root: Path | None = None,
    class_names: Sequence[str] | None = None,
) -> FolderView:
    """A deterministic, checked subset with at most ``per_class`` images per class folder.

    The subset has the same layout as ``source`` (splits and class folders),
    so ``image_dataset_from_directory`` reads it like the original. Good files
    are symbolic links (copies where links are impossible); grey, CMYK,
    palette, 16-bit and alpha images become RGB PNG copies; unreadable files
    are skipped and counted. A class folder that is empty (or holds only
    unreadable files), or missing from one split (or from ``class_names``),
    raises :class:`ClassFolderError` naming it. The subset lives under
    ``<data_dir>/subsets/`` and the source is never modified.
    ``per_class=None`` keeps every usable image. The same arguments always
    give the same files, and a finished subset is reused.

    >>> import tempfile
    >>> from PIL import Image
    >>> src = Path(tempfile.mkdtemp()) / "pets"
    >>> for name in ("cats/a.png", "cats/b.png", "dogs/c.png", "dogs/d.png"):
    ...     (src / name).parent.mkdir(parents=True, exist_ok=True)
    ...     Image.new("RGB", (4, 4)).save(src / name)
    >>> view = subset_per_class(src, 1, root=src.parent / "cache")
    >>> view.counts, view.path.relative_to(src.parent).as_posix()
    ({'cats': 1, 'dogs': 1}, 'cache/subsets/pets-1-seed0')
    """
    source = Path(source)
    if per_class is not None and per_class < 1:
        raise ValueError(f"per_class must be a positive integer or None, got {per_class}")
    if not source.is_dir():
        raise FileNotFoundError(f"No such folder: {source}")
    folders = [f for f in class_folders(source) if not _is_hidden(f)]
    if not folders:
        raise FileNotFoundError(f"No class folders with images under {source}")
    _check_class_layout(source, folders, class_names)
    base = Path(root) if root is not None else data_dir()
    label = "all" if per_class is None else str(per_class)
    target = base / "subsets" / f"{source.name}-{label}-seed{seed}"
    key = {"source": str(source.resolve()), "per_class": per_class, "seed": seed}
    view = _saved_view(target, key)
    if view is not None:
        return view
    with file_lock(target):  # two notebooks building the same subset take turns
        view = _saved_view(target, key)
        if view is None:
            view = _build_subset(source, folders, per_class, seed, target, key)
    return view


def _saved_view(target: Path, key: dict[str, Any]) -> FolderView | None:
    manifest = target / ".subset.json"
    if not manifest.is_file():
        return None
    saved = json.loads(manifest.read_text())
    if saved.get("key") != key:
        return None
    return FolderView(
        target, saved["counts"], [tuple(x) for x in saved["skipped"]],
        [tuple(x) for x in saved["converted"]],
    )


def _build_subset(
    source: Path, folders: list[Path], per_class: int | None, seed: int, target: Path,
    key: dict[str, Any],
) -> FolderView:
    from PIL import Image

    from course_utils.images import check_image, load_image

    staging = Path(tempfile.mkdtemp(prefix=f".partial-{target.name}-", dir=target.parent))
    counts: dict[str, int] = {}
    skipped: list[tuple[str, str]] = []
    converted: list[tuple[str, str]] = []
    try:
        for folder in folders:
            rel = folder.relative_to(source).as_posix()
            files = [p.name for p in image_files(folder)]
            random.Random(f"{seed}:{rel}").shuffle(files)
            out = staging / rel
            out.mkdir(parents=True, exist_ok=True)
            kept = 0
            for fname in files:
                if per_class is not None and kept >= per_class:
                    break
                src = (folder / fname).resolve()
                status, detail = check_image(src)
                if status == "bad":
                    skipped.append((f"{rel}/{fname}", detail or ""))
                    continue
                if status == "convert":
                    Image.fromarray(load_image(src)).save(out / (Path(fname).stem + ".png"))
                    converted.append((f"{rel}/{fname}", detail or ""))
                else:
                    try:
                        (out / fname).symlink_to(src)
                    except OSError:
                        shutil.copy2(src, out / fname)
                kept += 1
            if kept == 0:
                raise ClassFolderError(
                    f"Class folder {folder} has no usable images: all {len(files)} files "
                    f"were unreadable ({'; '.join(f'{n}: {why}' for n, why in skipped[-3:])})."
                )
            counts[rel] = kept
        record = {"key": key, "counts": counts, "skipped": skipped, "converted": converted}
        (staging / ".subset.json").write_text(json.dumps(record))
        if target.exists():
            shutil.rmtree(target)  # an outdated subset that this function generated
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return FolderView(target, counts, skipped, converted)


def count_images(root: Path) -> dict[str, int]:
    """Number of images per class folder (keys relative to ``root``).

    >>> count_images(Path("/nonexistent"))
    {}
    """
    root = Path(root)
    return {
        f.relative_to(root).as_posix() or ".": len(image_files(f)) for f in class_folders(root)
    }
