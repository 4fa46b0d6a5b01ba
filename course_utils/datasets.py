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
searched and how to provide the files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_utils import archives

DATA_ENV_VAR = "COURSE_DATA_DIR"
REGISTRY_PATH = Path(__file__).with_name("datasets.json")


class DatasetUnavailableError(RuntimeError):
    """The dataset is neither cached nor downloadable (e.g. no network)."""


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
    """The registry entry for ``name``; a clear ``KeyError`` for an unknown one.

    >>> dataset_info("fashion_mnist").kind
    'keras'
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"Unknown dataset {name!r}. Registered datasets: {', '.join(list_datasets())}"
        ) from None


def data_dir() -> Path:
    """The course's data cache: ``$COURSE_DATA_DIR`` or ``~/.cache/deep-vision-course``.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {DATA_ENV_VAR: "/data/course"}):
    ...     data_dir()
    PosixPath('/data/course')
    >>> with mock.patch.dict(os.environ, {DATA_ENV_VAR: "", "XDG_CACHE_HOME": "/c"}):
    ...     data_dir()
    PosixPath('/c/deep-vision-course')
    """
    configured = os.environ.get(DATA_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "deep-vision-course"


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


def _unavailable(info: DatasetInfo, searched: list[Path], why: str) -> DatasetUnavailableError:
    where = "\n".join(f"  - {p}" for p in searched)
    target = searched[0] if searched else data_dir()
    return DatasetUnavailableError(
        f"Dataset {info.name!r} is not available: {why}\n"
        f"Searched these folders for an extracted copy:\n{where}\n"
        f"To fix it, either connect to the internet and run again (it downloads "
        f"{info.url}), or download that file elsewhere, extract it and put the folder "
        f"'{info.folder or info.name}' at {target} "
        f"(or point {DATA_ENV_VAR} at a folder that contains it)."
    )


def get_dataset(name: str, *, root: Path | None = None, download: bool = True) -> Path:
    """Return the extracted folder of archive dataset ``name``, downloading if needed.

    A copy already in the cache (see :func:`candidate_folders`) is used with no
    network access at all. Otherwise the archive is downloaded with
    ``keras.utils.get_file``, checked (SHA-256 or size), and safely extracted
    into ``root`` (default :func:`data_dir`). Partial downloads and half
    extracted folders never reach the cache (both are staged, then renamed),
    and a second process asking for the same dataset waits for the first.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp()); (root / "flower_photos" / "daisy").mkdir(parents=True)
    >>> get_dataset("flower_photos", root=root).relative_to(root)  # cached: no network
    PosixPath('flower_photos')
    """
    info = dataset_info(name)
    if info.kind != "archive":
        raise ValueError(f"{name!r} is loaded through {info.loader}.load_data(), not a folder")
    root = Path(root) if root is not None else data_dir()
    searched = candidate_folders(name, root)
    if (cached := _first_cached(searched)) is not None:
        return cached
    if not download:
        raise _unavailable(info, searched, "it is not cached and download=False")
    with archives.file_lock(root / name):
        if (cached := _first_cached(searched)) is not None:  # fetched meanwhile by another
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
    info = dataset_info(name)
    if info.kind != "file":
        raise ValueError(f"{name!r} is a {info.kind!r} entry, not a single file")
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
    ValueError: 'flower_photos' is an archive dataset: use get_dataset('flower_photos')
    """
    info = dataset_info(name)
    if info.kind != "keras":
        raise ValueError(f"{name!r} is an archive dataset: use get_dataset({name!r})")
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
