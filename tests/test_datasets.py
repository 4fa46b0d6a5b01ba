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
        class_names=["cats", "dogs"],  # what the test archive holds (6 images per class)
        class_counts={"all": {"cats": 6, "dogs": 6}},
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
        name="photo_test",
        title="t",
        kind="file",
        url=f"{base}/pic.jpg",
        class_names=[],
        licence="test",
        checksum_note="test",
        num_images={},
        filename="pic.jpg",
        sha256=hashlib.sha256(photo.read_bytes()).hexdigest(),
        size_bytes=photo.stat().st_size,
        cache_subdir="photos",
    )
    monkeypatch.setitem(datasets.REGISTRY, "photo_test", info)
    path = datasets.get_file("photo_test")
    assert path == data_root / "photos" / "pic.jpg" and path.read_bytes() == photo.read_bytes()
    monkeypatch.setattr(archives, "network_available", _no_network)
    assert datasets.get_file("photo_test") == path


# --- a half-present dataset is never trusted (layout_problems) ---------------------


def _tree_digest(root: Path) -> str:
    """One hash of every path and file under ``root``: equal before and after = untouched."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(path.relative_to(root).as_posix().encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _touch(folder: Path, n: int, stem: str = "img") -> None:
    """``n`` empty ``.jpg`` files: the check counts names, it never decodes."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"{stem}.{i}.jpg").touch()


def _pets(root: Path, counts: dict[str, int] | None = None) -> Path:
    """``cats_and_dogs_filtered`` with 4 images per class and split; ``counts`` overrides."""
    counts = {"train/cats": 4, "train/dogs": 4, "validation/cats": 4, "validation/dogs": 4,
              **(counts or {})}  # fmt: skip
    for key, n in counts.items():
        if n is not None:
            _touch(root / key, n)
    return root


def _flowers(root: Path, counts: dict[str, int | None] | None = None) -> Path:
    """``flower_photos`` with 4 images per class and LICENSE.txt; ``counts`` overrides."""
    names = datasets.dataset_info("flower_photos").class_names
    for name, n in ({n: 4 for n in names} | (counts or {})).items():
        if n is not None:
            _touch(root / name, n)
    (root / "LICENSE.txt").write_text("attribution list")
    return root


FULL_FLOWERS = {"daisy": 633, "dandelion": 898, "roses": 641, "sunflowers": 699, "tulips": 799}

# (dataset, how the cached folder is built, what the error must say)
HALF_PRESENT = [
    ("cats_and_dogs_filtered", lambda r: _pets(r, {"train/dogs": None, "validation/dogs": None}),
     r"class 'dogs' is missing: no folder train/dogs/"),
    ("cats_and_dogs_filtered", lambda r: _pets(r, {"validation/cats": None,
                                                   "validation/dogs": None}),
     r"split 'validation' is missing: no folder validation/"),
    ("cats_and_dogs_filtered", lambda r: _pets(r, {"validation/dogs": 0}),
     r"class 'dogs' has no images in validation/dogs/"),
    ("cats_and_dogs_filtered", lambda r: _pets(r, {"validation/dogs": 1}),
     r"validation/dogs/ has only 1 images where the other classes imply 4"),
    ("cats_and_dogs_filtered", lambda r: _pets(r, {"train/cats": None, "train/dogs": None,
                                                   "validation/cats": None,
                                                   "validation/dogs": None, "cats": 4, "dogs": 4}),
     r"(?s)split 'train' is missing.*cats/ holds 4 images but is not one of the dataset's"),
    ("flower_photos", lambda r: _flowers(r, {"roses": None, "sunflowers": None}),
     r"(?s)class 'roses' is missing: no folder roses/.*class 'sunflowers' is missing"),
    ("flower_photos", lambda r: _flowers(r, {**FULL_FLOWERS, "tulips": 120}),
     r"tulips/ has only 120 images where the other classes imply 799 \(the complete "
     r"dataset has 799\): a copy that stopped part-way"),
    ("flower_photos", lambda r: _pets(r),  # the other dataset's folder under this name
     r"(?s)class 'daisy' is missing.*train/cats/ holds 4 images but is not one of the "
     r"dataset's classes \(daisy, dandelion"),
    ("flower_photos", lambda r: _flowers(r, {"roses copy": 4}),
     r"roses copy/ holds 4 images but is not one of the dataset's classes"),
    ("flower_photos", lambda r: _flowers(r, {"daisy": 700}),
     r"daisy/ has 700 images, more than the 633 of the complete dataset"),
    ("flower_photos", lambda r: (r / "LICENSE.txt").parent.mkdir(parents=True)
     or (r / "LICENSE.txt").write_text("only this"),
     r"class 'daisy' is missing"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "build", "problem"), HALF_PRESENT, ids=[f"{n}-{i}" for i, (n, *_) in
                                                     enumerate(HALF_PRESENT)],
)  # fmt: skip
def test_half_present_dataset_stops_with_what_is_missing(
    data_root: Path, monkeypatch: pytest.MonkeyPatch, name: str, build, problem: str
) -> None:
    folder = data_root / name
    build(folder)
    before = _tree_digest(data_root)
    monkeypatch.setattr(archives, "network_available", _no_network)
    with pytest.raises(datasets.IncompleteDatasetError, match=problem) as err:
        get_dataset(name)
    message = str(err.value)
    assert f"The copy of dataset {name!r} in {folder} is incomplete" in message
    assert "Delete this folder and run again" in message  # the fix, and the manual one:
    assert datasets.dataset_info(name).filename in message and str(folder) in message
    assert not isinstance(err.value, DatasetUnavailableError)  # not taken for "offline"
    assert _tree_digest(data_root) == before  # the student's files are left as they were


