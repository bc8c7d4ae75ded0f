"""GB/T 9704-2012 page and type layout for reply templates, written with python-docx.

Everything the standard fixes lives in named paragraph styles (公文标题, 公文正文, 落款, ...),
not in direct formatting, so that the office can edit the wording of a template in Word without
breaking the layout, and a new template only has to pick styles. Fonts keep their Windows names
(仿宋_GB2312, 方正小标宋简体, 宋体): the PDF converter maps them to installed fonts with
fontconfig.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_LINE_SPACING, WD_PARAGRAPH_ALIGNMENT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Length, Mm, Pt, Twips
from docx.styles.style import ParagraphStyle
from docx.text.paragraph import Paragraph
from lxml import etree

# Page: A4, type area 156 mm × 225 mm, top margin 37 mm, binding (left) margin 28 mm.
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
TOP_MARGIN, LEFT_MARGIN = Mm(37), Mm(28)
TYPE_WIDTH, TYPE_HEIGHT = Mm(156), Mm(225)
RIGHT_MARGIN = Mm(210 - 28 - 156)
BOTTOM_MARGIN = Mm(297 - 37 - 225)
# 22 lines in 225 mm: 225 / 22 mm = 578.9 twips. python-docx would round the millimetres to 580
# and then only 21 lines fit, so the pitch is given in twips.
LINE_PITCH = Twips(579)
# 28 characters in 156 mm: 三号 (16 pt) with characters 0.25 pt closer (w:spacing is in 1/20 pt).
BODY_SIZE, TITLE_SIZE, PAGE_NUMBER_SIZE = Pt(16), Pt(22), Pt(14)
CHARACTER_SPACING = -5
BODY_FONT, TITLE_FONT, PAGE_NUMBER_FONT = "仿宋_GB2312", "方正小标宋简体", "宋体"
# The page number line (四号, "— 1 —") sits 7 mm below the type area; with an exact 14 pt line
# the footer's bottom edge is then 35 − 7 mm − 14 pt above the paper's edge.
# Measured on LibreOffice's PDF, the number's em box then sat 6.0 mm under the type area: 1 mm
# more brings it to the 7 mm.
FOOTER_DISTANCE = Length(BOTTOM_MARGIN - Mm(8) - PAGE_NUMBER_SIZE)
EM_DASH = "\u2014"

# Paragraph styles: (UI name shown in Word, style id).
NORMAL = ("Normal", "Normal")
TITLE = ("公文标题", "ReplyTitle")
DOC_NUMBER = ("发文字号", "ReplyDocNumber")
ADDRESSEE = ("主送机关", "ReplyAddressee")
BODY = ("公文正文", "ReplyBody")
SIGNATURE = ("落款", "ReplySignature")
PAGE_NUMBER = ("页码", "ReplyPageNumber")

# Children of w:rPr and w:pPr must appear in schema order; Word refuses files that break it.
_RPR_AFTER_SPACING = ("w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u",
                      "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs",
                      "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath")
_RPR_AFTER_LANG = ("w:eastAsianLayout", "w:specVanish", "w:oMath")
_PPR_AFTER_AUTOSPACE = ("w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                        "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                        "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                        "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
                        "w:pPrChange")
# A fixed timestamp keeps the built template byte-for-byte reproducible.
_BUILT = datetime(2026, 1, 1, tzinfo=UTC)


def new_document(title: str) -> DocxDocument:
    """Start an empty A4 document whose styles, margins and footers already follow GB/T 9704."""
    doc = Document()
    _drop_thumbnail(doc)
    _set_properties(doc, title)
    _set_defaults(doc)
    _add_styles(doc)
    _set_page(doc)
    _add_page_numbers(doc)
    return doc


def add_paragraph(doc: DocxDocument, text: str, style: tuple[str, str], *,
                  keep_with_next: bool = False) -> Paragraph:
    """Add one paragraph as a single run, so that its Jinja2 tags are never split."""
    paragraph = doc.add_paragraph(style=style[0])
    if text:
        paragraph.add_run(text)
    if keep_with_next:
        paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _set_child(parent: BaseOxmlElement, tag: str, attrs: dict[str, str],
               successors: tuple[str, ...]) -> None:
    """Set (or create in schema order) a child element such as w:spacing with these attributes."""
    child = parent.find(qn(tag))
    if child is None:
        child = OxmlElement(tag)
        parent.insert_element_before(child, *successors)
    for name, value in attrs.items():
        child.set(qn(name), value)


def _set_run_format(rpr: BaseOxmlElement, *, font: str, size: Length,
                    spacing: int | None = None) -> None:
    """Give a w:rPr explicit fonts (no theme fonts, which win over names), size and spacing."""
    fonts = rpr.get_or_add_rFonts()
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(script), font)
    half_points = str(round(size.pt * 2))
    _set_child(rpr, "w:sz", {"w:val": half_points}, _RPR_AFTER_SPACING[4:])
    _set_child(rpr, "w:szCs", {"w:val": half_points}, _RPR_AFTER_SPACING[5:])
    if spacing is not None:
        _set_child(rpr, "w:spacing", {"w:val": str(spacing)}, _RPR_AFTER_SPACING)


def _drop_thumbnail(doc: DocxDocument) -> None:
    """Remove python-docx's stock preview image, which shows a blank US Letter page."""
    rels = doc.part.package.rels
    for rid in [rid for rid, rel in rels.items() if rel.reltype == RT.THUMBNAIL]:
        del rels[rid]


