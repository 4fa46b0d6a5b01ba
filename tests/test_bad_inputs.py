"""The bad-input matrix: every kind of file a student's folder can hold.

Each case has one documented result, the same for a single image
(:func:`course_utils.images.load_image`), a scan, and an image folder
(:func:`course_utils.folders.subset_per_class` read by
``keras.utils.image_dataset_from_directory``):

- ``ok``: loads as it is;
- ``convert``: loads after conversion to 8-bit RGB (the mode is reported);
- ``bad``: skipped and counted by folder readers, and a ``BadImageError``
  naming the file (and the reason) from ``load_image``.

After every test the user's files are byte-identical (hashed before and after).
Folder-structure problems (an empty or missing class folder) raise
``ClassFolderError`` naming the folder. Archives, downloads and model files
have their own tests (``test_archives.py``, ``test_datasets.py``, ``test_downloads.py``,
``test_saving.py``).
"""

from __future__ import annotations

import builtins
import hashlib
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from helpers import write_rgb
from PIL import Image

from course_utils import images
from course_utils.folders import ClassFolderError, subset_per_class
from course_utils.images import BadImageError, check_image, load_image, scan_images

# name -> (file name, expected status, what the reason / mode must contain)
MATRIX: dict[str, tuple[str, str, str]] = {
    "good jpeg": ("good.jpg", "ok", ""),
    "non-ascii name": ("café-猫 ñ.jpg", "ok", ""),
    "corrupt jpeg": ("corrupt.jpg", "bad", "corrupt"),
    "truncated jpeg": ("truncated.jpg", "bad", "truncated"),
    "zero-byte file": ("zero.jpg", "bad", "empty file"),
    "text named .jpg": ("notes.jpg", "bad", "not an image"),
    "unreadable file": ("locked.jpg", "bad", "permission denied"),
    "png with alpha": ("alpha.png", "convert", "RGBA"),
    "grayscale jpeg": ("grey.jpg", "convert", "L"),
    "cmyk jpeg": ("cmyk.jpg", "convert", "CMYK"),
    "16-bit png": ("sixteen.png", "convert", "I;16"),
    "10000x10000 png": ("huge.png", "ok", ""),
}


