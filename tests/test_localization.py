"""The generated localisation set: exact boxes, determinism, disjoint splits, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_utils import boxes as B
from course_utils import datasets
from course_utils import localization as L

CLASSES = ("blue", "red", "yellow")
COLOURS = {"blue": (0, 0, 255), "red": (255, 0, 0), "yellow": (255, 255, 0)}


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Solid-colour 'objects' (one folder per class) and grey-noise 'backgrounds'."""
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path / "cache"))
    objects, backgrounds = tmp_path / "objects", tmp_path / "backgrounds"
    rng = np.random.default_rng(0)
    for name in CLASSES:
        (objects / name).mkdir(parents=True)
        for i in range(12):
            img = np.zeros((40 + i, 50, 3), np.uint8) + np.array(COLOURS[name], np.uint8)
            Image.fromarray(img).save(objects / name / f"{name}_{i:02d}.png")
    (backgrounds / "scenes").mkdir(parents=True)
    for i in range(20):
        noise = rng.integers(90, 140, size=(60, 70, 1), dtype=np.uint8).repeat(3, axis=2)
        Image.fromarray(noise).save(backgrounds / "scenes" / f"bg_{i:02d}.png")
    return objects, backgrounds


def make(folders: tuple[Path, Path], n: int = 12, size: int = 48, **kw) -> L.LocalizationSet:
    objects, backgrounds = folders
    return L.make_localization_set(n, size, object_root=objects, background_root=backgrounds, **kw)


def test_shapes_types_and_classes(folders: tuple[Path, Path]) -> None:
    data = make(folders)
    assert data.images.shape == (12, 48, 48, 3) and data.images.dtype == np.uint8
    assert data.labels.shape == (12,) and data.labels.dtype == np.int32
    assert data.boxes.shape == (12, 4) and data.boxes.dtype == np.float32
    assert data.masks.shape == (12, 48, 48)
    assert data.class_names == CLASSES and len(data) == 12
    assert set(data.labels.tolist()) <= {0, 1, 2}


def test_boxes_are_the_tight_boxes_of_the_pasted_objects(folders: tuple[Path, Path]) -> None:
    data = make(folders, n=20)
    for image, mask, box, label in zip(
        data.images, data.masks, data.corners(), data.labels, strict=True
    ):
        ys, xs = np.nonzero(mask)
        np.testing.assert_allclose(
            box * 48, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], atol=1e-4
        )
        # inside the mask: the object's colour; outside: the grey background
        colour = np.array(COLOURS[CLASSES[label]])
        assert np.abs(image[mask == 1].astype(int) - colour).max() <= 2
        outside = image[mask == 0].astype(int)
        assert np.all(outside.max(axis=1) - outside.min(axis=1) <= 2)


def test_boxes_inside_unit_square_and_scale_range(folders: tuple[Path, Path]) -> None:
    data = make(folders, n=30, size=64, scale_range=(0.3, 0.5), aspect_range=(1.0, 1.0))
    c = data.corners()
    assert c.min() >= 0.0 and c.max() <= 1.0
    sides = c[:, 2] - c[:, 0]
    assert sides.min() >= 0.3 - 2 / 64 and sides.max() <= 0.5 + 2 / 64


def test_center_format(folders: tuple[Path, Path]) -> None:
    corners = make(folders, seed=3)
    center = make(folders, seed=3, box_format="center")
    np.testing.assert_allclose(center.boxes, B.corners_to_center(corners.boxes), atol=1e-6)
    np.testing.assert_allclose(center.corners(), corners.boxes, atol=1e-6)


def test_deterministic_for_a_seed(folders: tuple[Path, Path]) -> None:
    a, b, c = make(folders, seed=5), make(folders, seed=5), make(folders, seed=6)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.boxes, c.boxes)


def test_train_validation_and_test_use_disjoint_photos(folders: tuple[Path, Path]) -> None:
    objects, backgrounds = folders
    for root in (objects, backgrounds):
        train, val, test = (
            {p for ps in L.source_files(root, split, 0.2, 0.2).values() for p in ps}
            for split in L.SPLITS
        )
        assert train and val and test
        assert not train & test and not train & val and not val & test
        total = sum(len(v) for v in L._files_by_class(root).values())
        assert len(train | val | test) == total


def test_the_test_split_does_not_depend_on_the_validation_fraction(
    folders: tuple[Path, Path],
) -> None:
    objects, _ = folders
    without = L.source_files(objects, "test", 0.2, 0.0)
    assert L.source_files(objects, "test", 0.2, 0.3) == without
    assert L.source_files(objects, "validation", 0.2, 0.0) == {}


