from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import write_rgb
from PIL import Image

from course_utils.images import (
    BadImageError,
    check_image,
    image_paths,
    load_image,
    load_images,
    sample_image,
    sample_images,
    scan_images,
)


@pytest.fixture
def zoo(tmp_path: Path) -> dict[str, Path]:
    """One file of every kind a real photo folder can contain."""
    files = {"good": write_rgb(tmp_path / "good.jpg", size=(20, 10))}
    files["empty"] = tmp_path / "empty.jpg"
    files["empty"].write_bytes(b"")
    files["text"] = tmp_path / "notes.jpg"
    files["text"].write_text("this is not an image")
    full = files["good"].read_bytes()
    files["truncated"] = tmp_path / "truncated.jpg"
    files["truncated"].write_bytes(full[: len(full) // 2])
    files["cmyk"] = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (6, 4), (0, 255, 255, 0)).save(files["cmyk"])  # red in CMYK
    files["grey"] = tmp_path / "grey.png"
    Image.new("L", (6, 4), 128).save(files["grey"])
    files["alpha"] = tmp_path / "alpha.png"
    Image.new("RGBA", (6, 4), (0, 0, 255, 0)).save(files["alpha"])  # fully transparent blue
    return files


def test_sample_images_need_no_network() -> None:
    china = sample_image("china")
    assert china.shape == (427, 640, 3) and china.dtype == np.uint8
    batch = sample_images()
    assert batch.shape == (2, 427, 640, 3) and 0.0 <= batch.min() and batch.max() <= 1.0
    assert sample_images(scale=False).dtype == np.uint8


def test_unknown_sample_image() -> None:
    with pytest.raises(ValueError, match="china"):
        sample_image("tiger")


def test_good_image_loads_and_resizes(zoo: dict[str, Path]) -> None:
    img = load_image(zoo["good"])
    assert img.shape == (10, 20, 3) and img.dtype == np.uint8
    assert load_image(zoo["good"], target_size=(5, 7)).shape == (5, 7, 3)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("empty", "empty file"), ("text", "not an image"), ("truncated", "truncated")],
)
def test_bad_files_raise_a_clear_error(zoo: dict[str, Path], kind: str, reason: str) -> None:
    with pytest.raises(BadImageError, match=reason) as err:
        load_image(zoo[kind])
    assert err.value.path == zoo[kind] and str(zoo[kind]) in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")


def test_cmyk_grey_and_alpha_become_rgb(zoo: dict[str, Path]) -> None:
    cmyk = load_image(zoo["cmyk"])
    assert cmyk.shape == (4, 6, 3) and cmyk[0, 0, 0] > 200 and cmyk[0, 0, 2] < 60
    assert load_image(zoo["grey"]).shape == (4, 6, 3)
    alpha = load_image(zoo["alpha"])
    assert alpha.shape == (4, 6, 3) and (alpha == 255).all()  # transparent -> white


def test_check_image_classifies(zoo: dict[str, Path]) -> None:
    assert check_image(zoo["good"]) == ("ok", None)
    assert check_image(zoo["cmyk"]) == ("convert", "CMYK")
    assert check_image(zoo["alpha"]) == ("convert", "RGBA")
    assert check_image(zoo["empty"])[0] == "bad"


def test_scan_counts_every_kind_and_changes_nothing(zoo: dict[str, Path], tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in zoo.values()}
    report = scan_images(tmp_path)
    assert len(report.ok) == 1 and len(report.converted) == 3 and len(report.bad) == 3
    assert report.summary() == "1 images ok, 3 converted to RGB, 3 skipped as unreadable"
    assert len(report.usable) == 4
    assert {p: p.read_bytes() for p in zoo.values()} == before


def test_load_images_skips_and_counts(zoo: dict[str, Path]) -> None:
    batch, loaded, report = load_images(list(zoo.values()), target_size=(8, 8))
    assert batch.shape == (4, 8, 8, 3)
    assert set(loaded) == {zoo[k] for k in ("good", "cmyk", "grey", "alpha")}
    assert {p.name for p, _ in report.bad} == {"empty.jpg", "notes.jpg", "truncated.jpg"}


def test_tensorflow_would_have_crashed_on_the_truncated_file(zoo: dict[str, Path]) -> None:
    """Why the checks exist: TensorFlow's decoder fails deep inside a pipeline."""
    import tensorflow as tf

    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_image(tf.io.read_file(str(zoo["text"])))


def test_load_images_takes_a_folder_or_one_file(zoo: dict[str, Path], tmp_path: Path) -> None:
    for folder in (str(tmp_path), tmp_path):  # a str is one path, not a list of characters
        batch, loaded, report = load_images(folder, target_size=(8, 8))
        assert batch.shape == (4, 8, 8, 3) and len(report.bad) == 3
        assert set(loaded) == {zoo[k] for k in ("good", "cmyk", "grey", "alpha")}
    batch, loaded, _ = load_images(str(zoo["good"]), target_size=(8, 8))
    assert batch.shape == (1, 8, 8, 3) and loaded == [zoo["good"]]


@pytest.mark.parametrize(
    ("paths", "error", "message"),
    [
        (42, TypeError, "a file, a folder or a list of paths, got 42"),
        ([Path("a.jpg"), None], TypeError, "got None"),
        ("no_such_folder", FileNotFoundError, "No such file or folder: no_such_folder"),
    ],
)
def test_what_is_not_a_path_is_named(paths: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        load_images(paths, target_size=(8, 8))
    with pytest.raises(error, match=message):
        scan_images(paths)


def test_scan_of_a_missing_folder_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="photos_from_phone"):
        scan_images(tmp_path / "photos_from_phone")


def test_image_paths_follow_linked_folders_but_not_loops(tmp_path: Path) -> None:
    write_rgb(tmp_path / "elsewhere" / "cats" / "a.jpg")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cats").symlink_to(tmp_path / "elsewhere" / "cats")
    (tmp_path / "elsewhere" / "cats" / "back").symlink_to(tmp_path / "data")  # a loop
    assert [p.relative_to(tmp_path).as_posix() for p in image_paths(tmp_path / "data")] == [
        "data/cats/a.jpg"
    ]
