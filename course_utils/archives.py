"""Fetching and verifying archives: a network probe, checksums, staged downloads, safe extraction.

A download is all or nothing: it lands in a private ``.partial-*`` folder, is
checked against the registry's size and SHA-256, and only then is renamed into
place (:func:`download`); :func:`file_lock` makes two processes take turns.
:func:`safe_extract` refuses any member that would land outside its folder::

    >>> import tempfile, zipfile
    >>> from pathlib import Path
    >>> from course_utils.archives import safe_extract
    >>> d = Path(tempfile.mkdtemp()); z = d / "evil.zip"
    >>> with zipfile.ZipFile(z, "w") as f: f.writestr("../evil.txt", "boom")
    >>> safe_extract(z, d / "out")
    Traceback (most recent call last):
    ...
    course_utils.archives.UnsafeArchiveError: ...evil.zip: member '../evil.txt' would be written ...
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    from course_utils.datasets import DatasetInfo

NETWORK_PROBE_TIMEOUT_S = 3.0


class UnsafeArchiveError(RuntimeError):
    """An archive member would land outside the extraction folder."""


class ChecksumError(RuntimeError):
    """A downloaded file does not have the size or hash the registry records."""


class DownloadError(RuntimeError):
    """A download broke off or the server refused it; nothing was kept."""


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
def file_lock(target: Path) -> Iterator[None]:
    """Hold a cross-process lock for ``target`` (a ``.<name>.lock`` file beside it).

    Two notebooks fetching the same dataset (or building the same subset) at
    once take turns: the second waits, then finds the first one's finished copy.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "flower_photos"
    >>> with file_lock(target):
    ...     sorted(p.name for p in target.parent.iterdir())
    ['.flower_photos.lock']
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


def size_problem(path: Path, info: DatasetInfo) -> str | None:
    """Why ``path`` is not the registered file (by size), or None when it may be.

    >>> import tempfile, pathlib
    >>> from course_utils.datasets import dataset_info
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cat_720p.jpg"; _ = p.write_bytes(b"cut")
    >>> size_problem(p, dataset_info("photo_cat"))
    '.../cat_720p.jpg has 3 bytes, expected 104837'
    """
    size = path.stat().st_size
    if info.size_bytes is not None and size != info.size_bytes:
        return f"{path} has {size} bytes, expected {info.size_bytes}"
    return None


def _verify(path: Path, info: DatasetInfo) -> None:
    problem = size_problem(path, info)
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


def download(info: DatasetInfo, root: Path, subdir: str = "downloads") -> Path:
    """Fetch ``info.url`` to ``root/subdir/<filename>``: all of it, checked, or nothing.

    ``keras.utils.get_file`` writes into a private ``.partial-*`` folder; the
    file is checked (size, SHA-256) and only then moved into place with an
    atomic rename, so an interrupted or corrupt download never leaves a file
    that a later run would take for complete. Call it under :func:`file_lock`.
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
