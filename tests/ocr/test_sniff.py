"""sniff(): the type of a scan from its bytes, and a clear refusal for everything else."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PIL import Image

from ocr import DamagedFile, OcrError, UnsupportedFile, sniff


@pytest.mark.parametrize(
    ("fmt", "suffix", "kind"),
    [("PNG", ".png", "png"), ("JPEG", ".jpg", "jpeg"), ("TIFF", ".tif", "tiff")],
)
def test_image_kinds_whatever_the_extension(tmp_path: Path, fmt: str, suffix: str, kind: str):
    image = Image.new("RGB", (40, 30), "white")
    right = tmp_path / f"scan{suffix}"
    image.save(right, fmt)
    wrong = tmp_path / "scan.pdf"
    wrong.write_bytes(right.read_bytes())
    assert sniff(right) == kind
    assert sniff(wrong) == kind


def test_pdf(tmp_path: Path, forge):
    path = tmp_path / "letter.jpg"
    path.write_bytes(forge.blank_pdf(1))
    assert sniff(path) == "pdf"


def test_pdf_with_junk_before_the_header(tmp_path: Path, forge):
    path = tmp_path / "letter.pdf"
    path.write_bytes(b"\r\n\r\n" + forge.blank_pdf(1))
    assert sniff(path) == "pdf"


def test_big_endian_tiff(tmp_path: Path):
    path = tmp_path / "scan.tif"
    path.write_bytes(b"MM\x00*" + b"\x00" * 60)
    assert sniff(path) == "tiff"


def _docx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("note.jpg", "尊敬的领导：我家的地被占了。\n".encode(), "纯文本"),
        ("note.jpg", "尊敬的领导：我家的地被占了。\n".encode("gb18030"), "纯文本"),
        ("page.pdf", b"<!DOCTYPE html><html><body>hello</body></html>", "HTML"),
        ("page.png", b"<html><head><title>x</title></head></html>", "HTML"),
        ("logo.png", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        ("logo.jpg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10"/>', "SVG"),
        ("photo.jpg", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64, "HEIC"),
        ("photo.jpg", b"\x00\x00\x00\x1cftypavif" + b"\x00" * 64, "AVIF"),
        ("scan.pdf", b"GIF89a\x01\x00\x01\x00" + b"\x00" * 20, "GIF"),
        ("scan.pdf", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "WebP"),
        ("scan.pdf", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Office"),
        ("scan.pdf", b"{\\rtf1\\ansi hello}", "RTF"),
        ("scan.tif", b"\x13\x37\x00\x01\xfe\xfd" * 40, "无法识别"),
    ],
)
def test_not_a_scan(tmp_path: Path, name: str, content: bytes, says: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnsupportedFile, match=says) as caught:
        sniff(path)
    assert "\n" not in str(caught.value)


def test_docx_renamed_pdf_is_named_as_word(tmp_path: Path):
    path = tmp_path / "letter.pdf"
    _docx(path)
    with pytest.raises(UnsupportedFile, match=r"Word.*\.docx.*扩展名 \.pdf"):
        sniff(path)


def test_plain_zip_renamed_pdf(tmp_path: Path):
    path = tmp_path / "letter.pdf"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("scan1.jpg", b"\xff\xd8\xff")
    with pytest.raises(UnsupportedFile, match="ZIP"):
        sniff(path)


def test_zero_bytes_is_damaged(tmp_path: Path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(DamagedFile, match="0 字节"):
        sniff(path)


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(OcrError, match="找不到"):
        sniff(tmp_path / "nothing.pdf")
    with pytest.raises(OcrError, match="文件夹"):
        sniff(tmp_path)


def test_sniff_does_not_judge_content(tmp_path: Path, forge):
    """Damage beyond the magic bytes is found by the loaders, not by sniff."""
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(forge.encrypted_pdf())
    assert sniff(locked) == "pdf"
    assert sniff(forge.png_bomb(tmp_path / "bomb.png", side=64)) == "png"
