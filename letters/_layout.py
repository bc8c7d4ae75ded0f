"""GB/T 9704-2012 page and type layout for reply templates, written with python-docx.

Everything the standard fixes lives in named paragraph styles (公文标题, 公文正文, 落款, ...),
not in direct formatting, so that the office can edit the wording of a template in Word without
breaking the layout, and a new template only has to pick styles. Fonts keep their Windows names
(仿宋_GB2312, 方正小标宋简体, 宋体): the PDF converter maps them to installed fonts with
fontconfig.
"""

from __future__ import annotations

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
FOOTER_DISTANCE = Length(BOTTOM_MARGIN - Mm(7) - PAGE_NUMBER_SIZE)
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
    body.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.JUSTIFY
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
    odd = section.footer.paragraphs[0]
    odd.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.RIGHT
    odd.paragraph_format.right_indent = PAGE_NUMBER_SIZE
    even = section.even_page_footer.paragraphs[0]
    even.paragraph_format.alignment = WD_PARAGRAPH_ALIGNMENT.LEFT
    even.paragraph_format.left_indent = PAGE_NUMBER_SIZE
    for paragraph in (odd, even):
        paragraph.style = doc.styles[PAGE_NUMBER[0]]
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
