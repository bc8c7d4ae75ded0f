"""ocr.synthetic draws the scans every test and the demo use; they must be what they say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocr import count_pages, read_pages, render_page, sniff, synthetic

LINES = ("尊敬的县信访局领导：", "我叫韩秋菊，联系电话13839452176。")


def test_a4_at_the_asked_resolution():
    page = synthetic.render_scan(LINES)
    assert page.mode == "RGB"
    assert page.size == (1654, 2339)
    assert synthetic.render_scan(LINES, dpi=100).size == (827, 1169)


def test_deterministic_for_a_seed():
    one = np.asarray(synthetic.render_scan(LINES, seed=3, degrade=True))
    again = np.asarray(synthetic.render_scan(LINES, seed=3, degrade=True))
    other = np.asarray(synthetic.render_scan(LINES, seed=4, degrade=True))
    assert np.array_equal(one, again)
    assert not np.array_equal(one, other)


def test_degrade_greys_the_paper_and_adds_noise():
    clean = np.asarray(synthetic.render_scan(LINES, seed=1).convert("L"), dtype=float)
    poor = np.asarray(synthetic.render_scan(LINES, seed=1, degrade=True).convert("L"), dtype=float)
    assert clean[:100, :100].std() == 0 and clean[:100, :100].mean() == 255
    assert poor[:100, :100].std() > 2 and poor[:100, :100].mean() < 250


def test_ruled_lines_are_faint():
    ruled = np.asarray(synthetic.render_scan([], ruled=True).convert("L"))
    darkest = ruled.min(axis=1)
    assert (darkest < 255).sum() > 20  # many rules
    assert darkest.min() > 150  # but light enough not to be read as text


def test_long_lines_wrap_and_too_many_lines_are_refused():
    synthetic.render_scan(["很长的一行字" * 12])  # wraps onto several written lines
    with pytest.raises(ValueError, match="do not fit"):
        synthetic.render_scan(["一行"] * 40)


def test_save_pdf_is_image_only_and_multi_page(tmp_path: Path):
    pages = [synthetic.render_scan(LINES, seed=n) for n in range(2)]
    path = synthetic.save_pdf(pages, tmp_path / "scan.pdf")
    assert sniff(path) == "pdf"
    assert count_pages(path) == 2
    assert render_page(path, 2).size == (1654, 2339)  # 200 dpi in, 200 dpi out


def test_save_tiff_is_multi_page(tmp_path: Path):
    pages = [synthetic.render_scan(LINES, seed=n, dpi=100) for n in range(3)]
    path = synthetic.save_tiff(pages, tmp_path / "scan.tif")
    assert sniff(path) == "tiff"
    assert count_pages(path) == 3
    with Image.open(path) as stored:
        assert stored.info["dpi"] == pytest.approx((100, 100))


def test_nothing_to_save(tmp_path: Path):
    with pytest.raises(ValueError):
        synthetic.save_pdf([], tmp_path / "x.pdf")
    with pytest.raises(ValueError):
        synthetic.save_tiff([], tmp_path / "x.tif")


def test_text_pdf_is_read_from_its_text_layer(tmp_path: Path):
    """No OCR at all: pdfplumber reads the typed text, boxes in 200-dpi page pixels."""
    path = synthetic.save_text_pdf(LINES, tmp_path / "typed.pdf", pages=2)
    pages = list(read_pages(path))
    assert [p.source for p in pages] == ["text-layer", "text-layer"]
    first = pages[0]
    assert first.text == "\n".join(LINES)
    assert (first.width, first.height) == render_page(path, 1).size
    left, top, right, bottom = first.lines[0].bounds
    assert left == pytest.approx(200, abs=3)  # 1 inch margin = 200 px at 200 dpi
    assert 0 < top < bottom < first.height / 4 and right < first.width
    assert all(line.score == 1.0 for line in first.lines)
    assert [p.number for p in read_pages(path, first=2)] == [2]


def test_missing_font_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(synthetic, "_FONT_PATHS", (tmp_path / "nope.ttc",))
    monkeypatch.setattr(synthetic.shutil, "which", lambda name: None)
    synthetic.font_path.cache_clear()
    try:
        with pytest.raises(synthetic.FontNotFound, match="fonts-arphic-ukai"):
            synthetic.font_path()
    finally:
        synthetic.font_path.cache_clear()


def test_images_saved_before_can_still_be_saved_as_tiff(tmp_path: Path):
    """Pillow keeps an image's last encoder settings on it; save_tiff must not inherit them."""
    page = synthetic.render_scan(LINES, dpi=100)
    page.save(tmp_path / "first.jpg", quality=85)
    synthetic.save_pdf([page], tmp_path / "first.pdf")
    path = synthetic.save_tiff([page.crop((0, 0, 100, 100)), page], tmp_path / "again.tif")
    assert count_pages(path) == 2


def test_pages_say_their_resolution():
    assert synthetic.render_scan(LINES, dpi=150).info["dpi"] == (150, 150)
    assert synthetic.render_scan(LINES, dpi=150, degrade=True).info["dpi"] == (150, 150)
