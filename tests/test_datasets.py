from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import ASSETS, write_rgb

from course_utils import archives, datasets, folders
from course_utils.datasets import DatasetUnavailableError, get_dataset

# --- the registry -----------------------------------------------------------


def test_registry_covers_the_course_datasets() -> None:
    names = datasets.list_datasets()
    for name in ("cats_and_dogs_filtered", "flower_photos", "fashion_mnist"):
        assert name in names
    flowers = datasets.dataset_info("flower_photos")
    assert flowers.sha256 == "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c"
    assert flowers.size_bytes == 228_813_984
    assert flowers.class_names == ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
    assert len(datasets.dataset_info("fashion_mnist").class_names) == 10


def test_every_entry_has_url_licence_and_checksum_story() -> None:
    for name in datasets.list_datasets():
        info = datasets.dataset_info(name)
        assert info.url.startswith("https://"), name
        assert info.licence and info.checksum_note, name
        if info.kind in ("archive", "file"):
            assert info.filename and info.size_bytes, name
            assert info.sha256 or "no" in info.checksum_note.lower(), name


def test_package_copy_of_the_registry_is_the_data_folder_file() -> None:
    top = Path(__file__).parents[1] / "data" / "datasets.json"
    assert json.loads(datasets.REGISTRY_PATH.read_text()) == json.loads(top.read_text())


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="flower_photos"):
        datasets.dataset_info("imagenet")


def test_data_dir_follows_environment(data_root: Path) -> None:
    assert datasets.data_dir() == data_root


def test_data_dir_default_is_a_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert datasets.data_dir() == tmp_path / "deep-vision-course"


def test_keras_datasets_refuse_folder_api() -> None:
    with pytest.raises(ValueError, match="load_data"):
        get_dataset("fashion_mnist")


# --- cache first, fail fast offline -----------------------------------------


def _no_network(*_args: object, **_kwargs: object) -> bool:
    raise AssertionError("the network must not be touched when the cache has the data")


