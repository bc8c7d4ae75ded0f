"""read_pages through the real model: scans drawn by ocr.synthetic come back as their text."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from ocr import PageText, character_error_rate, read_pages, render_page, synthetic

pytestmark = pytest.mark.slow

CLEAN_CER = 0.05
DEGRADED_CER = 0.10
Written = dict[str, tuple[str, ...]]


def cer(reference: tuple[str, ...] | str, page: PageText) -> float:
    return character_error_rate("".join(reference), page.text)


@pytest.fixture(scope="session")
def scanned_pdf(scans: Path, page_one: Image.Image, page_two: Image.Image) -> Path:
    return synthetic.save_pdf([page_one, page_two], scans / "letter.pdf")


@pytest.fixture(scope="session")
def pdf_pages(scanned_pdf: Path) -> list[PageText]:
    return list(read_pages(scanned_pdf))


def test_image_only_pdf_is_read_page_by_page(written: Written, pdf_pages: list[PageText]):
    assert [p.number for p in pdf_pages] == [1, 2]
    assert [p.source for p in pdf_pages] == ["ocr", "ocr"]
    assert cer(written["page_one"], pdf_pages[0]) <= CLEAN_CER
    assert cer(written["page_two"], pdf_pages[1]) <= DEGRADED_CER


def test_lines_come_in_reading_order(written: Written, pdf_pages: list[PageText]):
    page = pdf_pages[0]
    assert page.lines[0].text.startswith("尊敬的")
    assert page.lines[-1].text.endswith("韩秋菊")
    tops = [line.bounds[1] for line in page.lines]
    assert tops == sorted(tops)
    assert len(page.lines) == len(written["page_one"])


def test_boxes_and_scores_are_in_page_pixels(scanned_pdf: Path, pdf_pages: list[PageText]):
    page = pdf_pages[0]
    assert (page.width, page.height) == render_page(scanned_pdf, 1).size
    for line in page.lines:
        assert len(line.box) == 4
        left, top, right, bottom = line.bounds
        assert 0 <= left < right <= page.width and 0 <= top < bottom <= page.height
        assert 0.0 < line.score <= 1.0
        (x0, y0), (x1, _), (x2, y2), (x3, _) = line.box
        assert x1 > x0 and y2 > y0 and x2 > x3  # clockwise from the top-left


def test_multipage_tiff(written: Written, scans: Path, page_one: Image.Image, strip: Image.Image):
    path = synthetic.save_tiff([strip, page_one], scans / "letter.tif")
    pages = list(read_pages(path))
    assert [p.number for p in pages] == [1, 2]
    assert cer(written["strip"], pages[0]) <= CLEAN_CER
    assert cer(written["page_one"], pages[1]) <= CLEAN_CER


def test_resume_from_a_later_page(written: Written, scans: Path, strip: Image.Image):
    blank = Image.new("RGB", strip.size, "white")
    path = synthetic.save_pdf([blank, blank, strip], scans / "resume.pdf")
    pages = list(read_pages(path, first=3))
    assert [p.number for p in pages] == [3]
    assert cer(written["strip"], pages[0]) <= CLEAN_CER


def test_blank_page_has_no_lines(tmp_path: Path):
    path = tmp_path / "blank.png"
    synthetic.render_scan([], ruled=True).save(path)
    (page,) = read_pages(path)
    assert page.lines == () and page.text == ""
    assert (page.width, page.height, page.source) == (1654, 2339, "ocr")


@pytest.mark.parametrize("kind", ["png", "jpeg", "cmyk-tiff", "16-bit-tiff", "1-bit-tiff"])
def test_every_format_reaches_the_model(
    written: Written, tmp_path: Path, strip: Image.Image, kind: str
):
    path = tmp_path / f"strip.{kind}"
    if kind == "png":
        strip.save(path, "PNG")
    elif kind == "jpeg":
        strip.save(path, "JPEG", quality=80)
    elif kind == "cmyk-tiff":
        strip.convert("CMYK").save(path, "TIFF")
    elif kind == "16-bit-tiff":
        import numpy as np

        grey = np.asarray(strip.convert("L")).astype(np.uint16) * 257
        Image.fromarray(grey).save(path, "TIFF")
    else:
        strip.convert("L").point(lambda v: 255 if v > 150 else 0).convert("1").save(
            path, "TIFF", compression="group4"
        )
    (page,) = read_pages(path)
    assert cer(written["strip"], page) <= CLEAN_CER, page.text


def test_exif_rotated_phone_photo(written: Written, tmp_path: Path, strip: Image.Image):
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to view"
    path = tmp_path / "IMG_2231.jpg"
    strip.rotate(90, expand=True).save(path, exif=exif.tobytes(), quality=90)
    (page,) = read_pages(path)
    assert (page.width, page.height) == strip.size
    assert cer(written["strip"], page) <= CLEAN_CER, page.text


def _scan_over_text(text_pdf: Path, image: Image.Image, out: Path) -> Path:
    """A scanner-style PDF: the page image drawn over a text layer that says something else."""
    import pypdfium2 as pdfium

    jpeg = io.BytesIO()
    image.save(jpeg, "JPEG", quality=85)
    pdf = pdfium.PdfDocument(text_pdf)
    page = pdf[0]
    width, height = page.get_size()
    picture = pdfium.PdfImage.new(pdf)
    picture.load_jpeg(io.BytesIO(jpeg.getvalue()), inline=False)
    picture.set_matrix(pdfium.PdfMatrix().scale(width, height))
    page.insert_obj(picture)
    page.gen_content()
    pdf.save(out)
    page.close()
    pdf.close()
    return out


def test_mixed_pdf_text_layer_and_scan(written: Written, scans: Path, page_one: Image.Image):
    import pypdfium2 as pdfium

    typed = synthetic.save_text_pdf(["打印的答复意见书第一页内容"], scans / "typed.pdf")
    scanned = synthetic.save_pdf([page_one], scans / "one.pdf")
    merged = pdfium.PdfDocument(typed)
    merged.import_pages(pdfium.PdfDocument(scanned))
    path = scans / "mixed.pdf"
    merged.save(path)
    merged.close()
    first, second = read_pages(path)
    assert (first.source, first.text) == ("text-layer", "打印的答复意见书第一页内容")
    assert second.source == "ocr" and cer(written["page_one"], second) <= CLEAN_CER


def test_a_scan_with_a_hidden_text_layer_is_ocrd(written: Written, scans: Path, strip: Image.Image):
    typed = synthetic.save_text_pdf(["这是扫描仪写入的不可靠文字层"], scans / "hidden.pdf")
    canvas = Image.new("RGB", (1654, 2339), "white")
    canvas.paste(strip, (0, 200))
    path = _scan_over_text(typed, canvas, scans / "scanner-ocr.pdf")
    (page,) = read_pages(path)
    assert page.source == "ocr"
    assert cer(written["strip"], page) <= CLEAN_CER, page.text


def test_upside_down_page_is_turned_and_read(
    written: Written, tmp_path: Path, page_one: Image.Image
):
    path = tmp_path / "upside-down.png"
    page_one.rotate(180).save(path)
    (page,) = read_pages(path)
    assert page.rotation == 180
    assert cer(written["page_one"], page) <= CLEAN_CER, page.text
    # boxes stay on the page as scanned: the first line is near the bottom edge
    assert page.lines[0].bounds[1] > page.height * 0.6
    assert page.lines[-1].bounds[3] < page.lines[0].bounds[1]


def test_upright_pages_are_not_turned(pdf_pages: list[PageText]):
    assert [p.rotation for p in pdf_pages] == [0, 0]
