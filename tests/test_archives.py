"""Safe extraction (:func:`course_utils.archives.safe_extract`): what an archive may not do."""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from course_utils.archives import UnsafeArchiveError, safe_extract
from course_utils.folders import count_images

# --- safe extraction ----------------------------------------------------------


def _tar_with(dest: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    with tarfile.open(dest, "w:gz") as tar:
        member.size = len(data) if member.isfile() else 0
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return dest


def _member(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    """A tar member of type ``kind`` (a link to ``linkname``, a device file, ...)."""
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = linkname
    return member


def test_tar_with_parent_traversal_is_refused(tmp_path: Path) -> None:
    archive = _tar_with(tmp_path / "evil.tgz", tarfile.TarInfo("../evil"))
    with pytest.raises(UnsafeArchiveError, match="evil"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil").exists()


def test_tar_with_absolute_path_is_refused(tmp_path: Path) -> None:
    archive = _tar_with(tmp_path / "abs.tgz", tarfile.TarInfo(str(tmp_path / "abs_target")))
    with pytest.raises(UnsafeArchiveError):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "abs_target").exists()


def test_tar_with_link_leaving_the_target_is_refused(tmp_path: Path) -> None:
    link = _member("pkg/escape", tarfile.SYMTYPE, "../../outside")
    with pytest.raises(UnsafeArchiveError):
        safe_extract(_tar_with(tmp_path / "link.tgz", link), tmp_path / "out")


def test_tar_with_hard_link_leaving_the_target_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not touch")
    link = _member("pkg/hard", tarfile.LNKTYPE, str(secret))
    with pytest.raises(UnsafeArchiveError):
        safe_extract(_tar_with(tmp_path / "hard.tgz", link), tmp_path / "out")
    relative = _member("pkg/hard", tarfile.LNKTYPE, "../../secret.txt")
    with pytest.raises(UnsafeArchiveError):
        safe_extract(_tar_with(tmp_path / "hard2.tgz", relative), tmp_path / "out2")
    assert secret.read_text() == "do not touch"
    assert not any(p.is_file() for p in (tmp_path / "out").rglob("*"))


def test_tar_with_device_file_is_refused(tmp_path: Path) -> None:
    device = _member("pkg/null", tarfile.CHRTYPE)
    with pytest.raises(UnsafeArchiveError):
        safe_extract(_tar_with(tmp_path / "dev.tgz", device), tmp_path / "out")


def test_tar_with_symlink_to_an_absolute_path_is_refused(tmp_path: Path) -> None:
    link = _member("pkg/passwd", tarfile.SYMTYPE, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError):
        safe_extract(_tar_with(tmp_path / "abslink.tgz", link), tmp_path / "out")


def test_zip_cannot_carry_hard_links(tmp_path: Path) -> None:
    """Zip has no hard-link member type: a 'link' is stored as a plain file with that text."""
    archive = tmp_path / "plain.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pkg/hard", "/etc/passwd")
    out = safe_extract(archive, tmp_path / "out")
    assert (out / "pkg" / "hard").read_text() == "/etc/passwd"
    assert not (out / "pkg" / "hard").is_symlink()


def test_zip_with_parent_traversal_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../evil.txt", "boom")
    with pytest.raises(UnsafeArchiveError, match="outside"):
        safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_zip_with_absolute_path_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "abs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(zipfile.ZipInfo("/etc/evil.txt"), "boom")
    with pytest.raises(UnsafeArchiveError, match="absolute"):
        safe_extract(archive, tmp_path / "out")


def test_zip_with_symlink_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    info = zipfile.ZipInfo("pkg/link")
    info.external_attr = 0o120777 << 16
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="symbolic link"):
        safe_extract(archive, tmp_path / "out")


def test_not_an_archive_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"definitely not an archive")
    with pytest.raises(UnsafeArchiveError, match="not a zip or tar"):
        safe_extract(junk, tmp_path / "out")


def test_good_zip_extracts(tmp_path: Path, image_tree: Path) -> None:
    archive = Path(shutil.make_archive(str(tmp_path / "pets"), "zip", image_tree.parent, "pets"))
    out = safe_extract(archive, tmp_path / "out")
    assert count_images(out / "pets")["train/cats"] == 6
