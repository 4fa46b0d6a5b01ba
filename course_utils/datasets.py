"""The course's datasets: a registry, a cache, safe extraction, per-class subsets.

The registry lives in ``data/datasets.json`` (name, URL, SHA-256, size,
licence, layout, class names). :func:`get_dataset` returns the extracted
folder of an archive dataset, downloading it with ``keras.utils.get_file``
only when the cache does not have it yet::

    >>> from course_utils import datasets
    >>> datasets.dataset_info("flower_photos").class_names[:2]
    ['daisy', 'dandelion']

Offline with nothing cached, it fails within seconds with
:class:`DatasetUnavailableError`, which names the dataset, the folders
searched and how to provide the files.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import socket
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

DATA_ENV_VAR = "COURSE_DATA_DIR"
REGISTRY_PATH = Path(__file__).with_name("datasets.json")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
NETWORK_PROBE_TIMEOUT_S = 3.0


class DatasetUnavailableError(RuntimeError):
    """The dataset is neither cached nor downloadable (e.g. no network)."""


class UnsafeArchiveError(RuntimeError):
    """An archive member would land outside the extraction folder."""


class ChecksumError(RuntimeError):
    """A downloaded file does not have the size or hash the registry records."""


class ClassFolderError(ValueError):
    """A class folder is empty, unreadable, or missing from one split."""


class DownloadError(RuntimeError):
    """A download broke off or the server refused it; nothing was kept."""


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

    >>> "cats_and_dogs_filtered" in list_datasets()
    True
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

    >>> data_dir().name in {"deep-vision-course", data_dir().name}
    True
    """
    configured = os.environ.get(DATA_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home) / "deep-vision-course"


def keras_home() -> Path:
    """Where Keras caches weights and its own datasets: ``$KERAS_HOME`` or ``~/.keras``.

    >>> keras_home().is_absolute() or True
    True
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


def network_available(url: str, timeout: float = NETWORK_PROBE_TIMEOUT_S) -> bool:
    """True when a TCP connection to ``url``'s host opens within ``timeout`` seconds.

    >>> network_available("https://localhost:1/", timeout=0.1)
    False
    """
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


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


def sha256_of(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"")
    >>> sha256_of(p)[:12]
    'e3b0c44298fc'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def _check_member_path(archive: Path, member: str, dest: Path) -> Path:
    if member.startswith(("/", "\\")) or (len(member) > 1 and member[1] == ":"):
        raise UnsafeArchiveError(f"{archive}: member {member!r} has an absolute path")
    target = (dest / member).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise UnsafeArchiveError(f"{archive}: member {member!r} would be written outside {dest}")
    return target


def safe_extract(archive: Path, dest: Path) -> Path:
    """Extract a ``.zip`` or tar archive into ``dest`` and refuse anything unsafe.

    Tar files go through the standard library's ``filter="data"`` (no absolute
    paths, no ``..``, no links leaving ``dest``, no device files); zip members
    are checked the same way and symbolic links in zips are refused.

    >>> import tempfile, zipfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); z = d / "a.zip"
    >>> with zipfile.ZipFile(z, "w") as f: f.writestr("pkg/x.txt", "hi")
    >>> (safe_extract(z, d / "out") / "pkg" / "x.txt").read_text()
    'hi'
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise UnsafeArchiveError(
                        f"{archive}: member {info.filename!r} is a symbolic link"
                    )
                _check_member_path(archive, info.filename, dest)
            zf.extractall(dest)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():  # refuse outright, not just strip "/"
                _check_member_path(archive, member.name, dest)
            try:
                tf.extractall(dest, filter="data")
            except tarfile.FilterError as err:
                raise UnsafeArchiveError(f"{archive}: {err}") from err
    else:
        raise UnsafeArchiveError(f"{archive}: not a zip or tar archive")
    return dest


@contextmanager
def _lock(target: Path) -> Iterator[None]:
    """Hold a cross-process lock for ``target`` (a ``.<name>.lock`` file beside it).

    Two notebooks fetching the same dataset (or building the same subset) at
    once take turns: the second waits, then finds the first one's finished copy.
    """
    from filelock import FileLock, Timeout

    target.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(target.with_name(f".{target.name}.lock")))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"Waiting for another process that is preparing {target.name} ...")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _size_problem(path: Path, info: DatasetInfo) -> str | None:
    """Why ``path`` is not the registered file (by size), or None when it may be."""
    size = path.stat().st_size
    if info.size_bytes is not None and size != info.size_bytes:
        return f"{path} has {size} bytes, expected {info.size_bytes}"
    return None


def _verify(path: Path, info: DatasetInfo) -> None:
    problem = _size_problem(path, info)
    if problem is None and info.sha256 is not None:
        digest = sha256_of(path)
        if digest != info.sha256:
            problem = f"{path} has SHA-256 {digest}, expected {info.sha256}"
    if problem:
        raise ChecksumError(
            f"The download of {info.name!r} from {info.url} is corrupt or incomplete: "
            f"{problem}. It was discarded (nothing was kept in the cache); run again, "
            f"and if it keeps failing, download the file by hand and compare."
        )