def _set_properties(doc: DocxDocument, title: str) -> None:
    """Replace python-docx's stock metadata with ours, fixed so that rebuilds are identical."""
    props = doc.core_properties
    props.title = title
    props.author = "Huiyin 回音"
    props.last_modified_by = "Huiyin 回音"
    props.comments = ""
    props.created = props.modified = _BUILT
    props.revision = 1


def _set_defaults(doc: DocxDocument) -> None:
    """Make the document Chinese by default: 仿宋 三号, exact 579-twip lines, zh-CN language."""
    styles = doc.styles.element
    rpr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_run_format(rpr, font=BODY_FONT, size=BODY_SIZE)
    _set_child(rpr, "w:lang", {"w:val": "en-US", "w:eastAsia": "zh-CN", "w:bidi": "ar-SA"},
               _RPR_AFTER_LANG)
    ppr = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    _set_child(ppr, "w:spacing", {"w:after": "0", "w:line": "240", "w:lineRule": "auto"},
               _PPR_AFTER_AUTOSPACE[4:])
    theme_lang = doc.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")

    normal = doc.styles["Normal"]
    assert isinstance(normal, ParagraphStyle)
    _set_run_format(normal.element.get_or_add_rPr(), font=BODY_FONT, size=BODY_SIZE,
                    spacing=CHARACTER_SPACING)
    fmt = normal.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = LINE_PITCH
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.widow_control = False  # 22 lines on every page, as the standard counts them
    ppr = normal.element.get_or_add_pPr()
    # Word's automatic gap between Chinese and Latin letters or digits breaks the 28-per-line grid.
    # Punctuation may hang past the right edge (标点溢出), as in Word. Turning that off
    # (w:overflowPunct 0) makes LibreOffice 7.4 drop a comma that ends a line: measured.
    _set_child(ppr, "w:autoSpaceDE", {"w:val": "0"}, ("w:autoSpaceDN", *_PPR_AFTER_AUTOSPACE))
    _set_child(ppr, "w:autoSpaceDN", {"w:val": "0"}, _PPR_AFTER_AUTOSPACE)


def _add_style(doc: DocxDocument, style: tuple[str, str]) -> ParagraphStyle:
    """Add a paragraph style based on Normal, with an ASCII style id and a Chinese name."""
    added = doc.styles.add_style(style[0], WD_STYLE_TYPE.PARAGRAPH)
    assert isinstance(added, ParagraphStyle)
    added.style_id = style[1]
    added.base_style = doc.styles["Normal"]
    added.quick_style = True
    return added


def _add_styles(doc: DocxDocument) -> None:
    """Define the styles of the document's elements as GB/T 9704 describes them."""
    title = _add_style(doc, TITLE)
    _set_run_format(title.element.get_or_add_rPr(), font=TITLE_FONT, size=TITLE_SIZE)
    title.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
    title.paragraph_format.keep_with_next = True

    _add_style(doc, DOC_NUMBER).paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.RIGHT

    addressee = _add_style(doc, ADDRESSEE)
    addressee.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.LEFT
    addressee.paragraph_format.keep_with_next = True

    body = _add_style(doc, BODY)
    # Left, not justified: LibreOffice 7.4 drops a full-width comma that would hang at the end
    # of a justified line (2 of 67 in a 3-page opinion); on the 28-character grid of full-width
    # text the two alignments look the same.
    body.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.LEFT
    body.paragraph_format.first_line_indent = BODY_SIZE * 2  # 首行缩进两字

    # 成文日期右空四字; the signature above it is set the same way (see template notes).
    signature = _add_style(doc, SIGNATURE)
    signature.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.RIGHT
    signature.paragraph_format.right_indent = BODY_SIZE * 4

    number = _add_style(doc, PAGE_NUMBER)
    _set_run_format(number.element.get_or_add_rPr(), font=PAGE_NUMBER_FONT,
                    size=PAGE_NUMBER_SIZE, spacing=0)
    number.paragraph_format.line_spacing = PAGE_NUMBER_SIZE
    number.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY


def _set_page(doc: DocxDocument) -> None:
    """Set A4, the margins that give a 156 × 225 mm type area, and the 579-twip line grid."""
    section = doc.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = TOP_MARGIN, BOTTOM_MARGIN
    section.left_margin, section.right_margin = LEFT_MARGIN, RIGHT_MARGIN
    section.footer_distance = FOOTER_DISTANCE
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is not None:
        grid.set(qn("w:linePitch"), str(LINE_PITCH.twips))


def _add_page_numbers(doc: DocxDocument) -> None:
    """Put "— n —" in the footers: odd pages right, even pages left, one character in."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    _page_number(doc, section.footer.paragraphs[0], odd=True)
    _page_number(doc, section.even_page_footer.paragraphs[0], odd=False)


def _page_number(doc: DocxDocument, paragraph: Paragraph, *, odd: bool) -> None:
    """Make a footer paragraph the page number line of an odd (right) or even (left) page."""
    paragraph.style = doc.styles[PAGE_NUMBER[0]]
    if odd:
        paragraph.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.RIGHT
        paragraph.paragraph_format.right_indent = PAGE_NUMBER_SIZE
    else:
        paragraph.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.LEFT
        paragraph.paragraph_format.left_indent = PAGE_NUMBER_SIZE
    paragraph.add_run(f"{EM_DASH} ")
    _add_page_field(paragraph)
    paragraph.add_run(f" {EM_DASH}")


def _add_page_field(paragraph: Paragraph) -> None:
    """Append a PAGE field (begin, instruction, separate, cached "1", end) to a paragraph."""
    def run_with(child: BaseOxmlElement) -> None:
        run = paragraph.add_run()
        run._r.append(child)

    begin, separate, end = (OxmlElement("w:fldChar") for _ in range(3))
    begin.set(qn("w:fldCharType"), "begin")
    separate.set(qn("w:fldCharType"), "separate")
    end.set(qn("w:fldCharType"), "end")
    instruction = OxmlElement("w:instrText")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = " PAGE "
    run_with(begin)
    run_with(instruction)
    run_with(separate)
    paragraph.add_run("1")
    run_with(end)


# ---- 版头: the red agency name and rules of GB/T 9704 §7.2 (full format) and §10.1 (letters) ----
RED = "FF0000"
EMU_PER_MM = 36000
HEAD_FONT = TITLE_FONT
# §10.1 信函格式: agency name's top edge 30 mm below the paper's, a red double line (thick over
# thin) 4 mm under it and another (thin over thick) 20 mm above the bottom edge, both 170 mm long.
LETTER_NAME_TOP_MM, LETTER_NAME_SIZE = 30.0, Pt(26)
LETTER_RULE_LENGTH_MM, LETTER_BOTTOM_RULE_MM = 170.0, 297.0 - 20.0
# §7.2 full format: agency name 35 mm below the type area's top edge, the 发文字号 two empty lines
# under it, a red rule as wide as the type area 4 mm under the number.
FULL_NAME_TOP_MM, FULL_NAME_SIZE = 37.0 + 35.0, Pt(36)
PITCH_MM = 225.0 / 22
# LibreOffice sets a line of exact height h with the glyphs' em box 0.2 em above its top: measured
# on the PDF (a 26 pt name framed at 30 mm came out at 28.19 mm), so the frame is moved down.
NAME_ASCENT_EM = 0.2


def body_line_top_mm(line: int) -> float:
    """Where body line `line` (1-based) of the 22-line grid starts, in mm from the paper's top."""
    return 37.0 + (line - 1) * 579 / 1440 * 25.4


def _framed_name(anchor: Paragraph, text: str, top_mm: float, size: Length) -> None:
    """Put the red agency name in a frame as wide as the paper, its top at top_mm."""
    name = anchor.insert_paragraph_before()
    name.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
    name.paragraph_format.line_spacing = size
    name.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    run = name.add_run(text)
    rpr = run._r.get_or_add_rPr()
    _set_run_format(rpr, font=HEAD_FONT, size=size, spacing=0)
    color = OxmlElement("w:color")
    color.set(qn("w:val"), RED)
    rpr.insert_element_before(color, *_RPR_AFTER_SPACING)
    frame = OxmlElement("w:framePr")
    # wrap="none": body text runs under the frame (LibreOffice: wrap through), so the 22-line
    # grid does not move; the frame spans the paper, so the name is centred on it.
    for key, value in {"w:w": str(PAGE_WIDTH.twips), "w:h": str(round(size.pt * 20)),
                       "w:hRule": "exact", "w:wrap": "none", "w:hAnchor": "page",
                       "w:vAnchor": "page", "w:x": "0",
                       "w:y": str(round((top_mm + NAME_ASCENT_EM * size.mm) / 25.4 * 1440))
                       }.items():
        frame.set(qn(key), value)
    name._p.get_or_add_pPr().insert(0, frame)


