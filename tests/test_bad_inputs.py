"""The bad-input matrix: every kind of file a student's folder can hold.

Each case has one documented result, the same for a single image
(:func:`course_utils.images.load_image`), a scan, and an image folder
(:func:`course_utils.folders.subset_per_class` read by
``keras.utils.image_dataset_from_directory``):

- ``ok``: ``tf.io.decode_image`` (what ``image_dataset_from_directory`` uses) reads it
  as it is, and ``load_image`` gives the same picture;
- ``convert``: loads after conversion to upright 8-bit RGB (a view holds a PNG copy;
  the mode, format or orientation is reported);
- ``bad``: skipped and counted by folder readers, and a ``BadImageError``
  naming the file (and the reason) from ``load_image``.

After every test the user's files are byte-identical (hashed before and after).
Folder-structure problems (an empty or missing class folder) raise
``ClassFolderError`` naming the folder; debris (hidden files and folders,
``__MACOSX``, AppleDouble ``._*`` files) is ignored wherever it is. Archives,
downloads and model files have their own tests (``test_archives.py``,
``test_datasets.py``, ``test_downloads.py``, ``test_saving.py``).
"""

from __future__ import annotations

import builtins
import hashlib
import io
import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from helpers import write_rgb
from PIL import Image, features

from course_utils import images
from course_utils.folders import ClassFolderError, count_images, subset_per_class
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
    "palette png": ("palette.png", "convert", "P"),
    "10000x10000 png": ("huge.png", "ok", ""),
    # what TensorFlow decodes differently from Pillow, or not at all
    "png named .jpg": ("png.jpg", "ok", ""),
    "24-bit bmp": ("rgb.bmp", "ok", ""),
    "16-bit bmp": ("sixteen.bmp", "convert", "TensorFlow cannot decode this BMP"),
    "bmp with an os/2 header": ("os2.bmp", "convert", "TensorFlow cannot decode this BMP"),
    "8-bit palette bmp": ("palette.bmp", "convert", "P"),  # TensorFlow reads indices as grey
    "tiff named .jpg": ("tiff.jpg", "convert", "TIFF"),
    "multi-page tiff": ("pages.tiff", "convert", "TIFF, first of 3 frames"),
    "jpeg 2000 named .jpg": ("jp2.jpg", "convert", "JPEG2000"),
    "webp": ("photo.webp", "convert", "WEBP"),
    "webp named .jpg": ("webp.jpg", "convert", "WEBP"),
    "animated webp": ("anim.webp", "convert", "WEBP, first of 2 frames"),
    "animated gif": ("anim.gif", "convert", "first of 2 frames"),
    "jpeg named .tif": ("jpeg.tif", "convert", "JPEG named .tif"),
    # off a phone
    "rotated phone jpeg": ("rotated.jpg", "convert", "EXIF orientation 6"),
    "jpeg with a damaged exif block": ("bad-exif.jpg", "ok", ""),
    "heic photo": ("phone.heic", "bad", "HEIC needs pillow-heif"),
}
if features.check("avif"):  # Pillow's wheels read AVIF (TensorFlow does not)
    MATRIX["avif named .jpg"] = ("avif.jpg", "convert", "AVIF")


def _bmp_bytes(rgb: np.ndarray, bits: int = 24, os2_header: bool = False) -> bytes:
    """An uncompressed BMP of ``rgb``: 24-bit, or 16-bit (5-6-5 bit fields); with the old
    12-byte OS/2 header when ``os2_header`` (Pillow writes neither; both are found in the wild)."""
    height, width, _ = rgb.shape
    if bits == 16:
        r, g, b = (rgb[::-1, :, i].astype("<u2") for i in range(3))
        rows = (r >> 3) << 11 | (g >> 2) << 5 | b >> 3
    else:
        rows = np.ascontiguousarray(rgb[::-1, :, ::-1])  # bottom-up rows of BGR
    body = b"".join(row.tobytes() + b"\0" * (-row.nbytes % 4) for row in rows)
    if os2_header:
        info = struct.pack("<IHHHH", 12, width, height, 1, bits)
    else:
        fields = 3 if bits == 16 else 0  # BI_BITFIELDS: three masks follow the header
        info = struct.pack("<IiiHHII4I", 40, width, height, 1, bits, fields, len(body), 0, 0, 0, 0)
        info += struct.pack("<III", 0xF800, 0x07E0, 0x001F) if bits == 16 else b""
    offset = 14 + len(info)
    return struct.pack("<2sIHHI", b"BM", offset + len(body), 0, 0, offset) + info + body