def test_the_keras_tutorial_folder_is_checked_too(
    data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tutorial = datasets.keras_home() / "datasets" / "flower_photos"
    _flowers(tutorial, {"tulips": None})
    monkeypatch.setattr(archives, "network_available", _no_network)
    with pytest.raises(datasets.IncompleteDatasetError, match=f"(?s){tutorial}.*'tulips'"):
        get_dataset("flower_photos")


# (dataset, how the cached folder is built): each is a whole copy or a per-class subset
ACCEPTED = [
    ("flower_photos", lambda r: _flowers(r)),  # the first N of every class
    ("flower_photos", lambda r: _flowers(r, FULL_FLOWERS)),  # the complete dataset ...
    ("flower_photos", lambda r: _flowers(r, {**FULL_FLOWERS, "daisy": 630})),  # ... less 3
    ("flower_photos", lambda r: _flowers(r, {n: min(700, c) for n, c in FULL_FLOWERS.items()})),
    ("flower_photos", lambda r: _flowers(r, {".ipynb_checkpoints": 2, "__MACOSX/daisy": 3})),
    ("cats_and_dogs_filtered", lambda r: _pets(r, {"validation/cats": 2, "validation/dogs": 2})),
    ("cats_and_dogs_filtered", lambda r: _pets(r) and (r / "vectorize.py").write_text("")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "build"), ACCEPTED, ids=[f"{n}-{i}" for i, (n, _) in
                                                           enumerate(ACCEPTED)])  # fmt: skip
def test_whole_copies_and_per_class_subsets_are_accepted(
    data_root: Path, monkeypatch: pytest.MonkeyPatch, name: str, build
) -> None:
    build(data_root / name)
    monkeypatch.setattr(archives, "network_available", _no_network)
    assert datasets.layout_problems(name, data_root / name) == []
    assert get_dataset(name) == data_root / name


@pytest.mark.parametrize("name", ["cats_and_dogs_filtered", "flower_photos"])
def test_the_offline_subsets_the_course_uses_are_accepted(data_root: Path, name: str) -> None:
    real = ASSETS / "datasets" / name
    if not real.is_dir():
        pytest.skip(f"needs the offline {name} in ../shared/assets")
    (data_root / name).symlink_to(real)  # what .ci/run does
    assert datasets.layout_problems(name, real) == []
    assert get_dataset(name) == data_root / name


def test_registry_class_counts_match_names_and_totals() -> None:
    for name in datasets.list_datasets():
        info = datasets.dataset_info(name)
        if info.kind != "archive":
            continue
        assert info.class_counts, f"{name}: layout_problems needs the complete per-class counts"
        assert sorted(info.class_counts) == sorted(info.splits or ["all"]), name
        for split, counts in info.class_counts.items():
            assert list(counts) == info.class_names, (name, split)
            assert sum(counts.values()) == info.num_images[split], (name, split)


def test_a_download_that_is_not_the_dataset_is_not_kept(
    data_root: Path, tmp_path: Path, http_root: tuple[Path, str], monkeypatch
) -> None:
    www, base = http_root
    tree = _flowers(tmp_path / "two_flowers", {"roses": None, "sunflowers": None, "tulips": None})
    archive = _tgz_of(tree, "flower_photos", www / "flower_photos.tgz")
    info = replace(
        datasets.dataset_info("flower_photos"), url=f"{base}/{archive.name}", sha256=None,
        size_bytes=archive.stat().st_size,
    )  # fmt: skip
    monkeypatch.setitem(datasets.REGISTRY, "flower_photos", info)
    with pytest.raises(datasets.IncompleteDatasetError, match="(?s)The archive .*'roses'"):
        get_dataset("flower_photos")
    assert not (data_root / "flower_photos").exists()
    assert not [p for p in data_root.iterdir() if p.name.startswith(".partial-")]


# --- settings: COURSE_DATA_DIR, names ------------------------------------------------


def test_data_dir_strips_spaces(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COURSE_DATA_DIR", f"  {tmp_path / 'cache'}\t ")
    assert datasets.data_dir() == tmp_path / "cache"


def test_relative_data_dir_is_resolved_and_said(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", " course-cache ")
    with pytest.warns(UserWarning, match=f"relative path.*{tmp_path / 'course-cache'}"):
        assert datasets.data_dir() == tmp_path / "course-cache"


def _data_dir_error(monkeypatch: pytest.MonkeyPatch, value: str) -> str:
    monkeypatch.setenv("COURSE_DATA_DIR", value)
    with pytest.raises(datasets.DataDirError) as err:
        get_dataset("flower_photos")  # the first call that needs the cache
    return str(err.value)


def test_data_dir_that_is_a_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    message = _data_dir_error(monkeypatch, str(notes))
    assert f"{notes} (from COURSE_DATA_DIR='{notes}') is a file" in message
    assert "os.environ['COURSE_DATA_DIR'] = " in message and "export COURSE_DATA_DIR=" in message
    assert f"cannot be created: {notes} is a file" in _data_dir_error(
        monkeypatch, str(notes / "cache")
    )
    assert notes.read_text() == "mine"


def test_read_only_data_dir_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != shared and real_access(p, mode))
    assert "is read-only" in _data_dir_error(monkeypatch, str(shared))
    assert f"cannot be created: {shared} is read-only" in _data_dir_error(
        monkeypatch, str(shared / "cache")
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_read_only_data_dir_for_real(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o555)
    try:
        assert "is read-only" in _data_dir_error(monkeypatch, str(shared))
    finally:
        shared.chmod(0o755)


def test_default_cache_problem_names_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "xdg").write_text("")
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(datasets.DataDirError, match="from the default, as COURSE_DATA_DIR is not"):
        datasets.data_dir()


def test_bad_data_dir_does_not_break_import(tmp_path: Path) -> None:
    """A wrong setting is reported when the cache is first needed, not at ``import``."""
    notes = tmp_path / "notes.txt"
    notes.write_text("")
    code = (
        "import course_utils.datasets as d, course_utils.folders, course_utils.hub\n"
        "try:\n    d.data_dir()\nexcept d.DataDirError as err:\n    print('needed:', err)\n"
    )
    env = {**os.environ, "COURSE_DATA_DIR": str(notes), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).parents[1],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(f"needed: The course's data cache {notes}")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("flower_photo", "flower_photos"), ("Flower_Photos", "flower_photos"),
     ("cats_and_dogs", "cats_and_dogs_filtered"), ("fashion-mnist", "fashion_mnist"),
     (" photo_cat ", "photo_cat")],
)  # fmt: skip
def test_misspelt_dataset_names_get_the_closest_one(typed: str, meant: str) -> None:
    for fetch in (datasets.dataset_info, get_dataset, datasets.get_file,
                  datasets.load_keras_dataset):  # fmt: skip
        with pytest.raises(datasets.UnknownDatasetError) as err:
            fetch(typed)
        assert str(err.value).startswith(f"Unknown dataset {typed!r}. Did you mean {meant!r}?")
        assert isinstance(err.value, KeyError)


