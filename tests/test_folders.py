"""Per-class subsets (:func:`course_utils.folders.subset_per_class`) of good image folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import ASSETS, write_rgb
from PIL import Image

from course_utils.datasets import get_dataset
from course_utils.folders import subset_per_class

# --- subsets --------------------------------------------------------------------


def test_subset_is_deterministic_and_capped(data_root: Path, image_tree: Path) -> None:
    view = subset_per_class(image_tree, 4, seed=1)
    assert view.counts == {f"{s}/{c}": 4 for s in ("train", "validation") for c in ("cats", "dogs")}
    again = subset_per_class(image_tree, 4, seed=1)
    files = sorted(p.name for p in view.path.rglob("*.jpg"))
    assert files == sorted(p.name for p in again.path.rglob("*.jpg"))
    other = subset_per_class(image_tree, 4, seed=2)
    assert other.path != view.path
    assert view.path.is_relative_to(data_root)


def test_subset_keeps_layout_and_never_touches_source(data_root: Path, image_tree: Path) -> None:
    before = {p: p.read_bytes() for p in image_tree.rglob("*") if p.is_file()}
    view = subset_per_class(image_tree, 2)
    assert sorted(p.relative_to(view.path).as_posix() for p in view.path.glob("*/*")) == [
        "train/cats",
        "train/dogs",
        "validation/cats",
        "validation/dogs",
    ]
    assert {p: p.read_bytes() for p in image_tree.rglob("*") if p.is_file()} == before


def test_subset_none_keeps_all(data_root: Path, image_tree: Path) -> None:
    assert sum(subset_per_class(image_tree, None).counts.values()) == 24


def test_subset_skips_bad_and_converts_odd_images(data_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "flowers"
    for i in range(3):
        write_rgb(root / "daisy" / f"{i}.jpg", seed=i)
    (root / "daisy" / "empty.jpg").write_bytes(b"")
    Image.new("CMYK", (8, 8)).save(root / "daisy" / "cmyk.jpg")
    view = subset_per_class(root, None)
    assert view.counts == {"daisy": 4}
    assert [name for name, _ in view.skipped] == ["daisy/empty.jpg"]
    assert view.converted == [("daisy/cmyk.jpg", "CMYK")]
    assert (view.path / "daisy" / "cmyk.jpg.png").is_file()  # its own name, and a new file
    assert "1 unreadable skipped" in view.summary()
    assert (root / "daisy" / "empty.jpg").exists()  # the user's file is untouched


def test_subset_reads_with_image_dataset_from_directory(data_root: Path, image_tree: Path) -> None:
    import keras

    view = subset_per_class(image_tree, 3)
    ds = keras.utils.image_dataset_from_directory(
        view.path / "train", image_size=(8, 8), batch_size=4, shuffle=False
    )
    assert ds.class_names == ["cats", "dogs"]
    assert sum(int(x.shape[0]) for x, _ in ds) == 6


def test_subset_argument_errors(data_root: Path, tmp_path: Path, image_tree: Path) -> None:
    with pytest.raises(ValueError, match="per_class"):
        subset_per_class(image_tree, 0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="No class folders"):
        subset_per_class(tmp_path / "empty", 3)


@pytest.mark.skipif(
    not (ASSETS / "datasets" / "cats_and_dogs_filtered").is_dir(), reason="needs ../shared/assets"
)
def test_subset_of_the_real_cats_and_dogs(data_root: Path) -> None:
    real = ASSETS / "datasets" / "cats_and_dogs_filtered"
    (data_root / "cats_and_dogs_filtered").symlink_to(real)
    view = subset_per_class(get_dataset("cats_and_dogs_filtered"), 5)
    assert view.counts["train/cats"] == 5 and view.counts["validation/dogs"] == 5
    assert not view.skipped


# --- a view matches its source as it is now, and only its source ------------------------


def _targets(view_path: Path) -> list[str]:
    """The source files a view's links point to (names), sorted; every link must resolve."""
    links = [p for p in view_path.rglob("*") if p.is_symlink()]
    assert all(p.exists() for p in links), "a dangling link in the view"
    return sorted(p.resolve().name for p in links)


def test_view_follows_photos_added_deleted_or_changed(data_root: Path, image_tree: Path) -> None:
    cats = image_tree / "train" / "cats"
    view = subset_per_class(image_tree, None)
    assert view.counts["train/cats"] == 6
    (cats / "cat.0.jpg").unlink()
    write_rgb(cats / "new.0.jpg", seed=10)
    write_rgb(cats / "new.1.jpg", seed=11)
    again = subset_per_class(image_tree, None)
    assert again.path == view.path and again.counts["train/cats"] == 7
    assert _targets(again.path / "train" / "cats") == sorted(p.name for p in cats.iterdir())
    Image.new("L", (12, 10), 50).save(image_tree / "train" / "dogs" / "dog.0.jpg")  # replaced
    third = subset_per_class(image_tree, None)
    assert third.converted == [("train/dogs/dog.0.jpg", "L")]
    assert "dog.0.jpg" not in _targets(third.path / "train" / "dogs")


def test_unchanged_view_is_reused(data_root: Path, image_tree: Path) -> None:
    view = subset_per_class(image_tree, 3)
    manifest = view.path / ".subset.json"
    built = manifest.stat().st_mtime_ns
    assert subset_per_class(image_tree, 3) == view
    assert manifest.stat().st_mtime_ns == built  # read back, not rebuilt


def test_folders_with_one_name_get_views_of_their_own(data_root: Path, tmp_path: Path) -> None:
    alice, bob = tmp_path / "alice" / "flowers", tmp_path / "bob" / "flowers"
    for root, spec in ((alice, {"daisy": 2, "roses": 2}), (bob, {"daisy": 3, "tulips": 1})):
        for cls, n in spec.items():
            for i in range(n):
                write_rgb(root / cls / f"{root.parent.name}{i}.jpg", seed=i)
    first = subset_per_class(alice, None)
    second = subset_per_class(bob, None)
    assert first.path != second.path and first.path.name.startswith("flowers-all-seed0-")
    assert first.counts == {"daisy": 2, "roses": 2} and second.counts == {"daisy": 3, "tulips": 1}
    assert _targets(first.path) == ["alice0.jpg", "alice0.jpg", "alice1.jpg", "alice1.jpg"]
    assert subset_per_class(alice, None) == first  # still there, still alice's
    (tmp_path / "link").symlink_to(alice)  # one folder by two paths: one view
    assert subset_per_class(tmp_path / "link", None).path == first.path