def _frames(*colours: tuple[int, int, int]) -> list[Image.Image]:
    return [Image.new("RGB", (64, 48), colour) for colour in colours]


#: The first bytes of an iPhone's HEIC photo: an ISO media ``ftyp`` box of brand ``heic``.
HEIC_HEAD = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"
RED, GREEN, BLUE = (220, 20, 20), (20, 220, 20), (20, 20, 220)


def rotated_jpeg(path: Path, orientation: int) -> Path:
    """A 64 x 48 JPEG (stored sideways by a phone) whose top row is red, with that EXIF tag."""
    pixels = np.zeros((48, 64, 3), np.uint8)
    pixels[:8] = RED
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    return path


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
    photo = Image.fromarray(np.random.default_rng(6).integers(0, 255, (48, 64, 3), np.uint8))
    photo.convert("P").save(files["palette png"])
    files["10000x10000 png"].write_bytes(huge_png.read_bytes())
    photo.save(files["png named .jpg"], "PNG")
    photo.save(files["24-bit bmp"])
    files["16-bit bmp"].write_bytes(_bmp_bytes(np.asarray(photo), bits=16))
    files["bmp with an os/2 header"].write_bytes(_bmp_bytes(np.asarray(photo), os2_header=True))
    photo.convert("P").save(files["8-bit palette bmp"])
    photo.save(files["tiff named .jpg"], "TIFF")
    red, *others = _frames(RED, GREEN, BLUE)
    red.save(files["multi-page tiff"], save_all=True, append_images=others)
    photo.save(files["jpeg 2000 named .jpg"], "JPEG2000")
    photo.save(files["webp"])
    photo.save(files["webp named .jpg"], "WEBP")
    red.save(files["animated webp"], save_all=True, append_images=others[:1], duration=100)
    red.save(files["animated gif"], save_all=True, append_images=others[:1], duration=100)
    photo.save(files["jpeg named .tif"], "JPEG")
    rotated_jpeg(files["rotated phone jpeg"], 6)
    exif = b"Exif\0\0II*\0\xff\xff\xff\x7f"  # an IFD offset far past the end
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    files["jpeg with a damaged exif block"].write_bytes(full[:2] + app1 + full[2:])
    files["heic photo"].write_bytes(HEIC_HEAD + np.random.default_rng(7).bytes(500))
    if "avif named .jpg" in files:
        photo.save(files["avif named .jpg"], "AVIF")
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
    if status == "ok":  # TensorFlow, as image_dataset_from_directory calls it, sees the same
        assert _tf_decode(path).shape == load_image(path).shape


def _tf_decode(path: Path) -> np.ndarray:
    import tensorflow as tf

    return tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)


def test_each_format_loads_the_right_picture(zoo: dict[str, Path]) -> None:
    photo = load_image(zoo["24-bit bmp"])
    assert (load_image(zoo["png named .jpg"]) == photo).all()
    assert (load_image(zoo["bmp with an os/2 header"]) == photo).all()
    assert (load_image(zoo["tiff named .jpg"]) == photo).all()
    assert (load_image(zoo["webp named .jpg"]) == load_image(zoo["webp"])).all()
    assert np.abs(load_image(zoo["16-bit bmp"]).astype(int) - photo).max() <= 8  # 5-6-5 bits
    palette = np.asarray(Image.fromarray(photo).convert("P").convert("RGB"))
    assert (load_image(zoo["8-bit palette bmp"]) == palette).all()  # colours, not indices
    for case in ("multi-page tiff", "animated gif", "animated webp"):  # the first page/frame
        assert np.abs(load_image(zoo[case])[24, 32].astype(int) - RED).max() <= 12, case