def test_scenes_of_each_split_come_from_that_splits_photos(folders: tuple[Path, Path]) -> None:
    objects, backgrounds = folders
    val = make(folders, n=30, split="validation", validation_fraction=0.3)
    train = make(folders, n=30, split="train", validation_fraction=0.3)
    assert val.images.shape == train.images.shape
    # the solid-colour objects all look alike, so compare the backgrounds' sources instead
    val_bg = {
        p.name for ps in L.source_files(backgrounds, "validation", 0.2, 0.3).values() for p in ps
    }
    train_bg = {
        p.name for ps in L.source_files(backgrounds, "train", 0.2, 0.3).values() for p in ps
    }
    assert val_bg and train_bg and not val_bg & train_bg


def test_split_ignores_seed_and_order(folders: tuple[Path, Path]) -> None:
    objects, _ = folders
    first = L.source_files(objects, "test")
    assert L.source_files(objects, "test") == first


def test_to_dataset_structure(folders: tuple[Path, Path]) -> None:
    data = make(folders, n=10)
    images, (labels, boxes) = next(iter(data.to_dataset(batch_size=4)))
    assert tuple(images.shape) == (4, 48, 48, 3) and images.dtype.name == "float32"
    assert tuple(labels.shape) == (4,) and tuple(boxes.shape) == (4, 4)
    np.testing.assert_array_equal(labels.numpy(), data.labels[:4])
    shuffled = [y[0].numpy() for _, y in data.to_dataset(batch_size=10, shuffle=True, seed=1)]
    assert sorted(shuffled[0].tolist()) == sorted(data.labels.tolist())


def test_patch_set(folders: tuple[Path, Path]) -> None:
    objects, backgrounds = folders
    x, y, names = L.make_patch_set(9, 32, object_root=objects, background_root=backgrounds)
    assert x.shape == (9, 32, 32, 3) and names == ("background", "flower")
    assert int(y.sum()) == 4
    flat_colour = x.reshape(9, -1, 3).std(axis=1).max(axis=1) < 1.0  # solid objects
    np.testing.assert_array_equal(flat_colour, y == 1)


def test_ellipse_mask_touches_all_sides() -> None:
    for w, h in [(4, 4), (5, 9), (17, 6), (40, 41)]:
        m = L.ellipse_mask(w, h)
        assert m.shape == (h, w)
        assert m[0].any() and m[-1].any() and m[:, 0].any() and m[:, -1].any()
        assert not m[0, 0] or min(w, h) < 5  # corners are outside an ellipse


@pytest.mark.parametrize(("w", "h", "seed"), [(4, 4, 0), (5, 9, 1), (17, 6, 2), (40, 41, 3)])
def test_blob_mask_fills_its_box_like_a_blob(w: int, h: int, seed: int) -> None:
    m = L.blob_mask(w, h, np.random.default_rng(seed))
    assert m.shape == (h, w) and set(np.unique(m).tolist()) <= {0, 1}
    assert m[0].any() and m[-1].any() and m[:, 0].any() and m[:, -1].any()
    assert 0.45 <= m.mean() <= 1.0  # a solid shape, not a thin outline
    again = L.blob_mask(w, h, np.random.default_rng(seed))
    np.testing.assert_array_equal(m, again)


def test_blob_outlines_differ_and_wobble_zero_is_an_ellipse() -> None:
    rng = np.random.default_rng(0)
    a, b = L.blob_mask(40, 30, rng), L.blob_mask(40, 30, rng)
    assert (a != b).mean() > 0.01
    round_blob = L.blob_mask(40, 30, rng, wobble=0.0)
    assert (round_blob != L.ellipse_mask(40, 30)).mean() < 0.05


def test_ellipse_shape_gives_ellipses(folders: tuple[Path, Path]) -> None:
    data = make(folders, n=6, size=64, shape="ellipse")
    for mask, box in zip(data.masks, data.corners(), strict=True):
        x0, y0, x1, y1 = np.round(box * 64).astype(int)
        np.testing.assert_array_equal(mask[y0:y1, x0:x1], L.ellipse_mask(x1 - x0, y1 - y0))


def test_backgrounds_are_blurred(folders: tuple[Path, Path]) -> None:
    sharp = make(folders, n=8, size=64, background_blur=0.0, seed=1)
    blurred = make(folders, n=8, size=64, background_blur=0.05, seed=1)
    np.testing.assert_array_equal(sharp.boxes, blurred.boxes)

    def roughness(data: L.LocalizationSet) -> float:
        grey = data.images[..., 0].astype(float)
        outside = data.masks[:, :, 1:] == 0
        return float(np.abs(np.diff(grey, axis=2))[outside].mean())

    assert roughness(blurred) < 0.5 * roughness(sharp)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "n_images"),
        ({"size": 8}, "image_size"),
        ({"box_format": "xywh"}, "box_format"),
        ({"scale_range": (0.5, 0.2)}, "scale_range"),
        ({"scale_range": (0.0, 0.2)}, "scale_range"),
        ({"aspect_range": (0.0, 1.0)}, "aspect_range"),
        ({"split": "valid"}, "split"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"validation_fraction": 0.8}, "validation_fraction"),
        ({"validation_fraction": -0.1}, "validation_fraction"),
        ({"shape": "star"}, "shape"),
        ({"background_blur": 0.5}, "background_blur"),
    ],
)
def test_argument_errors(folders: tuple[Path, Path], kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make(folders, **kwargs)


def test_missing_or_empty_folders(folders: tuple[Path, Path], tmp_path: Path) -> None:
    objects, backgrounds = folders
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="object images"):
        L.make_localization_set(2, 32, object_root=empty, background_root=backgrounds)
    with pytest.raises(FileNotFoundError, match="background"):
        L.make_localization_set(2, 32, object_root=objects, background_root=empty)
    with pytest.raises(ValueError, match="n_images"):
        L.make_patch_set(0, 32, object_root=objects, background_root=backgrounds)


