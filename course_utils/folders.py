"""Building and checking folder views: class folders, layout checks, per-class subsets.

A dataset on disk is one folder of images per class, optionally under split
folders (``train/``, ``validation/``). Hidden files and folders and ``__MACOSX``
are ignored wherever they are (:func:`course_utils.images.is_ignored`).
:func:`subset_per_class` makes a checked, deterministic view of at most N
images per class folder, under ``<data_dir>/subsets/``, that TensorFlow reads
whole, that is rebuilt when the source changes, and that never modifies the
source::

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

import hashlib
import json
import os
import random
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_utils.archives import file_lock
from course_utils.datasets import data_dir
from course_utils.images import image_paths, inspect_image, is_ignored

#: Bump when what a view holds changes: views built by older code are then rebuilt.
VIEW_FORMAT = 2


class ClassFolderError(ValueError):
    """A class folder is empty, unreadable, or missing from one split."""


def image_files(folder: Path) -> list[Path]:
    """The files directly in ``folder`` whose suffix is an image's (any case), sorted.

    Hidden ones (a Mac's ``._b.JPG``) are not images (:func:`~course_utils.images.image_paths`):

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("b.JPG", "._b.JPG", "a.png", "c.webp", "notes.txt"):
    ...     _ = (d / name).write_bytes(b"")
    >>> [p.name for p in image_files(d)]
    ['a.png', 'b.JPG', 'c.webp']
    """
    return image_paths(folder, recursive=False)


def class_folders(root: Path) -> list[Path]:
    """Every folder under ``root`` that directly holds image files, sorted (``root`` last).

    Hidden folders and ``__MACOSX`` are skipped wherever they are.

    >>> class_folders(Path("/nonexistent"))
    []
    """
    root = Path(root)
    holding = sorted({p.parent for p in image_paths(root)}) if root.is_dir() else []
    return [f for f in holding if f != root] + ([root] if root in holding else [])


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


def _utf8(name: str, errors: str) -> str:
    """``name`` as valid UTF-8: a name that is not (bytes ``b"\\xff.jpg"`` on Linux) gets
    ``errors``' stand-in (``"replace"``: U+FFFD, ``"backslashreplace"``: ``\\xff``).

    >>> _utf8(os.fsdecode(b"caf\\xe9.jpg"), "backslashreplace"), _utf8("café.jpg", "replace")
    ('caf\\\\xe9.jpg', 'café.jpg')
    """
    return name.encode("utf-8", "surrogateescape").decode("utf-8", errors)


def _check_class_layout(
    source: Path, folders: list[Path], class_names: Sequence[str] | None
) -> None:
    """Every split must hold the same class folders, none of them without images."""
    splits = sorted({f.parent for f in folders if f != source})
    seen: dict[Path, set[str]] = {}
    for split in splits:
        classes = {
            d.name for d in split.iterdir() if d.is_dir() and not is_ignored(d.name, folder=True)
        }
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
    so ``image_dataset_from_directory`` reads it like the original, and every
    file in it decodes with ``tf.io.decode_image`` as that function calls it.
    Files TensorFlow reads as they are become symbolic links (copies where
    links are impossible; a name that is not valid UTF-8 is linked under a
    safe one); the others (grey, CMYK, palette, 16-bit, alpha, TIFF, WebP,
    AVIF, JPEG 2000, BMPs TensorFlow misreads, EXIF-rotated photos: see
    :func:`~course_utils.images.check_image`) become upright RGB PNG copies
    named ``<file name>.png``, never the name of anything else; unreadable
    files are skipped and counted, each with its reason. Hidden files and
    folders and ``__MACOSX`` are ignored. A class folder that is empty (or
    holds only unreadable files), whose name is not valid UTF-8, or that is
    missing from one split (or from ``class_names``), raises
    :class:`ClassFolderError` naming it. The subset lives under
    ``<data_dir>/subsets/`` in a folder of its own source (found by its
    resolved path), and the source is never modified. ``per_class=None``
    keeps every usable image. The same arguments give the same files; a
    finished subset is reused while the source's image files (names, sizes,
    modification times, permissions) are unchanged, and rebuilt when they are not.

    >>> import tempfile
    >>> from PIL import Image
    >>> src = Path(tempfile.mkdtemp()) / "pets"
    >>> for name in ("cats/a.png", "cats/b.png", "dogs/c.png", "dogs/d.png"):
    ...     (src / name).parent.mkdir(parents=True, exist_ok=True)
    ...     Image.new("RGB", (4, 4)).save(src / name)
    >>> view = subset_per_class(src, 1, root=src.parent / "cache")
    >>> view.counts, view.path.parent.relative_to(src.parent).as_posix()
    ({'cats': 1, 'dogs': 1}, 'cache/subsets')
    >>> view.path.name.rsplit("-", 1)[0]  # and 8 hex digits of the source's resolved path
    'pets-1-seed0'
    """
    source = Path(source)
    if per_class is not None and per_class < 1:
        raise ValueError(f"per_class must be a positive integer or None, got {per_class}")
    if not source.is_dir():
        raise FileNotFoundError(f"No such folder: {source}")
    folders = class_folders(source)
    if not folders:
        raise FileNotFoundError(f"No class folders with images under {source}")
    for folder in folders:
        rel = folder.relative_to(source).as_posix()
        if _utf8(rel, "replace") != rel:
            raise ClassFolderError(
                f"Class folder {_utf8(str(folder), 'backslashreplace')} has a name that is not "
                "valid UTF-8: TensorFlow cannot read it, and a changed name would change the "
                "class. Rename the folder."
            )
    _check_class_layout(source, folders, class_names)
    listing = {folder: image_files(folder) for folder in folders}
    resolved = str(source.resolve())
    where = hashlib.sha256(resolved.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    base = Path(root) if root is not None else data_dir()
    label = "all" if per_class is None else str(per_class)
    name = _utf8(Path(resolved).name, "replace")
    target = base / "subsets" / f"{name}-{label}-seed{seed}-{where}"
    key = {
        "format": VIEW_FORMAT,
        "source": resolved,
        "per_class": per_class,
        "seed": seed,
        "files": _fingerprint(listing),
    }
    view = _saved_view(target, key)
    if view is not None:
        return view
    with file_lock(target):  # two notebooks building the same subset take turns
        view = _saved_view(target, key)
        if view is None:
            view = _build_subset(source, listing, per_class, seed, target, key)
    return view


def _fingerprint(listing: dict[Path, list[Path]]) -> str:
    """A digest of the image files' names, sizes, modification times and permissions."""
    digest = hashlib.sha256()
    for path in (p for files in listing.values() for p in files):
        info = path.stat()
        line = f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_mode}\n"
        digest.update(line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _saved_view(target: Path, key: dict[str, Any]) -> FolderView | None:
    manifest = target / ".subset.json"
    if not manifest.is_file():
        return None
    saved = json.loads(manifest.read_text())
    if saved.get("key") != key:
        return None
    return FolderView(
        target,
        saved["counts"],
        [tuple(x) for x in saved["skipped"]],
        [tuple(x) for x in saved["converted"]],
    )


def _view_name(fname: str, as_png: bool, originals: set[str], taken: set[str]) -> str:
    """A name for ``fname``'s entry in a view folder that no other entry has, in any case.

    An entry keeps its file's name when it can; a converted copy is ``<name>.png``,
    and a name that is not valid UTF-8 gets U+FFFD for its odd bytes; neither may
    then be the name of another file of the folder (``originals``), so ``-2``, ``-3``...
    goes before the suffix when it would be:

    >>> taken = set()
    >>> [_view_name(n, png, {"cat.jpg", "cat.jpg.png"}, taken) for n, png in
    ...  [("cat.jpg", True), ("cat.jpg.png", False), ("Cat.JPG", False), ("CAT.jpg", False)]]
    ['cat.jpg-2.png', 'cat.jpg.png', 'Cat.JPG', 'CAT-2.jpg']
    """
    wanted = _utf8(fname, "replace") + (".png" if as_png else "")
    name, stem, suffix, n = wanted, *os.path.splitext(wanted), 1
    while name.casefold() in taken or (name != fname and name.casefold() in originals):
        n += 1
        name = f"{stem}-{n}{suffix}"
    taken.add(name.casefold())
    return name


def _link(src: Path, dst: Path) -> None:
    """``dst`` as a new symbolic link to ``src``, or a new copy where links are impossible."""
    try:
        dst.symlink_to(src)
    except OSError:  # no links here (Windows without developer mode); an existing dst fails
        with open(src, "rb") as read, open(dst, "xb") as write:  # "x": never an existing path
            shutil.copyfileobj(read, write)


def _build_subset(
    source: Path,
    listing: dict[Path, list[Path]],
    per_class: int | None,
    seed: int,
    target: Path,
    key: dict[str, Any],
) -> FolderView:
    staging = Path(tempfile.mkdtemp(prefix=f".partial-{target.name}-", dir=target.parent))
    counts: dict[str, int] = {}
    skipped: list[tuple[str, str]] = []
    converted: list[tuple[str, str]] = []
    try:
        for folder, paths in listing.items():
            rel = folder.relative_to(source).as_posix()
            files = [p.name for p in paths]
            originals, taken = {f.casefold() for f in files}, set[str]()
            random.Random(f"{seed}:{rel}").shuffle(files)
            out = staging / rel
            out.mkdir(parents=True, exist_ok=True)
            for fname in files:
                if per_class is not None and len(taken) >= per_class:
                    break
                src = (folder / fname).resolve()
                check = inspect_image(folder / fname)  # by its own name, as Keras would list it
                shown = f"{rel}/{_utf8(fname, 'backslashreplace')}"
                if check.image is None:
                    skipped.append((shown, check.detail or ""))
                    continue
                name = _view_name(fname, check.status == "convert", originals, taken)
                if check.status == "convert":
                    with open(out / name, "xb") as file:  # a new file: never through a link
                        check.image.save(file, format="PNG")
                    converted.append((shown, check.detail or ""))
                else:
                    _link(src, out / name)
            if not taken:
                raise ClassFolderError(
                    f"Class folder {folder} has no usable images: all {len(files)} files "
                    f"were unreadable ({'; '.join(f'{n}: {why}' for n, why in skipped[-3:])})."
                )
            counts[rel] = len(taken)
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
    return {f.relative_to(root).as_posix() or ".": len(image_files(f)) for f in class_folders(root)}
