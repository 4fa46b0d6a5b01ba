"""The course's datasets: the registry, the cache folders and the fetch entry points.

The registry lives in ``data/datasets.json`` (name, URL, SHA-256, size,
licence, layout, class names). :func:`get_dataset` returns the extracted
folder of an archive dataset, downloading it with ``keras.utils.get_file``
only when the cache does not have it yet (downloads, checksums and safe
extraction are in :mod:`course_utils.archives`; per-class subsets of a
folder in :mod:`course_utils.folders`)::

    >>> from course_utils import datasets
    >>> datasets.dataset_info("flower_photos").class_names[:2]
    ['daisy', 'dandelion']

Offline with nothing cached, it fails within seconds with
:class:`DatasetUnavailableError`, which names the dataset, the folders
searched and how to provide the files. A cached folder that is not the whole
dataset (or a per-class subset of it) stops with :class:`IncompleteDatasetError`
(see :func:`layout_problems`), and a cache folder that cannot be used with
:class:`DataDirError`.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_utils import archives

DATA_ENV_VAR = "COURSE_DATA_DIR"
REGISTRY_PATH = Path(__file__).with_name("datasets.json")


class DatasetUnavailableError(RuntimeError):
    """The dataset is neither cached nor downloadable (e.g. no network)."""


class IncompleteDatasetError(RuntimeError):
    """A cached (or just extracted) folder lacks classes or splits, or holds the wrong images.

    Not a :class:`DatasetUnavailableError`: code that falls back when offline must
    not take a broken cache for a missing one.
    """


class DataDirError(RuntimeError):
    """The data cache (``$COURSE_DATA_DIR`` or the default) is a file or cannot be written."""


class UnknownDatasetError(KeyError):
    """A dataset name that is not in the registry (the message suggests the closest one)."""

    def __str__(self) -> str:  # KeyError's own str() would quote the whole message
        return str(self.args[0])


@dataclass(frozen=True)
class DatasetInfo:
    """One registry entry (see ``data/datasets.json``)."""

    name: str
    title: str
    kind: str
    url: str
    class_names: list[str]
    licence: str
    checksum_note: str
    num_images: dict[str, int]
    filename: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    archive_format: str | None = None
    folder: str | None = None
    layout: str | None = None
    splits: list[str] | None = None
    loader: str | None = None
    cache_subdir: str | None = None
    #: Images per class of the complete dataset, per split (``"all"`` without splits).
    class_counts: dict[str, dict[str, int]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _load_registry() -> dict[str, DatasetInfo]:
    raw = json.loads(REGISTRY_PATH.read_text(encoding="utf-8"))
    known = set(DatasetInfo.__dataclass_fields__) - {"name", "extra"}
    registry = {}
    for name, entry in raw.items():
        fields = {k: v for k, v in entry.items() if k in known}
        extra = {k: v for k, v in entry.items() if k not in known}
        registry[name] = DatasetInfo(name=name, extra=extra, **fields)
    return registry


REGISTRY: dict[str, DatasetInfo] = _load_registry()


def list_datasets() -> list[str]:
    """Names of the registered datasets.

    >>> list_datasets()[:2]
    ['cats_and_dogs_filtered', 'deeplabv3_mnv2_dm05_pascal_quant']
    """
    return sorted(REGISTRY)


def dataset_info(name: str) -> DatasetInfo:
    """The registry entry for ``name``; for an unknown one, the closest registered name.

    >>> dataset_info("fashion_mnist").kind
    'keras'
    >>> try:
    ...     dataset_info("Flower_Photo")
    ... except KeyError as err:
    ...     print(err)
    Unknown dataset 'Flower_Photo'. Did you mean 'flower_photos'? Registered datasets: ...
    """
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        names = list_datasets()
        folded = {n.casefold(): n for n in names}
        close = difflib.get_close_matches(str(name).strip().casefold(), folded, n=1, cutoff=0.6)
        guess = f" Did you mean {folded[close[0]]!r}?" if close else ""
        raise UnknownDatasetError(
            f"Unknown dataset {name!r}.{guess} Registered datasets: {', '.join(names)}"
        ) from None


def data_dir() -> Path:
    """The course's data cache: ``$COURSE_DATA_DIR`` or ``~/.cache/deep-vision-course``.

    Spaces around the value are dropped and ``~`` is expanded. A relative value
    is taken relative to the current folder, with a warning that says so (each
    notebook runs in its own folder, so two lessons could use two caches). The
    folder need not exist yet (it is created when something is cached), but a
    value that names a file, or a folder that cannot be written (or created),
    raises :class:`DataDirError` naming the setting and the fix: the check runs
    here, when the cache is needed, never at import.

    >>> import tempfile
    >>> from unittest import mock
    >>> tmp = Path(tempfile.mkdtemp())
    >>> with mock.patch.dict(os.environ, {DATA_ENV_VAR: f"  {tmp}/course "}):
    ...     data_dir().relative_to(tmp)
    PosixPath('course')
    >>> with mock.patch.dict(os.environ, {DATA_ENV_VAR: "", "XDG_CACHE_HOME": str(tmp)}):
    ...     data_dir().relative_to(tmp)
    PosixPath('deep-vision-course')
    """
    configured = os.environ.get(DATA_ENV_VAR, "").strip()
    if not configured:
        path = _default_data_dir()
        _check_writable_folder(path, f"the default, as {DATA_ENV_VAR} is not set")
        return path
    path = Path(configured).expanduser()
    if not path.is_absolute():
        path = Path(os.path.abspath(path))
        warnings.warn(
            f"{DATA_ENV_VAR}={configured!r} is a relative path: the course caches its data in "
            f"{path} (relative to the current folder, {Path.cwd()}). Lessons run in their own "
            f"folders, so set an absolute path to keep one cache, e.g. {DATA_ENV_VAR}={path}",
            UserWarning,
            stacklevel=2,
        )
    _check_writable_folder(path, f"{DATA_ENV_VAR}={configured!r}")
    return path


def _default_data_dir() -> Path:
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "deep-vision-course"


def _check_writable_folder(path: Path, setting: str) -> None:
    """Raise :class:`DataDirError` unless ``path`` is (or can be created as) a writable folder."""
    existing = next(p for p in (path, *path.parents) if os.path.lexists(p))
    if os.path.isdir(existing) and os.access(existing, os.W_OK | os.X_OK):
        return
    if os.path.isdir(existing):
        problem = "read-only"
    else:
        problem = "a broken link" if os.path.islink(existing) else "a file"
    what = f"is {problem}" if existing == path else f"cannot be created: {existing} is {problem}"
    default = _default_data_dir()
    example = default if path != default else Path(tempfile.gettempdir()) / "deep-vision-course"
    raise DataDirError(
        f"The course's data cache {path} (from {setting}) {what}; the course needs a folder it "
        f"can write to (downloads, subsets, saved models). Fix: point {DATA_ENV_VAR} at a "
        f"writable folder (it is created if missing) before running the lesson, e.g. "
        f"os.environ[{DATA_ENV_VAR!r}] = '{example}' in the notebook's first cell, or "
        f"`export {DATA_ENV_VAR}={example}` in a shell."
    )


def keras_home() -> Path:
    """Where Keras caches weights and its own datasets: ``$KERAS_HOME`` or ``~/.keras``.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"KERAS_HOME": "/k"}):
    ...     keras_home()
    PosixPath('/k')
    """
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def candidate_folders(name: str, root: Path | None = None) -> list[Path]:
    """Folders where an already-extracted copy of ``name`` is looked for, in order.

    The course cache comes first, then the places the TensorFlow tutorials'
    ``get_file(..., extract=True)`` leave it in the Keras cache.

    >>> candidate_folders("flower_photos", Path("/c"))[0]
    PosixPath('/c/flower_photos')
    """
    info = dataset_info(name)
    folder = info.folder or name
    keras_datasets = keras_home() / "datasets"
    return [
        (root or data_dir()) / folder,
        keras_datasets / folder,
        keras_datasets / f"{folder}_extracted" / folder,
    ]


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _first_cached(folders: list[Path]) -> Path | None:
    return next((folder for folder in folders if _has_files(folder)), None)


#: A class with less than this share of the images the rest of its split implies is cut short.
SHORT_FRACTION = 0.9


def layout_problems(name: str, folder: Path) -> list[str]:
    """What keeps ``folder`` from being a whole copy of archive dataset ``name``, or a subset.

    Cheap: folder names and image-file counts (no decoding), compared with the
    registry's ``splits``, ``class_names`` and ``class_counts``. Accepted are
    the complete dataset and a *per-class subset* such as the course's offline
    copies (the first N images of every class: 300 flowers per class, 500 + 500
    cats and dogs for training). So within each split, with N the largest class:

    - every registered class (in every split) has a folder with at least one image;
    - no class has more images than the complete dataset has (other files mixed in);
    - no class has less than :data:`SHORT_FRACTION` of ``min(N, its complete
      count)``: a copy that stopped part-way leaves one class short of the rest;
    - no other folder holds images (it would become an extra class).

    Hidden folders (``.ipynb_checkpoints``, ``__MACOSX``) are ignored (:func:`images.is_ignored`).

    >>> import tempfile
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("daisy", "dandelion", "roses"):  # 3 of the 5 classes
    ...     (root / name).mkdir()
    ...     Image.new("RGB", (4, 4)).save(root / name / "1.jpg")
    >>> layout_problems("flower_photos", root)
    ["class 'sunflowers' is missing: no folder sunflowers/", "class 'tulips' is missing: ..."]
    """
    from course_utils.folders import count_images  # it imports this module

    info = dataset_info(name)
    folder = Path(folder)
    found = count_images(folder)  # debris (hidden, __MACOSX) is not counted: images.is_ignored
    problems: list[str] = []
    expected: set[str] = set()
    for split in info.splits or [None]:
        prefix = f"{split}/" if split else ""
        expected |= {prefix + cls for cls in info.class_names}
        if split is not None and not (folder / split).is_dir():
            problems.append(f"split {split!r} is missing: no folder {prefix}")
            continue
        counts = {cls: found.get(prefix + cls, 0) for cls in info.class_names}
        complete = (info.class_counts or {}).get(split or "all", {})
        largest = max(counts.values(), default=0)
        for cls, count in counts.items():
            where, full = f"{prefix}{cls}/", complete.get(cls)
            if count == 0 and (folder / where).is_dir():
                problems.append(f"class {cls!r} has no images in {where}")
            elif count == 0:
                problems.append(f"class {cls!r} is missing: no folder {where}")
            elif full is not None and count > full:
                problems.append(
                    f"{where} has {count} images, more than the {full} of the complete "
                    "dataset: other files were mixed in"
                )
            elif full is not None and count < SHORT_FRACTION * min(largest, full):
                problems.append(
                    f"{where} has only {count} images where the other classes imply "
                    f"{min(largest, full)} (the complete dataset has {full}): a copy that "
                    "stopped part-way?"
                )
    known = ", ".join(info.class_names) + (f" in {', '.join(info.splits)}" if info.splits else "")
    for key in sorted(set(found) - expected):
        where = "the folder itself" if key == "." else f"{key}/"
        problems.append(
            f"{where} holds {found[key]} images but is not one of the dataset's classes ({known})"
        )
    return problems


def _how_to_provide(info: DatasetInfo, target: Path) -> str:
    return (
        "download that file yourself, extract it and put the folder "
        f"'{info.folder or info.name}' at {target} "
        f"(or point {DATA_ENV_VAR} at a folder that contains it)"
    )


def _cached_copy(info: DatasetInfo, searched: list[Path]) -> Path | None:
    """The first cached copy, checked with :func:`layout_problems`; None when nothing is cached."""
    cached = _first_cached(searched)
    if cached is not None and (problems := layout_problems(info.name, cached)):
        raise _incomplete(
            f"The copy of dataset {info.name!r} in {cached}", problems,
            f"Delete this folder and run again (the course then downloads {info.url}, "
            f"{(info.size_bytes or 0) / 1e6:.0f} MB), or {_how_to_provide(info, searched[0])}.",
        )  # fmt: skip
    return cached


def _incomplete(subject: str, problems: list[str], fix: str) -> IncompleteDatasetError:
    shown = problems[:8] + ([f"... and {len(problems) - 8} more"] if len(problems) > 8 else [])
    listed = "\n".join(f"  - {p}" for p in shown)
    return IncompleteDatasetError(
        f"{subject} is incomplete or not that dataset:\n{listed}\n"
        f"Used as it is, a lesson would train on the wrong classes without a word. {fix}"
    )


def _unavailable(info: DatasetInfo, searched: list[Path], why: str) -> DatasetUnavailableError:
    where = "\n".join(f"  - {p}" for p in searched)
    target = searched[0] if searched else data_dir()
    return DatasetUnavailableError(
        f"Dataset {info.name!r} is not available: {why}\n"
        f"Searched these folders for an extracted copy:\n{where}\n"
        f"To fix it, either connect to the internet and run again (it downloads "
        f"{info.url}), or {_how_to_provide(info, target)}."
    )


#: Each kind of registry entry: what it is, how it is fetched, the function that fetches it.
KINDS = {
    "archive": ("an archive dataset", "(a folder of images)", "get_dataset"),
    "file": ("a single file", "(a photo or a model, fetched with get_file)", "get_file"),
    "keras": ("a Keras dataset", "(loaded through {loader}.load_data())", "load_keras_dataset"),
}


def _entry(name: str, kind: str) -> DatasetInfo:
    """``name``'s registry entry if it is of ``kind``, else an error naming the right function.

    >>> _entry("photo_cat", "archive")
    Traceback (most recent call last):
    ...
    ValueError: 'photo_cat' is a single file (...get_file), not ...: use get_file('photo_cat')
    """
    info = dataset_info(name)
    if info.kind != kind:
        what, how, function = KINDS[info.kind]
        raise ValueError(
            f"{name!r} is {what} {how.format(loader=info.loader)}, not {KINDS[kind][0]}: "
            f"use {function}({name!r})"
        )
    return info


def get_dataset(name: str, *, root: Path | None = None, download: bool = True) -> Path:
    """Return the extracted folder of archive dataset ``name``, downloading if needed.

    A copy already in the cache (see :func:`candidate_folders`) is used with no
    network access at all, once :func:`layout_problems` finds nothing wrong
    with it (otherwise :class:`IncompleteDatasetError` lists what is missing or
    short and how to fix it; the folder is left as it is). Otherwise the
    archive is downloaded with ``keras.utils.get_file``, checked (SHA-256 or
    size), safely extracted into ``root`` (default :func:`data_dir`), and its
    folders checked the same way. Partial downloads and half extracted folders
    never reach the cache (both are staged, then renamed), and a second
    process asking for the same dataset waits for the first.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for cls in dataset_info("flower_photos").class_names:  # one photo per class
    ...     (root / "flower_photos" / cls).mkdir(parents=True)
    ...     _ = (root / "flower_photos" / cls / "1.jpg").write_bytes(b"")
    >>> get_dataset("flower_photos", root=root).relative_to(root)  # cached: no network
    PosixPath('flower_photos')
    """
    info = _entry(name, "archive")
    root = Path(root) if root is not None else data_dir()
    searched = candidate_folders(name, root)
    if (cached := _cached_copy(info, searched)) is not None:
        return cached
    if not download:
        raise _unavailable(info, searched, "it is not cached and download=False")
    with archives.file_lock(root / name):
        if (cached := _cached_copy(info, searched)) is not None:  # fetched meanwhile by another
            return cached
        if not archives.network_available(info.url):
            raise _unavailable(info, searched, "it is not cached and the network is unreachable")
        archive = archives.download(info, root)
        staging = Path(tempfile.mkdtemp(prefix=f".partial-{name}-", dir=root))
        try:
            archives.safe_extract(archive, staging)
            extracted = staging / (info.folder or name)
            if not extracted.is_dir():
                raise archives.UnsafeArchiveError(
                    f"{archive}: expected a top folder {info.folder!r}"
                )
            if problems := layout_problems(name, extracted):
                raise _incomplete(
                    f"The archive {archive} (downloaded from {info.url})", problems,
                    f"Nothing was extracted into {root}; run again to download it afresh. If "
                    "this repeats, the archive and the registry (data/datasets.json) disagree: "
                    "please report it.",
                )  # fmt: skip
            extracted.rename(searched[0])
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return searched[0]


def get_file(name: str, *, root: Path | None = None) -> Path:
    """Return the cached path of single-file entry ``name`` (a photo, a model), downloading it.

    The file lives at ``<data_dir>/<cache_subdir>/<filename>``. A file already
    there (with the registered size) is used with no network; a download is
    checked against the registry's size and SHA-256 before it is moved into
    place, and two processes asking at once download it only once.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()); cached = root / "photos" / "cat_720p.jpg"
    >>> cached.parent.mkdir(); _ = cached.write_bytes(bytes(dataset_info("photo_cat").size_bytes))
    >>> get_file("photo_cat", root=root).relative_to(root)  # registered size: no network
    PosixPath('photos/cat_720p.jpg')
    """
    info = _entry(name, "file")
    root = Path(root) if root is not None else data_dir()
    subdir = info.cache_subdir or "files"
    path = root / subdir / (info.filename or name)
    if path.is_file() and archives.size_problem(path, info) is None:
        return path
    with archives.file_lock(path):
        if path.is_file() and (problem := archives.size_problem(path, info)) is not None:
            why = f"the cached copy is incomplete ({problem})"
        elif path.is_file():
            return path  # another process fetched it meanwhile
        else:
            why = "it is not cached"
        if not archives.network_available(info.url):
            raise _unavailable(info, [path], f"{why} and the network is unreachable")
        return archives.download(info, root, subdir)


def load_keras_dataset(name: str) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """``load_data()`` of a Keras dataset in the registry, failing fast offline.

    >>> load_keras_dataset("flower_photos")
    Traceback (most recent call last):
    ...
    ValueError: 'flower_photos' is an archive dataset ...: use get_dataset('flower_photos')
    """
    info = _entry(name, "keras")
    import importlib

    cache = keras_home() / (info.cache_subdir or "datasets")
    if not _has_files(cache) and not archives.network_available(info.url):
        raise DatasetUnavailableError(
            f"Dataset {name!r} is not in the Keras cache ({cache}) and the network is "
            f"unreachable. Connect to the internet once (Keras downloads it from "
            f"{info.url}), or copy its files into {cache} (set KERAS_HOME before "
            f"importing keras to use another cache)."
        )
    module = importlib.import_module(info.loader)
    return module.load_data()