def test_class_without_images_in_split(folders: tuple[Path, Path], tmp_path: Path) -> None:
    objects, backgrounds = folders
    lonely = objects / "zzz"
    lonely.mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(lonely / "only.png")
    split = L._split_of("zzz/only.png", 0.2)
    other = "train" if split == "test" else "test"
    with pytest.raises(FileNotFoundError, match="zzz"):
        make(folders, split=other)


def test_real_flowers_on_real_backgrounds() -> None:
    try:
        data = L.make_localization_set(6, 64, split="test", seed=0, per_class=16)
    except datasets.DatasetUnavailableError as err:
        pytest.skip(f"offline datasets not available: {err}")
    assert data.class_names == ("daisy", "dandelion", "roses", "sunflowers", "tulips")
    assert data.images.std() > 20  # real photos, not flat colour
    c = data.corners()
    assert np.all(c[:, 2] > c[:, 0]) and np.all(c[:, 3] > c[:, 1])
    val = L.make_localization_set(6, 64, split="validation", seed=0, per_class=16)
    assert val.class_names == data.class_names


# --------------------------------------------------------------------------- several objects


def make_scenes(folders: tuple[Path, Path], n: int = 16, size: int = 64, **kw) -> L.DetectionSet:
    objects, backgrounds = folders
    return L.make_detection_set(n, size, object_root=objects, background_root=backgrounds, **kw)


def test_detection_set_shapes_and_counts(folders: tuple[Path, Path]) -> None:
    data = make_scenes(folders, objects_per_image=(1, 3))
    assert data.images.shape == (16, 64, 64, 3) and data.images.dtype == np.uint8
    assert len(data) == len(data.boxes) == len(data.labels) == 16
    counts = [len(b) for b in data.boxes]
    assert min(counts) >= 1 and max(counts) <= 3 and len(set(counts)) > 1
    for b, lab in zip(data.boxes, data.labels, strict=True):
        assert b.dtype == np.float32 and lab.dtype == np.int32 and len(b) == len(lab)
        assert np.all((b >= 0) & (b <= 1)) and np.all(b[:, 2:] > b[:, :2])
    assert data.all_boxes().shape == (sum(counts), 4)


def test_detection_set_objects_are_where_the_boxes_say(folders: tuple[Path, Path]) -> None:
    """Each solid-colour object's colour fills its ellipse, at the box's centre."""
    data = make_scenes(folders, n=10, size=64, max_overlap=0.0)
    for image, boxes, labels in zip(data.images, data.boxes, data.labels, strict=True):
        for box, label in zip(boxes * 64, labels, strict=True):
            cx, cy = int((box[0] + box[2]) / 2), int((box[1] + box[3]) / 2)
            colour = COLOURS[data.class_names[label]]
            np.testing.assert_array_equal(image[cy, cx], colour)
        assert B.iou_matrix(boxes, boxes)[np.triu_indices(len(boxes), 1)].max(initial=0) == 0


def test_detection_set_is_deterministic_and_class_subsets(folders: tuple[Path, Path]) -> None:
    a, b = make_scenes(folders, seed=3), make_scenes(folders, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert all(np.array_equal(x, y) for x, y in zip(a.boxes, b.boxes, strict=True))
    assert not np.array_equal(a.images, make_scenes(folders, seed=4).images)
    some = make_scenes(folders, classes=("yellow", "blue"))
    assert some.class_names == ("yellow", "blue")
    assert set(np.concatenate(some.labels).tolist()) <= {0, 1}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"classes": ("green",)}, "not object folders"),
        ({"classes": ()}, "not object folders"),
        ({"objects_per_image": (0, 2)}, "objects_per_image"),
        ({"scale_range": (0.5, 0.2)}, "scale_range"),
        ({"aspect_range": (0, 1)}, "aspect_range"),
        ({"max_overlap": 2.0}, "max_overlap"),
        ({"n": 0}, "n_images"),
    ],
)
def test_detection_set_errors(folders: tuple[Path, Path], kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_scenes(folders, **kwargs)


def test_real_detection_scenes() -> None:
    try:
        data = L.make_detection_set(4, 96, split="test", seed=0, per_class=16, classes=("roses",))
    except datasets.DatasetUnavailableError as err:
        pytest.skip(f"offline datasets not available: {err}")
    assert data.class_names == ("roses",) and data.images.std() > 20