def _jpeg_bytes(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 10000 x 10000 PNG (one colour, so the file is small: ~0.3 MB)."""
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    Image.new("RGB", (10_000, 10_000), (10, 200, 30)).save(path)
    return path


def _make(folder: Path, huge_png: Path) -> dict[str, Path]:
    """Write one file of every kind into ``folder``; return case name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {case: folder / name for case, (name, _, _) in MATRIX.items()}
    write_rgb(files["good jpeg"], size=(64, 48), seed=1)
    write_rgb(files["non-ascii name"], size=(64, 48), seed=2)
    full = _jpeg_bytes(3)
    rng = np.random.default_rng(4)
    files["corrupt jpeg"].write_bytes(full[:300] + rng.bytes(len(full) - 300))
    files["truncated jpeg"].write_bytes(full[: len(full) // 2])
    files["zero-byte file"].write_bytes(b"")
    files["text named .jpg"].write_text("a shopping list, not a photo\n")
    write_rgb(files["unreadable file"], seed=5)
    Image.new("RGBA", (64, 48), (0, 0, 255, 0)).save(files["png with alpha"])
    Image.new("L", (64, 48), 128).save(files["grayscale jpeg"])
    Image.new("CMYK", (64, 48), (0, 255, 255, 0)).save(files["cmyk jpeg"])
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (48, 1))
    Image.fromarray(ramp).save(files["16-bit png"])
    files["10000x10000 png"].write_bytes(huge_png.read_bytes())
    return files


@contextmanager
def _unreadable(path: Path) -> Iterator[None]:
    """Make ``path`` unreadable: chmod 000, or (as root, who may read anything) refuse opens."""
    if os.geteuid() != 0:
        path.chmod(0)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    real_open: Callable = builtins.open

    def guarded(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file).resolve() == path.resolve():
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    builtins.open = guarded
    try:
        yield
    finally:
        builtins.open = real_open


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def zoo(tmp_path: Path, huge_png: Path) -> Iterator[dict[str, Path]]:
    files = _make(tmp_path / "user" / "photos", huge_png)
    before = _hashes(tmp_path / "user")
    with _unreadable(files["unreadable file"]):
        yield files
    assert _hashes(tmp_path / "user") == before, "a user's file was changed"


@pytest.mark.parametrize("case", list(MATRIX))
def test_single_image_gives_the_documented_result(zoo: dict[str, Path], case: str) -> None:
    _, status, detail = MATRIX[case]
    path = zoo[case]
    got_status, got_detail = check_image(path)
    assert got_status == status, (case, got_detail)
    if status == "bad":
        with pytest.raises(BadImageError, match=detail) as err:
            load_image(path, target_size=(16, 16))
        assert err.value.path == path and path.name in str(err.value)
        return
    assert detail in (got_detail or "")
    pixels = load_image(path, target_size=(16, 16))
    assert pixels.shape == (16, 16, 3) and pixels.dtype == np.uint8


def test_sixteen_bit_values_are_scaled_not_clipped(zoo: dict[str, Path]) -> None:
    row = load_image(zoo["16-bit png"])[0, :, 0]
    assert row[0] == 0 and row[-1] == 255 and 120 <= row[32] <= 135
    assert (np.diff(row.astype(int)) >= 0).all()  # still a ramp: nothing saturated


def test_huge_image_is_decoded_at_full_size(zoo: dict[str, Path]) -> None:
    assert load_image(zoo["10000x10000 png"]).shape == (10_000, 10_000, 3)


def test_images_over_the_pixel_limit_are_refused_before_decoding(
    zoo: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 64 * 48 - 1)
    status, reason = check_image(zoo["good jpeg"])
    assert status == "bad" and reason is not None and "too large (64 x 48" in reason


def test_scan_counts_each_kind(zoo: dict[str, Path]) -> None:
    report = scan_images(next(iter(zoo.values())).parent)
    expected = {s: sum(1 for _, st, _ in MATRIX.values() if st == s) for s in ("ok", "convert")}
    assert len(report.ok) == expected["ok"] and len(report.converted) == expected["convert"]
    assert {p.name for p, _ in report.bad} == {n for n, s, _ in MATRIX.values() if s == "bad"}


def test_folder_of_bad_files_trains_without_crashing_tensorflow(
    data_root: Path, tmp_path: Path, huge_png: Path
) -> None:
    import keras

    user = tmp_path / "user"
    for cls in ("a", "b"):
        _make(user / "mixed" / cls, huge_png)
    before = _hashes(user)
    locked = [user / "mixed" / cls / "locked.jpg" for cls in ("a", "b")]
    with _unreadable(locked[0]), _unreadable(locked[1]):
        view = subset_per_class(user / "mixed", None)
    usable = sum(1 for _, s, _ in MATRIX.values() if s != "bad")
    assert view.counts == {"a": usable, "b": usable}
    assert len(view.skipped) == 2 * sum(1 for _, s, _ in MATRIX.values() if s == "bad")
    assert {why for _, why in view.skipped} >= {"empty file (0 bytes)"}
    ds = keras.utils.image_dataset_from_directory(
        view.path, image_size=(32, 32), batch_size=8, shuffle=False
    )
    seen = sum(int(x.shape[0]) for x, _ in ds)  # decodes every file, huge one included
    assert seen == 2 * usable
    assert _hashes(user) == before


# --- folder structure -------------------------------------------------------------


def _classes(root: Path, spec: dict[str, int]) -> Path:
    for rel, n in spec.items():
        (root / rel).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            write_rgb(root / rel / f"{i}.jpg", seed=i)
    return root


def test_empty_class_folder_is_named(data_root: Path, tmp_path: Path) -> None:
    root = _classes(tmp_path / "flowers", {"daisy": 3, "tulips": 0})
    with pytest.raises(ClassFolderError, match=r"tulips has no image files"):
        subset_per_class(root, 2)


def test_class_folder_with_only_unreadable_files_is_named(data_root: Path, tmp_path: Path) -> None:
    root = _classes(tmp_path / "flowers", {"daisy": 3, "roses": 0})
    (root / "roses" / "a.jpg").write_bytes(b"")
    (root / "roses" / "b.jpg").write_text("not an image")
    with pytest.raises(ClassFolderError, match=r"roses has no usable images: all 2 files"):
        subset_per_class(root, None)
    assert not any((data_root / "subsets").glob("flowers*"))  # nothing half-built kept


def test_class_missing_from_one_split_is_named(data_root: Path, tmp_path: Path) -> None:
    root = _classes(
        tmp_path / "pets", {"train/cats": 2, "train/dogs": 2, "validation/cats": 2}
    )
    with pytest.raises(ClassFolderError, match=r"validation has no class folder 'dogs'"):
        subset_per_class(root, 1)


def test_class_missing_from_the_expected_names_is_named(data_root: Path, tmp_path: Path) -> None:
    root = _classes(tmp_path / "flowers", {"daisy": 2, "roses": 2})
    with pytest.raises(ClassFolderError, match=r"'tulips'"):
        subset_per_class(root, 1, class_names=["daisy", "roses", "tulips"])
    assert subset_per_class(root, 1, class_names=["daisy", "roses"]).counts == {
        "daisy": 1, "roses": 1,
    }


def test_hidden_folders_are_not_classes(data_root: Path, tmp_path: Path) -> None:
    root = _classes(tmp_path / "flowers", {"daisy": 2, "roses": 2, ".ipynb_checkpoints": 1})
    (root / "__MACOSX").mkdir()
    assert subset_per_class(root, None).counts == {"daisy": 2, "roses": 2}


def test_missing_source_folder_is_named(data_root: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        subset_per_class(tmp_path / "no_such_folder", 3)