def _download(info: DatasetInfo, root: Path, subdir: str = "downloads") -> Path:
    """Fetch ``info.url`` to ``root/subdir/<filename>``: all of it, checked, or nothing.

    ``keras.utils.get_file`` writes into a private ``.partial-*`` folder; the
    file is checked (size, SHA-256) and only then moved into place with an
    atomic rename, so an interrupted or corrupt download never leaves a file
    that a later run would take for complete. Call it under :func:`_lock`.
    """
    import keras

    folder = root / subdir
    final = folder / (info.filename or info.name)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f".partial-{final.name}-*"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".partial-{final.name}-", dir=folder))
    try:
        try:
            fetched = Path(
                keras.utils.get_file(
                    fname=final.name, origin=info.url, cache_dir=str(staging), cache_subdir="."
                )
            )
        except Exception as err:
            raise DownloadError(
                f"Downloading {info.name!r} from {info.url} failed: {err}. Nothing was "
                f"kept in the cache; check the connection and run again."
            ) from err
        _verify(fetched, info)
        if info.sha256 is None:
            print(f"{info.name}: no published SHA-256; this download's is {sha256_of(fetched)}")
        os.replace(fetched, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def get_dataset(name: str, *, root: Path | None = None, download: bool = True) -> Path:
    """Return the extracted folder of archive dataset ``name``, downloading if needed.

    A copy already in the cache (see :func:`candidate_folders`) is used with no
    network access at all. Otherwise the archive is downloaded with
    ``keras.utils.get_file``, checked (SHA-256 or size), and safely extracted
    into ``root`` (default :func:`data_dir`). Partial downloads and half
    extracted folders never reach the cache (both are staged, then renamed),
    and a second process asking for the same dataset waits for the first.

    >>> get_dataset("flower_photos").name  # doctest: +SKIP
    'flower_photos'
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
    with _lock(root / name):
        if (cached := _first_cached(searched)) is not None:  # fetched meanwhile by another
            return cached
        if not network_available(info.url):
            raise _unavailable(info, searched, "it is not cached and the network is unreachable")
        archive = _download(info, root)
        staging = Path(tempfile.mkdtemp(prefix=f".partial-{name}-", dir=root))
        try:
            safe_extract(archive, staging)
            extracted = staging / (info.folder or name)
            if not extracted.is_dir():
                raise UnsafeArchiveError(f"{archive}: expected a top folder {info.folder!r}")
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

    >>> get_file("photo_cat").name  # doctest: +SKIP
    'cat_720p.jpg'
    """
    info = dataset_info(name)
    if info.kind != "file":
        raise ValueError(f"{name!r} is a {info.kind!r} entry, not a single file")
    root = Path(root) if root is not None else data_dir()
    subdir = info.cache_subdir or "files"
    path = root / subdir / (info.filename or name)
    if path.is_file() and _size_problem(path, info) is None:
        return path
    with _lock(path):
        if path.is_file() and (problem := _size_problem(path, info)) is not None:
            why = f"the cached copy is incomplete ({problem})"
        elif path.is_file():
            return path  # another process fetched it meanwhile
        else:
            why = "it is not cached"
        if not network_available(info.url):
            raise _unavailable(info, [path], f"{why} and the network is unreachable")
        return _download(info, root, subdir)


def load_keras_dataset(name: str) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """``load_data()`` of a Keras dataset in the registry, failing fast offline.

    >>> (x, y), _ = load_keras_dataset("fashion_mnist")  # doctest: +SKIP
    """
    info = dataset_info(name)
    if info.kind != "keras":
        raise ValueError(f"{name!r} is an archive dataset: use get_dataset({name!r})")
    import importlib

    cache = keras_home() / (info.cache_subdir or "datasets")
    if not (cache.is_dir() and any(cache.iterdir())) and not network_available(info.url):
        raise DatasetUnavailableError(
            f"Dataset {name!r} is not in the Keras cache ({cache}) and the network is "
            f"unreachable. Connect to the internet once (Keras downloads it from "
            f"{info.url}), or copy its files into {cache} (set KERAS_HOME before "
            f"importing keras to use another cache)."
        )
    module = importlib.import_module(info.loader)
    return module.load_data()


def _image_files(folder: Path) -> list[Path]:
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
    found = [p for p in sorted(root.rglob("*")) if p.is_dir() and _image_files(p)]
    return found + ([root] if _image_files(root) else [])


@dataclass(frozen=True)
class FolderView:
    """A read-only view of an image folder made by :func:`subset_per_class`."""

    path: Path
    counts: dict[str, int]
    skipped: list[tuple[str, str]]
    converted: list[tuple[str, str]]

    def summary(self) -> str:
        """One line: images per class folder, and how many were converted or skipped."""
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
            if not _image_files(split / name):
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

    >>> view = subset_per_class(get_dataset("flower_photos"), 20)  # doctest: +SKIP
    >>> view.counts["daisy"]  # doctest: +SKIP
    20
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
    with _lock(target):  # two notebooks building the same subset take turns
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
            files = [p.name for p in _image_files(folder)]
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
        f.relative_to(root).as_posix() or ".": len(_image_files(f)) for f in class_folders(root)
    }
