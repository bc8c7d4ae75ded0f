"""Opening scans: page counts, upright RGB pages, and every way a file can be damaged."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocr import (
    OCR_DPI,
    DamagedFile,
    Limits,
    UnsupportedFile,
    count_pages,
    read_pages,
    render_page,
    synthetic,
)
from ocr._loaders import to_rgb


def _grey_card(size: tuple[int, int] = (300, 200)) -> Image.Image:
    """A white card with a black bar in the top-left corner (to see orientation)."""
    image = Image.new("RGB", size, "white")
    image.paste((0, 0, 0), (10, 10, 110, 40))
    return image


# ------------------------------------------------------------ what is refused


def test_zero_bytes(tmp_path: Path):
    path = tmp_path / "scan.pdf"
    path.touch()
    with pytest.raises(DamagedFile, match="0 字节"):
        read_pages(path)


def test_docx_renamed_pdf(tmp_path: Path):
    path = tmp_path / "letter.pdf"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(UnsupportedFile, match="Word"):
        count_pages(path)


def test_truncated_pdf(tmp_path: Path, page_one: Image.Image):
    whole = synthetic.save_pdf([page_one], tmp_path / "whole.pdf").read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DamagedFile, match="不完整"):
        read_pages(cut)


def test_corrupt_pdf(tmp_path: Path):
    path = tmp_path / "corrupt.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
    with pytest.raises(DamagedFile, match="损坏"):
        count_pages(path)


def test_encrypted_pdf(tmp_path: Path, forge):
    path = tmp_path / "locked.pdf"
    path.write_bytes(forge.encrypted_pdf())
    with pytest.raises(DamagedFile, match="加密"):
        read_pages(path)


def test_pdf_without_pages(tmp_path: Path, forge):
    path = tmp_path / "empty.pdf"
    path.write_bytes(forge.blank_pdf(0))
    with pytest.raises(DamagedFile, match="没有任何页面"):
        count_pages(path)


def test_too_many_pages(tmp_path: Path, forge):
    path = tmp_path / "long.pdf"
    path.write_bytes(forge.blank_pdf(12))
    assert count_pages(path) == 12
    with pytest.raises(DamagedFile, match="12 页，超过上限 10 页"):
        read_pages(path, limits=Limits(max_pages=10))


def test_too_many_tiff_pages(tmp_path: Path):
    frames = [Image.new("L", (20, 20), 255) for _ in range(4)]
    path = synthetic.save_tiff(frames, tmp_path / "long.tif")
    assert count_pages(path) == 4
    with pytest.raises(DamagedFile, match="超过上限 3 页"):
        count_pages(path, limits=Limits(max_pages=3))


def test_default_page_limit_is_500():
    assert Limits().max_pages == 500


def test_decompression_bomb(tmp_path: Path, forge):
    path = forge.png_bomb(tmp_path / "bomb.png")  # 20000 x 20000, a few kB on disk
    assert path.stat().st_size < 200_000
    with pytest.raises(DamagedFile, match="解压炸弹|过大"):
        read_pages(path)
    with pytest.raises(DamagedFile):
        render_page(path, 1)


def test_pixel_limit_is_configurable(tmp_path: Path):
    path = tmp_path / "big.png"
    Image.new("L", (1000, 1000), 255).save(path)
    assert count_pages(path) == 1
    with pytest.raises(DamagedFile, match="过大"):
        count_pages(path, limits=Limits(max_pixels=500_000))


def test_oversized_pdf_page(tmp_path: Path, forge):
    huge = forge.pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>",  # 5 m square
        ]
    )
    path = tmp_path / "poster.pdf"
    path.write_bytes(huge)
    with pytest.raises(DamagedFile, match="第 1 页.*过大"):
        render_page(path, 1)


def test_truncated_png(tmp_path: Path):
    whole = tmp_path / "whole.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 300), np.uint8)).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[:5000])
    with pytest.raises(DamagedFile, match="损坏或不完整"):
        render_page(cut, 1)


def test_truncated_jpeg(tmp_path: Path, page_one: Image.Image):
    whole = tmp_path / "whole.jpg"
    page_one.save(whole, quality=85)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[:20000])
    with pytest.raises(DamagedFile):
        render_page(cut, 1)


def test_heic_named_jpg(tmp_path: Path):
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 500)
    with pytest.raises(UnsupportedFile, match="HEIC"):
        read_pages(path)


def test_errors_are_one_line(tmp_path: Path, forge):
    path = tmp_path / "locked.pdf"
    path.write_bytes(forge.encrypted_pdf())
    with pytest.raises(DamagedFile) as caught:
        count_pages(path)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200


# ------------------------------------------------------------ what is read


def test_cmyk_tiff(tmp_path: Path):
    path = tmp_path / "cmyk.tif"
    _grey_card().convert("CMYK").save(path)
    with Image.open(path) as stored:
        assert stored.mode == "CMYK"
    page = render_page(path, 1)
    assert page.mode == "RGB"
    assert page.getpixel((50, 20)) == (0, 0, 0)
    assert page.getpixel((200, 150)) == (255, 255, 255)


def test_16_bit_tiff(tmp_path: Path):
    grey = np.tile(np.linspace(0, 255, 256).astype(np.uint8), (50, 1))
    path = tmp_path / "deep.tif"
    Image.fromarray(grey.astype(np.uint16) * 257).save(path)
    with Image.open(path) as stored:
        assert stored.mode.startswith("I;16")
    page = np.asarray(render_page(path, 1))
    assert page.shape == (50, 256, 3)
    assert np.abs(page[:, :, 0].astype(int) - grey).max() <= 1


def test_12_bit_data_in_16_bit_tiff_is_stretched(tmp_path: Path):
    data = np.tile(np.linspace(0, 4095, 64).astype(np.uint16), (8, 1))
    path = tmp_path / "twelve.tif"
    Image.fromarray(data).save(path)
    page = np.asarray(render_page(path, 1))
    assert page[0, 0, 0] == 0 and page[0, -1, 0] == 255


def test_one_bit_tiff(tmp_path: Path):
    path = tmp_path / "fax.tif"
    _grey_card().convert("1").save(path, compression="group4")
    page = render_page(path, 1)
    assert page.mode == "RGB"
    assert page.getpixel((50, 20)) == (0, 0, 0)
    assert page.getpixel((200, 150)) == (255, 255, 255)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L"])
def test_other_modes_become_rgb_on_white(mode: str):
    card = _grey_card()
    if mode in ("RGBA", "LA"):
        card = card.convert(mode)
        card.putpixel((200, 150), (0, 0, 0, 0) if mode == "RGBA" else (0, 0))
    else:
        card = card.convert(mode)
    rgb = to_rgb(card)
    assert rgb.mode == "RGB"
    assert rgb.getpixel((200, 150)) == (255, 255, 255)  # transparent shows the paper
    assert rgb.getpixel((50, 20)) == (0, 0, 0)


@pytest.mark.parametrize(("orientation", "turn"), [(3, 180), (6, 90), (8, 270)])
def test_exif_orientation_applied(tmp_path: Path, orientation: int, turn: int):
    card = _grey_card()
    # store the pixels turned, and tell viewers (EXIF) how to turn them back
    stored = card.rotate(turn, expand=True)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "phone.jpg"
    stored.save(path, exif=exif.tobytes(), quality=95)
    page = render_page(path, 1)
    assert page.size == card.size
    assert max(page.getpixel((50, 20))) < 60  # the bar is back in the top-left corner


def test_multipage_tiff_pages(tmp_path: Path):
    frames = [Image.new("L", (60 + n, 40), 255) for n in range(3)]
    path = synthetic.save_tiff(frames, tmp_path / "three.tif")
    assert count_pages(path) == 3
    assert [render_page(path, n).width for n in (1, 2, 3)] == [60, 61, 62]


def test_render_pdf_page_at_dpi(tmp_path: Path, forge):
    path = tmp_path / "blank.pdf"
    path.write_bytes(forge.blank_pdf(2))
    page = render_page(path, 2)
    assert page.mode == "RGB"
    assert page.size == (math.ceil(595 / 72 * OCR_DPI), math.ceil(842 / 72 * OCR_DPI))
    small = render_page(path, 1, dpi=50)
    assert small.size == (math.ceil(595 / 72 * 50), math.ceil(842 / 72 * 50))


def test_render_image_page_scales_from_native(tmp_path: Path):
    path = tmp_path / "card.png"
    _grey_card((400, 300)).save(path)
    assert render_page(path, 1).size == (400, 300)
    assert render_page(path, 1, dpi=100).size == (200, 150)


def test_render_page_out_of_range(tmp_path: Path):
    path = tmp_path / "card.png"
    _grey_card().save(path)
    with pytest.raises(ValueError, match="page 2"):
        render_page(path, 2)


def test_first_must_be_positive(tmp_path: Path):
    path = tmp_path / "card.png"
    _grey_card().save(path)
    with pytest.raises(ValueError):
        read_pages(path, first=0)


def test_first_past_the_end_reads_nothing(tmp_path: Path):
    path = tmp_path / "card.png"
    _grey_card().save(path)
    assert list(read_pages(path, first=2)) == []
