"""Downloads that go wrong: corrupt, cut off, killed, or fetched twice at once.

Every test talks to a real HTTP server on 127.0.0.1 whose behaviour the test
controls, and checks what is left in the cache afterwards.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from course_utils import datasets, folders
from course_utils.archives import ChecksumError, DownloadError
from course_utils.datasets import get_dataset, get_file

ROOT = Path(__file__).parents[1]


@dataclass
class Server:
    """What the test server serves, how, and what it saw."""

    base: str = ""
    payload: bytes = b""
    mode: str = "full"  # full | cut | cut-no-length | stall
    requests: int = 0
    half_sent: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # the name http.server calls
            state.requests += 1
            body, half = state.payload, len(state.payload) // 2
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if state.mode != "cut-no-length":
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if state.mode == "full":
                self.wfile.write(body)
                return
            self.wfile.write(body[:half])
            self.wfile.flush()
            state.half_sent.set()
            if state.mode == "stall":  # a slow server: the rest comes later
                state.release.wait(timeout=30)
                self.wfile.write(body[half:])
            self.close_connection = True

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()


def _archive_bytes(image_tree: Path, tmp_path: Path) -> bytes:
    archive = tmp_path / "flower_photos.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(image_tree / "train", arcname="flower_photos")
    return archive.read_bytes()


def _spec(server: Server, sha: bool = True) -> dict:
    return {
        "url": f"{server.base}/flower_photos.tgz",
        "filename": "flower_photos.tgz",
        "sha256": hashlib.sha256(server.payload).hexdigest() if sha else None,
        "size_bytes": len(server.payload),
        "class_names": ["cats", "dogs"],  # what the test archive holds: get_dataset checks it
    }


def _register(monkeypatch: pytest.MonkeyPatch, spec: dict) -> None:
    info = replace(datasets.dataset_info("flower_photos"), **spec)
    monkeypatch.setitem(datasets.REGISTRY, "flower_photos", info)


def _cache_files(root: Path) -> list[str]:
    """Everything in the cache except our lock files."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if not p.name.endswith(".lock") and p.is_file()
    )


def test_checksum_mismatch_leaves_nothing_in_the_cache(
    data_root: Path, image_tree: Path, tmp_path: Path, server: Server, monkeypatch
) -> None:
    server.payload = _archive_bytes(image_tree, tmp_path)
    _register(monkeypatch, {**_spec(server), "sha256": "0" * 64})
    with pytest.raises(ChecksumError, match="flower_photos.*SHA-256.*discarded"):
        get_dataset("flower_photos")
    assert _cache_files(data_root) == []
    assert not any(p.name.startswith(".partial-") for p in data_root.rglob("*"))


def test_cut_off_download_is_discarded_and_the_next_run_completes(
    data_root: Path, image_tree: Path, tmp_path: Path, server: Server, monkeypatch
) -> None:
    server.payload, server.mode = _archive_bytes(image_tree, tmp_path), "cut"
    _register(monkeypatch, _spec(server))
    with pytest.raises(DownloadError, match="(?s)flower_photos.*127.0.0.1.*run again"):
        get_dataset("flower_photos")
    assert _cache_files(data_root) == []
    server.mode = "full"
    folder = get_dataset("flower_photos")
    assert folders.count_images(folder) == {"cats": 6, "dogs": 6}


def test_cut_off_download_without_a_length_is_caught_by_the_size_check(
    data_root: Path, image_tree: Path, tmp_path: Path, server: Server, monkeypatch
) -> None:
    # No Content-Length: urllib cannot tell the transfer was cut; the registry's size can.
    server.payload, server.mode = _archive_bytes(image_tree, tmp_path), "cut-no-length"
    _register(monkeypatch, _spec(server, sha=False))
    with pytest.raises(ChecksumError, match="bytes, expected"):
        get_dataset("flower_photos")
    assert _cache_files(data_root) == []


def test_single_file_with_wrong_size_in_the_cache_is_fetched_again(
    data_root: Path, server: Server, monkeypatch
) -> None:
    server.payload = b"0123456789" * 100
    info = datasets.DatasetInfo(
        name="blob",
        title="t",
        kind="file",
        url=f"{server.base}/blob.bin",
        class_names=[],
        licence="test",
        checksum_note="test",
        num_images={},
        filename="blob.bin",
        sha256=hashlib.sha256(server.payload).hexdigest(),
        size_bytes=len(server.payload),
        cache_subdir="files",
    )
    monkeypatch.setitem(datasets.REGISTRY, "blob", info)
    stale = data_root / "files" / "blob.bin"
    stale.parent.mkdir()
    stale.write_bytes(server.payload[:10])  # what a pre-course partial download looks like
    assert get_file("blob").read_bytes() == server.payload
    assert server.requests == 1


CHILD = """
import json, sys
from dataclasses import replace
from course_utils import datasets
spec = json.loads(sys.argv[1])
datasets.REGISTRY["flower_photos"] = replace(datasets.dataset_info("flower_photos"), **spec)
print("FOLDER", datasets.get_dataset("flower_photos"), flush=True)
"""


def _child(spec: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(spec)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_a_killed_download_leaves_no_file_a_later_run_trusts(
    data_root: Path, image_tree: Path, tmp_path: Path, server: Server, monkeypatch
) -> None:
    server.payload, server.mode = _archive_bytes(image_tree, tmp_path), "stall"
    spec = _spec(server, sha=False)  # size check only, like cats_and_dogs_filtered
    child = _child(spec)
    try:
        assert server.half_sent.wait(timeout=60), child.communicate(timeout=5)
        time.sleep(0.2)  # let the child write what it received
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        child.kill()
    assert not (data_root / "downloads" / "flower_photos.tgz").exists()
    assert not (data_root / "flower_photos").exists()
    server.mode = "full"
    _register(monkeypatch, spec)
    folder = get_dataset("flower_photos")
    assert folders.count_images(folder) == {"cats": 6, "dogs": 6}
    leftovers = [p.name for p in (data_root / "downloads").iterdir() if p.name.startswith(".part")]
    assert leftovers == []  # the killed run's staging folder was cleaned up


def test_two_processes_fetching_at_once_download_once(
    data_root: Path, image_tree: Path, tmp_path: Path, server: Server
) -> None:
    server.payload, server.mode = _archive_bytes(image_tree, tmp_path), "stall"
    spec = _spec(server)
    first, second = _child(spec), _child(spec)
    try:
        assert server.half_sent.wait(timeout=60)
        time.sleep(1.0)  # both are running: one downloads, the other waits on the lock
        server.release.set()
        outputs = [p.communicate(timeout=120) for p in (first, second)]
    finally:
        first.kill()
        second.kill()
    for (out, err), proc in zip(outputs, (first, second), strict=True):
        assert proc.returncode == 0, err[-2000:]
        assert f"FOLDER {data_root / 'flower_photos'}" in out
    assert server.requests == 1
    assert folders.count_images(data_root / "flower_photos") == {"cats": 6, "dogs": 6}
    assert _cache_files(data_root) == sorted(
        ["downloads/flower_photos.tgz"]
        + [
            f"flower_photos/{p.relative_to(image_tree / 'train').as_posix()}"
            for p in (image_tree / "train").rglob("*.jpg")
        ]
    )
