"""PDF pages with a real text layer are read by pdfplumber, not OCR: exact text, true boxes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocr import read_pages, render_page, synthetic
from ocr._textlayer import plausible

LINES = ("尊敬的信访局领导：我叫韩秋菊", "联系电话13839452176", "Room 302, No. 5 Road")


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic.save_text_pdf(LINES, tmp_path_factory.mktemp("typed") / "typed.pdf")


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_rotated_pages_read_in_order_with_boxes_on_the_ink(
    typed: Path, tmp_path: Path, rotation: int
):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(typed)
    page = pdf[0]
    page.set_rotation(rotation)
    path = tmp_path / f"turned-{rotation}.pdf"
    pdf.save(path)
    page.close()
    pdf.close()

    (text_page,) = read_pages(path)
    assert text_page.source == "text-layer"
    assert [line.text for line in text_page.lines] == list(LINES)
    assert text_page.rotation == (360 - rotation) % 360
    image = np.asarray(render_page(path, 1).convert("L"))
    assert (text_page.width, text_page.height) == (image.shape[1], image.shape[0])
    for line in text_page.lines:
        left, top, right, bottom = (round(v) for v in line.bounds)
        ink = (image[top:bottom, left:right] < 128).mean()
        assert ink > 0.05, (line.text, ink)  # the box sits on the printed line


def test_words_keep_their_spaces(typed: Path):
    (page,) = read_pages(typed)
    assert page.lines[2].text == "Room 302, No. 5 Road"


def test_too_little_text_is_no_text_layer(tmp_path: Path):
    path = synthetic.save_text_pdf(["第1页"], tmp_path / "stamp.pdf")
    from ocr import _loaders

    with _loaders.open_source(path) as source:
        assert source.text_layer(1) is None  # four characters: OCR the page instead


def test_garbage_unicode_is_no_text_layer(tmp_path: Path):
    path = synthetic.save_text_pdf(["\x14\x16\x1b\x16\x17\x18\x15\x14\x1a\x19"], tmp_path / "g.pdf")
    from ocr import _loaders

    with _loaders.open_source(path) as source:
        assert source.text_layer(1) is None


@pytest.mark.parametrize(
    ("ch", "ok"),
    [
        ("信", True),
        ("，", True),
        ("a", True),
        ("①", True),
        ("\x14", False),
        ("\u1758", False),
        ("\ue000", False),
    ],
)
def test_plausible_characters(ch: str, ok: bool):
    assert plausible(ch) is ok