def test_cached_folder_is_used_without_network(
    data_root: Path, image_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(image_tree, data_root / "cats_and_dogs_filtered")
    monkeypatch.setattr(archives, "network_available", _no_network)
    assert get_dataset("cats_and_dogs_filtered") == data_root / "cats_and_dogs_filtered"


def test_keras_tutorial_extract_folder_is_found(
    data_root: Path, image_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tutorial = datasets.keras_home() / "datasets" / "cats_and_dogs_filtered_extracted"
    shutil.copytree(image_tree, tutorial / "cats_and_dogs_filtered")
    monkeypatch.setattr(archives, "network_available", _no_network)
    assert get_dataset("cats_and_dogs_filtered") == tutorial / "cats_and_dogs_filtered"


def test_offline_with_empty_cache_fails_fast_and_says_what_to_do(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives, "network_available", lambda url, timeout=3.0: False)
    with pytest.raises(DatasetUnavailableError) as err:
        get_dataset("flower_photos")
    message = str(err.value)
    assert "flower_photos" in message
    assert str(data_root / "flower_photos") in message  # the folders searched
    assert "COURSE_DATA_DIR" in message and "flower_photos.tgz" in message  # how to fix


def test_real_offline_probe_is_quick(data_root: Path) -> None:
    """With the real probe: either the network is there (skip) or we fail in seconds."""
    url = datasets.dataset_info("flower_photos").url
    start = time.monotonic()
    if archives.network_available(url):
        pytest.skip("network reachable here: the offline path cannot be exercised for real")
    with pytest.raises(DatasetUnavailableError):
        get_dataset("flower_photos")
    assert time.monotonic() - start < 10  # the budget, not a benchmark


def test_download_false_never_downloads(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "network_available", _no_network)
    with pytest.raises(DatasetUnavailableError, match="download=False"):
        get_dataset("cats_and_dogs_filtered", download=False)


def test_keras_dataset_offline_error(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives, "network_available", lambda url, timeout=3.0: False)
    with pytest.raises(DatasetUnavailableError, match="KERAS_HOME"):
        datasets.load_keras_dataset("fashion_mnist")


@pytest.mark.skipif(
    not (ASSETS / "keras_home" / "datasets" / "fashion-mnist").is_dir(),
    reason="needs the offline Fashion-MNIST files in ../shared/assets",
)
def test_fashion_mnist_loads_from_the_keras_cache(tmp_path: Path) -> None:
    # Keras reads KERAS_HOME once, at import: so a fresh process, as in a notebook.
    cache = tmp_path / "kh" / "datasets" / "fashion-mnist"
    shutil.copytree(ASSETS / "keras_home" / "datasets" / "fashion-mnist", cache)
    code = (
        "from course_utils import archives, datasets\n"
        "archives.network_available = lambda url, timeout=3.0: False\n"
        "(x, y), (xt, _) = datasets.load_keras_dataset('fashion_mnist')\n"
        "print(x.shape, xt.shape, sorted(set(y.tolist())))\n"
    )
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "kh"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == f"(60000, 28, 28) (10000, 28, 28) {list(range(10))}"


# --- real downloads from a local server ---------------------------------------


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A throwaway HTTP server on 127.0.0.1 serving ``tmp_path/www``."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None  # a quiet test server
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _tgz_of(tree: Path, top: str, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(tree, arcname=top)
    return dest


def _register(monkeypatch: pytest.MonkeyPatch, base: str, archive: Path, sha: str | None) -> None:
    info = replace(
        datasets.dataset_info("flower_photos"),
        url=f"{base}/{archive.name}",
        filename=archive.name,
        sha256=sha,
        size_bytes=archive.stat().st_size,
    )
    monkeypatch.setitem(datasets.REGISTRY, "flower_photos", info)


def test_download_verifies_and_extracts(
    data_root: Path, image_tree: Path, http_root: tuple[Path, str], monkeypatch
) -> None:
    www, base = http_root
    archive = _tgz_of(image_tree / "train", "flower_photos", www / "flower_photos.tgz")
    _register(monkeypatch, base, archive, hashlib.sha256(archive.read_bytes()).hexdigest())
    folder = get_dataset("flower_photos")
    assert folder == data_root / "flower_photos"
    assert folders.count_images(folder) == {"cats": 6, "dogs": 6}
    # a second call is served from the cache, with no network at all
    monkeypatch.setattr(archives, "network_available", _no_network)
    assert get_dataset("flower_photos") == folder


def test_download_with_wrong_size_is_rejected(
    data_root: Path, image_tree: Path, http_root: tuple[Path, str], monkeypatch
) -> None:
    www, base = http_root
    archive = _tgz_of(image_tree / "train", "flower_photos", www / "flower_photos.tgz")
    _register(monkeypatch, base, archive, None)
    info = datasets.REGISTRY["flower_photos"]
    monkeypatch.setitem(
        datasets.REGISTRY, "flower_photos", replace(info, size_bytes=info.size_bytes + 1)
    )
    with pytest.raises(archives.ChecksumError, match="bytes"):
        get_dataset("flower_photos")


def test_get_file_downloads_once_then_uses_cache(
    data_root: Path, http_root: tuple[Path, str], monkeypatch
) -> None:
    www, base = http_root
    photo = write_rgb(www / "pic.jpg")
    info = datasets.DatasetInfo(
        name="photo_test", title="t", kind="file", url=f"{base}/pic.jpg", class_names=[],
        licence="test", checksum_note="test", num_images={}, filename="pic.jpg",
        sha256=hashlib.sha256(photo.read_bytes()).hexdigest(), size_bytes=photo.stat().st_size,
        cache_subdir="photos",
    )
    monkeypatch.setitem(datasets.REGISTRY, "photo_test", info)
    path = datasets.get_file("photo_test")
    assert path == data_root / "photos" / "pic.jpg" and path.read_bytes() == photo.read_bytes()
    monkeypatch.setattr(archives, "network_available", _no_network)
    assert datasets.get_file("photo_test") == path