_LINE_XML = (
    '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    ' xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"'
    ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
    ' xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
    '<w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0"'
    ' relativeHeight="{z}" behindDoc="0" locked="1" layoutInCell="1" allowOverlap="1">'
    '<wp:simplePos x="0" y="0"/>'
    '<wp:positionH relativeFrom="page"><wp:posOffset>{x}</wp:posOffset></wp:positionH>'
    '<wp:positionV relativeFrom="page"><wp:posOffset>{y}</wp:posOffset></wp:positionV>'
    '<wp:extent cx="{cx}" cy="0"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
    '<wp:docPr id="{z}" name="{name}"/><wp:cNvGraphicFramePr/>'
    '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/'
    'wordprocessingShape"><wps:wsp><wps:cNvCnPr/><wps:spPr>'
    '<a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="0"/></a:xfrm>'
    '<a:prstGeom prst="line"><a:avLst/></a:prstGeom>'
    '<a:ln w="{w}"><a:solidFill><a:srgbClr val="FF0000"/></a:solidFill></a:ln>'
    '</wps:spPr><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></w:r>'
)


def _add_rule(paragraph: Paragraph, *, centre_mm: float, top_mm: float, length_mm: float,
              width_pt: float, name: str) -> None:
    """Anchor a horizontal red line to the page: centred at centre_mm, at top_mm from the top."""
    run = etree.fromstring(_LINE_XML.format(
        z=zlib.crc32(name.encode()) % 10000 + 1, name=name,
        x=round((centre_mm - length_mm / 2) * EMU_PER_MM), y=round(top_mm * EMU_PER_MM),
        cx=round(length_mm * EMU_PER_MM), w=round(width_pt * 12700)))
    paragraph._p.append(run)


def _double_rule(paragraph: Paragraph, top_mm: float, *, thick_first: bool, name: str) -> None:
    """A red double line, 170 mm, thick over thin (under the name) or thin over thick."""
    thick, thin, gap = 1.5, 0.5, 0.8  # line widths in pt, gap in mm between their centres
    widths = (thick, thin) if thick_first else (thin, thick)
    for i, width in enumerate(widths):
        _add_rule(paragraph, centre_mm=105.0, top_mm=top_mm + i * gap,
                  length_mm=LETTER_RULE_LENGTH_MM, width_pt=width, name=f"{name}{i}")


def _first_page_header(doc: DocxDocument) -> tuple[Paragraph, Paragraph]:
    """Turn on a distinct first page; return its header's and footer's first paragraphs."""
    section = doc.sections[0]
    section.different_first_page_header_footer = True
    header = section.first_page_header.paragraphs[0]
    footer = section.first_page_footer.paragraphs[0]
    for paragraph in (header, footer):
        paragraph.style = doc.styles[NORMAL[0]]
        paragraph.paragraph_format.line_spacing = Pt(1)
        paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    return header, footer


def add_letter_head(doc: DocxDocument, name: str) -> None:
    """§10.1 信函格式 on the first page: red name, red double lines, no page number there."""
    anchor, footer = _first_page_header(doc)
    _framed_name(anchor, name, LETTER_NAME_TOP_MM, LETTER_NAME_SIZE)
    name_bottom = LETTER_NAME_TOP_MM + LETTER_NAME_SIZE.mm
    _double_rule(anchor, name_bottom + 4.0, thick_first=True, name="HeadRule")
    _double_rule(footer, LETTER_BOTTOM_RULE_MM - 0.8, thick_first=False, name="FootRule")


def add_full_head(doc: DocxDocument, name: str, number_line: int) -> None:
    """§7.2 版头: red name 35 mm into the type area, red rule 4 mm under the number's line.

    Unlike a letter (§10.1: 首页不显示页码), a document in the full format numbers its first
    page too (§7.5), so the first page's footer carries the page number.
    """
    anchor, footer = _first_page_header(doc)
    _framed_name(anchor, name, FULL_NAME_TOP_MM, FULL_NAME_SIZE)
    number_bottom = body_line_top_mm(number_line) + (PITCH_MM + BODY_SIZE.mm) / 2
    _add_rule(anchor, centre_mm=28.0 + 78.0, top_mm=number_bottom + 4.0, length_mm=156.0,
              width_pt=1.0, name="HeadRule")
    footer.paragraph_format.line_spacing = None
    footer.paragraph_format.line_spacing_rule = None
    _page_number(doc, footer, odd=True)