@pytest.mark.parametrize(
    ("orientation", "red"), [(1, "top"), (3, "bottom"), (6, "right"), (8, "left")]
)
def test_phone_photos_are_loaded_upright(tmp_path: Path, orientation: int, red: str) -> None:
    pixels = load_image(rotated_jpeg(tmp_path / "phone.jpg", orientation)).astype(int)
    assert pixels.shape == ((48, 64, 3) if orientation in (1, 3) else (64, 48, 3))
    edges = {"top": pixels[0], "bottom": pixels[-1], "left": pixels[:, 0], "right": pixels[:, -1]}
    assert [side for side, line in edges.items() if line[:, 0].mean() > 150] == [red]


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
    assert len(view.converted) == 2 * sum(1 for _, s, _ in MATRIX.values() if s == "convert")
    for cls in ("a", "b"):  # each file is in the view once, under a name of its own, or skipped
        entries = sorted((view.path / cls).iterdir())
        assert len(entries) == view.counts[cls]
        assert len({e.name.casefold() for e in entries}) == len(entries)
        considered = {n for n, _, _ in MATRIX.values()}
        dropped = {name.removeprefix(f"{cls}/") for name, _ in view.skipped if name[0] == cls}
        kept = {e.resolve().name if e.is_symlink() else e.name[: -len(".png")] for e in entries}
        assert kept | dropped == considered and not kept & dropped
        for entry in entries:
            assert entry.is_symlink() or not (user / "mixed" / cls / entry.name).exists()
            pixels = _tf_decode(entry)  # exactly as image_dataset_from_directory reads it
            if "rotated" in entry.name:
                assert pixels.shape == (64, 48, 3) and pixels[:, -1, 0].numpy().mean() > 150
    ds = keras.utils.image_dataset_from_directory(
        view.path, image_size=(32, 32), batch_size=8, shuffle=False
    )
    seen = sum(int(x.shape[0]) for x, _ in ds)  # decodes every file, huge one included
    assert seen == 2 * usable
    assert _hashes(user) == before


def _read_whole(view_path: Path) -> int:
    """How many images ``image_dataset_from_directory`` gives for ``view_path`` (all decoded)."""
    import keras

    ds = keras.utils.image_dataset_from_directory(
        view_path, image_size=(8, 8), batch_size=4, shuffle=False
    )
    return sum(int(x.shape[0]) for x, _ in ds)


@pytest.mark.parametrize("seed", range(4))  # the order of the files decides which comes first
def test_files_sharing_a_name_never_share_an_entry(
    data_root: Path, tmp_path: Path, seed: int
) -> None:
    cats = tmp_path / "user" / "pets" / "cats"
    cats.mkdir(parents=True)
    Image.new("L", (16, 12), 90).save(cats / "cat.jpg")  # converted: a PNG copy
    write_rgb(cats / "cat.png", seed=1)  # linked under the name the copy once took
    write_rgb(cats / "cat.jpg.png", seed=2)  # the name the copy takes now
    Image.new("CMYK", (16, 12)).save(cats / "Cat.JPG", "JPEG")  # the same name, in any case
    Image.new("RGBA", (16, 12)).save(cats / "cat.PNG")
    write_rgb(cats / "CAT.jpg", seed=3)
    before = _hashes(tmp_path / "user")
    view = subset_per_class(cats.parent, None, seed=seed)
    entries = list((view.path / "cats").iterdir())
    assert view.counts == {"cats": len(entries)} == {"cats": 6}
    assert len({e.name.casefold() for e in entries}) == 6
    links = [e for e in entries if e.is_symlink()]
    assert sorted(e.resolve().name for e in links) == ["CAT.jpg", "cat.jpg.png", "cat.png"]
    copies = {e.name for e in entries} - {e.name for e in links}
    assert not {c.casefold() for c in copies} & {f.name.casefold() for f in cats.iterdir()}
    assert _read_whole(view.path) == 6
    assert _hashes(tmp_path / "user") == before, "a converted copy was written over a photo"


