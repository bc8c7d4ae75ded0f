"""What a file really is, from its first bytes: the extension is only a clerk's guess."""

from __future__ import annotations

import zipfile
from pathlib import Path

from ._errors import DamagedFile, OcrError, UnsupportedFile

KINDS = ("pdf", "tiff", "png", "jpeg")
_HEAD = 4096

# (magic at offset 0, description) of files people send instead of a scan.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF 动图/图片"),
    (b"GIF89a", "GIF 动图/图片"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "旧版 Office 文档（.doc/.xls/.ppt）"),
    (b"{\\rtf", "RTF 文档"),
    (b"%!PS", "PostScript 文件"),
    (b"AT&TFORM", "DjVu 文档"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000 图片"),
    (b"\xff\x4f\xff\x51", "JPEG 2000 图片"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"Rar!\x1a\x07", "RAR 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"\x89HDF", "HDF 数据文件"),
    (b"OggS", "音频文件"),
    (b"ID3", "MP3 音频"),
    (b"\x7fELF", "程序文件"),
    (b"SQLite format 3\x00", "SQLite 数据库"),
)

_BMP_HEADERS = {12, 40, 52, 56, 64, 108, 124}

# ISO base-media "ftyp" brands (bytes 8..12).
_FTYP_BRANDS = {
    b"heic": "HEIC 照片（苹果手机格式）",
    b"heix": "HEIC 照片（苹果手机格式）",
    b"heim": "HEIC 照片（苹果手机格式）",
    b"heis": "HEIC 照片（苹果手机格式）",
    b"hevc": "HEIC 照片（苹果手机格式）",
    b"hevx": "HEIC 照片（苹果手机格式）",
    b"mif1": "HEIF 照片（苹果手机格式）",
    b"msf1": "HEIF 照片序列",
    b"avif": "AVIF 图片",
    b"avis": "AVIF 图片",
}

_ZIP_MEMBERS = (
    ("word/", "Word 文档（.docx）"),
    ("xl/", "Excel 表格（.xlsx）"),
    ("ppt/", "PowerPoint 演示文稿（.pptx）"),
    ("Documents/1/", "XPS 文档"),
    ("FixedDocSeq.fdseq", "XPS 文档"),
)


def _not_a_scan(what: str, path: Path) -> UnsupportedFile:
    """The error for a readable file that is not a scan, naming what it is."""
    suffix = f"（扩展名 {path.suffix} 与内容不符）" if path.suffix else ""
    return UnsupportedFile(
        f"不是可识别的扫描件：这是{what}{suffix}；请提供 PDF、TIFF、PNG 或 JPEG 扫描件"
    )


def _zip_kind(path: Path) -> str:
    """Name the Office/OpenDocument format inside a zip container, if any."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100].decode("ascii", "replace")
                if "opendocument.text" in mimetype:
                    return "OpenDocument 文本（.odt）"
                if "opendocument" in mimetype:
                    return "OpenDocument 文档"
                if "epub" in mimetype:
                    return "EPUB 电子书"
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return "ZIP 压缩包（已损坏）"
    for prefix, what in _ZIP_MEMBERS:
        if any(n.startswith(prefix) for n in names):
            return what
    return "ZIP 压缩包"


def _is_pe(head: bytes) -> bool:
    """A DOS header whose e_lfanew points at a "PE" signature: a Windows program."""
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return len(head) >= 0x40 and head[offset:offset + 4] == b"PE\x00\x00"


def _text_kind(head: bytes) -> str | None:
    """Name a text-based format (HTML, SVG, XML, plain text), or None for binary data."""
    for encoding in ("utf-8", "gb18030", "utf-16"):
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            # the head may cut a multi-byte character in two
            try:
                text = head[:-3].decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    else:
        return None
    if "\x00" in text and not text.startswith("\ufeff"):
        return None
    lowered = text.lstrip("\ufeff \t\r\n").lower()
    if "<svg" in lowered[:2000]:
        return "SVG 矢量图"
    if lowered.startswith(("<!doctype html", "<html")) or "<html" in lowered[:1000]:
        return "HTML 网页"
    if lowered.startswith("<?xml"):
        return "XML 文件"
    if lowered.startswith(("{", "[")):
        return "JSON/文本文件"
    if lowered.startswith(("from:", "received:", "mime-version:", "return-path:")):
        return "电子邮件"
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if text and printable / len(text) > 0.95:
        return "纯文本文件"
    return None


def sniff(path: Path) -> str:
    """The scan type from magic bytes ("pdf", "tiff", "png", "jpeg"), else a clear error."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            head = f.read(_HEAD)
    except FileNotFoundError as e:
        raise OcrError(f"找不到文件：{path.name}") from e
    except IsADirectoryError as e:
        raise OcrError(f"这是文件夹，不是文件：{path.name}") from e
    except OSError as e:
        raise OcrError(f"无法读取文件 {path.name}：{e.strerror or e}") from e
    if not head:
        raise DamagedFile("文件是空的（0 字节），可能上传或扫描中断")

    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if b"%PDF-" in head[:1024]:
        return "pdf"

    if head.startswith(b"PK\x03\x04"):
        raise _not_a_scan(_zip_kind(path), path)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _FTYP_BRANDS:
            raise _not_a_scan(_FTYP_BRANDS[brand], path)
        raise _not_a_scan("视频或 MP4 类文件", path)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        raise _not_a_scan("WebP 图片", path)
    if head.startswith(b"RIFF"):
        raise _not_a_scan("音频/视频文件", path)
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_HEADERS:
        raise _not_a_scan("BMP 位图", path)
    if head.startswith(b"MZ") and _is_pe(head):
        raise _not_a_scan("Windows 程序（.exe/.dll），可能带有病毒，请勿打开", path)
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            raise _not_a_scan(what, path)
    if head.startswith((b"\x89PN", b"\xff\xd8")) and len(head) < 8:
        raise DamagedFile("图片文件不完整（只有开头几个字节）")
    text_kind = _text_kind(head)
    if text_kind is not None:
        raise _not_a_scan(text_kind, path)
    raise UnsupportedFile("无法识别的文件格式：既不是 PDF、TIFF、PNG，也不是 JPEG 扫描件")
