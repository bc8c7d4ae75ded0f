"""GB/T 9704-2012 layout, read back from the XML of a rendered reply."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
EMU_PER_MM = 36000


def twips(mm: float) -> int:
    """Millimetres to twentieths of a point, as Word stores page measures."""
    return round(mm / 25.4 * 1440)


def attr(element: Any, name: str) -> int:
    """An integer w: attribute."""
    return int(element.get(f"{{{W}}}{name}"))


@pytest.fixture
def reply(render: Callable[..., Path], package: Callable[[Path], Any]) -> Any:
    """The XML of a rendered acknowledgement."""
    return package(render())


def test_page_is_a4(reply: Any) -> None:
    size = reply.sect("pgSz")
    assert (attr(size, "w"), attr(size, "h")) == (twips(210), twips(297)) == (11906, 16838)
    assert size.get(f"{{{W}}}orient") in (None, "portrait")


def test_margins_give_the_156_by_225_mm_type_area(reply: Any) -> None:
    margins = reply.sect("pgMar")
    assert attr(margins, "top") == twips(37)
    assert attr(margins, "left") == twips(28)  # binding side
    width = twips(210) - attr(margins, "left") - attr(margins, "right")
    height = twips(297) - attr(margins, "top") - attr(margins, "bottom")
    assert abs(width - twips(156)) <= 1
    assert abs(height - twips(225)) <= 1


def test_margins_in_emu_through_python_docx(render: Callable[..., Path]) -> None:
    import docx

    section = docx.Document(str(render())).sections[0]
    for measure, mm in [(section.top_margin, 37), (section.left_margin, 28),
                        (section.right_margin, 26), (section.bottom_margin, 35),
                        (section.page_width, 210), (section.page_height, 297)]:
        assert measure is not None
        assert abs(measure - mm * EMU_PER_MM) <= 635  # within one twip


def test_body_is_fangsong_sanhao_on_the_579_twip_grid(reply: Any) -> None:
    body = reply.paragraphs("ReplyBody")
    assert len(body) >= 5
    for p in body:
        assert reply.effective(p, "rPr", "rFonts", "eastAsia") == "仿宋_GB2312"
        assert reply.effective(p, "rPr", "rFonts", "ascii") == "仿宋_GB2312"
        assert reply.effective(p, "rPr", "sz", "val") == "32"  # half-points: 16 pt, 三号
        assert reply.effective(p, "rPr", "spacing", "val") == "-5"  # -0.25 pt
        assert reply.effective(p, "pPr", "spacing", "line") == "579"
        assert reply.effective(p, "pPr", "spacing", "lineRule") == "exact"
        assert reply.effective(p, "pPr", "ind", "firstLine") == "640"  # two characters
        # left, not justified: LibreOffice drops a comma hanging at a justified line's end
        assert reply.effective(p, "pPr", "jc", "val") == "left"


def test_theme_fonts_cannot_override_the_named_fonts(reply: Any) -> None:
    for fonts in reply.styles.iterfind(".//w:docDefaults//w:rFonts", NS):
        assert not any(name.endswith("Theme") or name.endswith("theme")
                       for name in fonts.attrib)


def test_every_body_paragraph_in_the_document_uses_the_grid(reply: Any) -> None:
    for p in reply.document.iterfind(".//w:body/w:p", NS):
        assert reply.effective(p, "pPr", "spacing", "line") == "579"
        assert reply.effective(p, "pPr", "spacing", "lineRule") == "exact"


def test_the_grid_gives_22_lines_of_28_characters(reply: Any) -> None:
    margins = reply.sect("pgMar")
    height = twips(297) - attr(margins, "top") - attr(margins, "bottom")
    width = twips(210) - attr(margins, "left") - attr(margins, "right")
    assert 22 * 579 <= height < 23 * 579
    pitch = 16 * 20 - 5  # character advance in twips: 16 pt less 0.25 pt
    assert 28 * pitch <= width < 29 * pitch
    assert attr(reply.sect("docGrid"), "linePitch") == 579


def test_title_is_xiaobiaosong_erhao_centred(reply: Any) -> None:
    titles = reply.paragraphs("ReplyTitle")
    assert ["".join(p.itertext()) for p in titles] == ["信访事项受理告知书"]
    for p in titles:
        assert reply.effective(p, "rPr", "rFonts", "eastAsia") == "方正小标宋简体"
        assert reply.effective(p, "rPr", "sz", "val") == "44"  # 22 pt, 二号
        assert reply.effective(p, "pPr", "jc", "val") == "center"


def test_document_number_addressee_and_signature(reply: Any) -> None:
    number = reply.paragraph_with("清信受〔2026〕17号")
    assert reply.effective(number, "pPr", "jc", "val") == "right"
    addressee = reply.paragraph_with("王秀英：")
    assert reply.effective(addressee, "pPr", "jc", "val") == "left"
    assert reply.effective(addressee, "pPr", "ind", "firstLine") is None
    signature = reply.paragraphs("ReplySignature")
    assert ["".join(p.itertext()) for p in signature] == ["清河县信访局", "2026年11月24日"]
    for p in signature:
        assert reply.effective(p, "pPr", "jc", "val") == "right"
        assert reply.effective(p, "pPr", "ind", "right") == "1280"  # 右空四字
        assert reply.effective(p, "rPr", "rFonts", "eastAsia") == "仿宋_GB2312"


def test_signature_block_stays_with_the_last_lines(reply: Any) -> None:
    paragraphs = reply.document.findall(".//w:body/w:p", NS)
    closing = paragraphs.index(reply.paragraph_with("特此告知。"))
    assert closing < len(paragraphs) - 1
    for p in paragraphs[closing:-1]:
        assert p.find("w:pPr/w:keepNext", NS) is not None


def test_language_is_chinese(reply: Any) -> None:
    lang = reply.styles.find(".//w:docDefaults//w:lang", NS)
    assert lang.get(f"{{{W}}}eastAsia") == "zh-CN"


def test_footers_number_pages_with_em_dashes(reply: Any) -> None:
    footers = [f for f in reply.footers() if f.find(".//w:instrText", NS) is not None]
    assert len(footers) == 2  # odd pages right, even pages left; the first page has none
    alignments = set()
    for footer in footers:
        p = footer.find("w:p", NS)
        text = "".join(t.text for t in p.iterfind(".//w:t", NS))
        assert text == "\u2014 1 \u2014"
        assert "".join(p.xpath(".//w:instrText/text()", namespaces=NS)).strip() == "PAGE"
        kinds = p.xpath(".//w:fldChar/@w:fldCharType", namespaces=NS)
        assert kinds == ["begin", "separate", "end"]
        assert reply.effective(p, "rPr", "sz", "val") == "28"  # 四号
        assert reply.effective(p, "rPr", "rFonts", "eastAsia") == "宋体"
        alignments.add(reply.effective(p, "pPr", "jc", "val"))
    assert alignments == {"left", "right"}
    settings = reply.xml("word/settings.xml")
    assert settings.find("w:evenAndOddHeaders", NS) is not None