def test_a_name_like_none_gets_no_guess() -> None:
    with pytest.raises(KeyError) as err:
        datasets.dataset_info("imagenet")
    assert "Did you mean" not in str(err.value) and "flower_photos" in str(err.value)


# --- each kind of entry points to its own function ----------------------------------


@pytest.mark.parametrize(
    ("fetch", "name", "says"),
    [(get_dataset, "photo_cat", "a single file (a photo or a model, fetched with get_file), "
                                "not an archive dataset: use get_file('photo_cat')"),
     (get_dataset, "fashion_mnist", "a Keras dataset (loaded through "
                                    "keras.datasets.fashion_mnist.load_data()), not an archive "
                                    "dataset: use load_keras_dataset('fashion_mnist')"),
     (datasets.get_file, "flower_photos", "not a single file: use get_dataset('flower_photos')"),
     (datasets.load_keras_dataset, "photo_cat", "not a Keras dataset: use get_file('photo_cat')"),
     (datasets.load_keras_dataset, "flower_photos", "use get_dataset('flower_photos')")],
)  # fmt: skip
def test_wrong_function_for_the_kind_names_the_right_one(fetch, name: str, says: str) -> None:
    with pytest.raises(ValueError) as err:
        fetch(name)
    assert says in str(err.value) and "None" not in str(err.value)
