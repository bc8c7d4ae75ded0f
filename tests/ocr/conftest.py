"""Scans drawn for the OCR tests by ocr.synthetic, and hand-built files that go wrong."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from ocr import synthetic
from tests.fixtures.bad import files

PAGE_ONE = (
    "尊敬的县信访局领导：",
    "我叫韩秋菊，家住石桥镇枣树营村，",
    "联系电话13839452176。",
    "我家承包地被征收已经两年，",
    "补偿款至今没有发放。",
    "请求领导督促解决。",
    "信访人：韩秋菊",
)
PAGE_TWO = (
    "第二页：",
    "村里说钱已经被镇里统一扣下了，",
    "我们多次到镇政府反映，",
    "工作人员只是登记，一直没有答复。",
    "二〇二五年三月八日",
)
STRIP = ("石桥镇枣树营村", "联系电话13839452176")


@pytest.fixture(scope="session")
def written() -> dict[str, tuple[str, ...]]:
    """What the drawn scans say: page_one, page_two, strip."""
    return {"page_one": PAGE_ONE, "page_two": PAGE_TWO, "strip": STRIP}


@pytest.fixture(scope="session")
def scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for files drawn once per test session."""
    return tmp_path_factory.mktemp("ocr-scans")


@pytest.fixture(scope="session")
def page_one() -> Image.Image:
    """A clean handwriting-like A4 page."""
    return synthetic.render_scan(PAGE_ONE, seed=11, ruled=True)


@pytest.fixture(scope="session")
def page_two() -> Image.Image:
    """A degraded page: rotated, blurred, noisy, unevenly lit."""
    return synthetic.render_scan(PAGE_TWO, seed=12, degrade=True)


@pytest.fixture(scope="session")
def strip() -> Image.Image:
    """Two written lines cut from a page: small enough to OCR in well under a second."""
    page = synthetic.render_scan(STRIP, seed=13)
    return page.crop((0, 150, page.width, 450))


class Forge:
    """Hand-built files for the cases scanners never write but users still send."""

    @staticmethod
    def chunk(kind: bytes, data: bytes) -> bytes:
        """One PNG chunk with its CRC."""
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    @classmethod
    def png_bomb(cls, path: Path, side: int = 20000) -> Path:
        """A real, valid 1-bit PNG of side x side white pixels that compresses to kilobytes."""
        row = b"\x00" + b"\xff" * ((side + 7) // 8)
        packer = zlib.compressobj(9)
        body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
        header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
        path.write_bytes(
            b"\x89PNG\r\n\x1a\n"
            + cls.chunk(b"IHDR", header)
            + cls.chunk(b"IDAT", body)
            + cls.chunk(b"IEND", b"")
        )
        return path

    pdf = staticmethod(files.pdf)  # a PDF with a correct xref from numbered object bodies

    @staticmethod
    def blank_pdf(pages: int) -> bytes:
        """A PDF of ``pages`` blank A4 pages (0 allowed)."""
        return files.blank_pdf(pages)

    encrypted_pdf = staticmethod(files.locked_pdf)  # a user password we lack


@pytest.fixture(scope="session")
def forge() -> type[Forge]:
    """The hand-built bad files."""
    return Forge