def test_names_tensorflow_cannot_carry_get_safe_ones(data_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "user" / "pets"
    odd, odd_grey = os.fsdecode(b"\xff.jpg"), os.fsdecode(b"gr\xe9y.jpg")  # not UTF-8
    try:
        write_rgb(root / "cats" / odd)
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    Image.new("L", (12, 10), 70).save(root / "cats" / odd_grey, "JPEG")
    write_rgb(root / "cats" / "\ufffd.jpg", seed=1)  # the safe name itself is taken
    write_rgb(root / "dogs" / "a.jpg", seed=2)
    before = _hashes(tmp_path / "user")
    view = subset_per_class(root, None)
    names = sorted(p.name for p in (view.path / "cats").iterdir())
    assert names == ["gr\ufffdy.jpg.png", "\ufffd-2.jpg", "\ufffd.jpg"]
    assert view.converted == [("cats/gr\\xe9y.jpg", "L")]  # printable, naming the file
    assert _read_whole(view.path) == 4
    assert _hashes(tmp_path / "user") == before
    (root / os.fsdecode(b"caf\xe9s")).mkdir()  # a class whose name TensorFlow cannot carry
    write_rgb(root / os.fsdecode(b"caf\xe9s") / "b.jpg")
    with pytest.raises(ClassFolderError, match=r"caf\\xe9s has a name that is not valid UTF-8"):
        subset_per_class(root, None)


def _apple_double(path: Path) -> None:
    """A Mac's resource-fork companion ``._name`` (a zip made on a Mac holds one per file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(40))


def test_a_mac_made_zip_is_read_without_its_debris(data_root: Path, tmp_path: Path) -> None:
    root = _classes(tmp_path / "user" / "flowers", {"daisy": 2, "roses": 3})
    for name in ("daisy/0.jpg", "daisy/1.jpg", "roses/0.jpg"):
        _apple_double(root / Path(name).with_name(f"._{Path(name).name}"))  # beside each photo
        _apple_double(root / "__MACOSX" / Path(name).with_name(f"._{Path(name).name}"))
    _apple_double(root / "roses" / "__MACOSX" / "._0.jpg")  # inside a class folder
    (root / "daisy" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1" + bytes(20))
    write_rgb(root / "daisy" / ".ipynb_checkpoints" / "0-checkpoint.jpg")  # nested, hidden
    write_rgb(root / "roses" / ".thumbnails" / "0.jpg")
    write_rgb(root / ".trash" / "daisy" / "old.jpg")
    before = _hashes(tmp_path / "user")
    view = subset_per_class(root, None)
    assert view.counts == {"daisy": 2, "roses": 3} and not view.skipped
    assert count_images(root) == {"daisy": 2, "roses": 3}
    report = scan_images(root)
    assert len(report.ok) == 5 and not report.bad
    assert _read_whole(view.path) == 5
    assert _hashes(tmp_path / "user") == before


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
    root = _classes(tmp_path / "pets", {"train/cats": 2, "train/dogs": 2, "validation/cats": 2})
    with pytest.raises(ClassFolderError, match=r"validation has no class folder 'dogs'"):
        subset_per_class(root, 1)


def test_class_missing_from_the_expected_names_is_named(data_root: Path, tmp_path: Path) -> None:
    root = _classes(tmp_path / "flowers", {"daisy": 2, "roses": 2})
    with pytest.raises(ClassFolderError, match=r"'tulips'"):
        subset_per_class(root, 1, class_names=["daisy", "roses", "tulips"])
    assert subset_per_class(root, 1, class_names=["daisy", "roses"]).counts == {
        "daisy": 1,
        "roses": 1,
    }


def test_hidden_folders_are_not_classes(data_root: Path, tmp_path: Path) -> None:
    root = _classes(tmp_path / "flowers", {"daisy": 2, "roses": 2, ".ipynb_checkpoints": 1})
    (root / "__MACOSX").mkdir()
    assert subset_per_class(root, None).counts == {"daisy": 2, "roses": 2}


def test_missing_source_folder_is_named(data_root: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        subset_per_class(tmp_path / "no_such_folder", 3)
