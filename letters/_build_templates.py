"""Build the built-in reply templates from code, so that every .docx we ship is reproducible.

Run ``python -m letters._build_templates [--out DIR]``; the default writes into
``letters/templates/``. The office edits the resulting files in Word later; each template is a
function here returning a python-docx document whose text carries Jinja2 placeholders.

The wording follows the 《信访工作条例》(2022, /work/shared/law): a petition office registers and
transfers or assigns a matter within 15 days (§22, §23); the handling unit answers with a
信访事项处理意见书 (§32) within 60 days of acceptance, extendable once by at most 30 days with the
approval of its head and the reason told to the petitioner (§34); 复查 within 30 days (§35),
复核 within 30 days, which is final: the same facts and reasons are not accepted again (§36 ¶3).
Every figure of the case (dates, days, the decision) is a field the caller fills; the figures
printed as words of the law (60日, 30日, 5个工作日) are the law's own.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from docx.document import Document as DocxDocument
from docx.enum.text import WD_PARAGRAPH_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, Twips
from docx.table import _Row

from letters._layout import (
    ADDRESSEE,
    BODY,
    DOC_NUMBER,
    NORMAL,
    SIGNATURE,
    TITLE,
    add_full_head,
    add_letter_head,
    add_paragraph,
    new_document,
)
from letters._templates import TEMPLATES_DIR

# Zip members get this timestamp so that an unchanged template rebuilds to the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _letter(title: str) -> DocxDocument:
    """A letter to a person (§10.1 信函格式): red head, then number, title, addressee."""
    doc = new_document(title)
    add_letter_head(doc, "{{ office_name }}")
    add_paragraph(doc, "", NORMAL, keep_with_next=True)  # line 1 lies under the red double line
    add_paragraph(doc, "{{ doc_number }}", DOC_NUMBER, keep_with_next=True)
    add_paragraph(doc, "", NORMAL, keep_with_next=True)
    add_paragraph(doc, title, TITLE)
    add_paragraph(doc, "", NORMAL, keep_with_next=True)
    add_paragraph(doc, "{{ petitioner_name }}：", ADDRESSEE)
    return doc


def _body(doc: DocxDocument, *texts: str) -> None:
    for text in texts:
        add_paragraph(doc, text, BODY)


_RECEIVED = ("你于{{ received_date }}提出的信访事项（登记编号：{{ reg_no }}）收悉。"
             "你反映的主要问题是：{{ summary|sentence }}")
_CONTACT = "如有疑问，可与本机关联系，联系电话：{{ contact_phone }}。"


def acknowledgement() -> DocxDocument:
    """受理告知书: the matter is accepted, who handles it, and by when the answer comes."""
    doc = _letter("信访事项受理告知书")
    _body(doc, _RECEIVED,
          "经审查，该信访事项符合受理条件，本机关决定予以受理，"
          "并已交由{{ handling_unit }}依法办理。",
          # §34's period is for §31 item (六) only; another kind is answered in the period
          # the office set (§22 (三)), which the regulation does not fix
          "{% if office_period %}该事项将在本机关指定的办理期限内"
          "办理，并将办理结果告知你。{% else %}根据《信访工作条例》第三十四条，该事项将自受理之日起"
          "60日内办结并向你出具《信访事项处理意见书》；情况复杂的，延长期限不得超过30日。"
          "{% endif %}",
          # §18, §21 ¶2: how the petitioner follows the matter and evaluates it
          "请你保持通信畅通，配合调查核实。联系电话：{{ contact_phone }}。"
          "{% if query_code %}凭查询码{{ query_code }}在{{ query_url }}查询进展、作出评价。"
          "{% endif %}")
    _closing(doc, "特此告知。")
    return doc


def non_acceptance() -> DocxDocument:
    """不予受理告知书: why the matter is not accepted and where the petitioner can turn."""
    doc = _letter("信访事项不予受理告知书")
    _body(doc, _RECEIVED,
          "经审查，{{ reason|sentence }}根据{{ legal_basis }}的规定，本机关对该信访事项不予受理。",
          "{{ channel|sentence }}" + _CONTACT)
    _closing(doc, "特此告知。")
    return doc


def transfer_notice() -> DocxDocument:
    """转送告知单: the matter belongs to another body, to which it has been sent."""
    doc = _letter("信访事项转送告知单")
    _body(doc, _RECEIVED,
          "根据《信访工作条例》第二十二条、第二十三条的规定，经审查，该信访事项属于"
          "{{ handling_unit }}的职权范围，本机关已于{{ issue_date }}将其转送{{ handling_unit }}"
          "处理。请你今后直接与{{ handling_unit }}联系，"
          "{{ handling_unit }}将依法受理并书面告知你。",
          _CONTACT)
    _closing(doc, "特此告知。")
    return doc


def assignment() -> DocxDocument:
    """交办单 (full format, to a unit): hand a matter to the competent unit with a deadline."""
    doc = new_document("信访事项交办单")
    add_full_head(doc, "{{ office_name }}", number_line=8)
    for _ in range(7):
        add_paragraph(doc, "", NORMAL, keep_with_next=True)
    number = add_paragraph(doc, "{{ doc_number }}", DOC_NUMBER, keep_with_next=True)
    number.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER  # §7.2.4: 居中排布
    add_paragraph(doc, "", NORMAL, keep_with_next=True)  # the red rule lies on this line
    add_paragraph(doc, "信访事项交办单", TITLE)
    add_paragraph(doc, "", NORMAL, keep_with_next=True)
    add_paragraph(doc, "{{ handling_unit }}：", ADDRESSEE)
    _body(doc,
          "{{ received_date }}，{{ petitioner_name }}{{ channel_word }}反映"
          "（登记编号：{{ reg_no }}）："
          "{{ summary|sentence }}",
          "根据《信访工作条例》第二十二条的规定，现将该信访事项交由你单位办理。请你单位依法"
          "调查核实，于{{ deadline_date }}前办结，向信访人出具《信访事项处理意见书》，"
          "并将办理结果及意见书复印件报送本机关。",
          "根据《信访工作条例》第二十三条的规定，你单位认为该事项不属于本单位职权范围的，"
          "请于收到本交办单之日起5个工作日内提出异议，并详细说明理由。"
          "联系电话：{{ contact_phone }}。")
    _closing(doc, "")
    return doc


# The three answers of §32; the renderer refuses any other decision (letters._render).
_DECISION = ("{% if decision == '支持' %}对你的信访请求予以支持。"
             "{% elif decision == '不予支持' %}对你的信访请求不予支持。"
             "{% elif decision == '解释说明' %}对你反映的问题作如下解释说明。{% endif %}")


def handling_opinion() -> DocxDocument:
    """信访事项处理意见书: request, facts found, decision, legal basis, the right to 复查."""
    doc = _letter("信访事项处理意见书")
    _body(doc,
          "你于{{ received_date }}提出的信访事项（登记编号：{{ reg_no }}）已依法受理，"
          "现将办理情况答复如下。",
          "一、信访请求。{{ request|sentence }}",
          "二、调查核实的事实。{{ facts|sentence }}",
          "三、处理意见。根据{{ legal_basis }}的规定，经研究，" + _DECISION
          + "{{ opinion|sentence }}",
          "根据《信访工作条例》第三十五条的规定，如你对本处理意见不服，可以自收到本意见书之日起"
          "30日内，向{{ review_authority }}请求复查。" + _CONTACT)
    _closing(doc, "特此答复。")
    return doc


def extension_notice() -> DocxDocument:
    """延期告知书 (§34): extended once, by the days chosen (at most 30), with the reason."""
    doc = _letter("信访事项延期办理告知书")
    _body(doc, _RECEIVED,
          "该信访事项已于{{ accepted_date }}受理。因{{ extension_reason|sentence }}"
          "根据《信访工作条例》第三十四条的规定，经本机关负责人批准，办理期限延长"
          "{{ extension_days }}日，将于{{ new_due_date }}前办结并书面答复你。",
          "请你保持通信畅通，配合做好调查核实工作。" + _CONTACT)
    _closing(doc, "特此告知。")
    return doc


def review_opinion() -> DocxDocument:
    """复查意见书: the answer to a request for review of a handling opinion."""
    doc = _letter("信访事项复查意见书")
    _body(doc,
          "你不服{{ original_office }}作出的《信访事项处理意见书》（{{ original_doc_number }}），"
          "于{{ review_request_date }}向本机关提出复查请求。本机关根据《信访工作条例》第三十五条"
          "的规定受理并进行了复查，现将复查意见答复如下。",
          "一、复查请求。{{ request|sentence }}",
          "二、复查查明的事实。{{ facts|sentence }}",
          "三、复查意见。根据{{ legal_basis }}的规定，{{ conclusion|sentence }}",
          "根据《信访工作条例》第三十六条的规定，如你对本复查意见不服，可以自收到本意见书之日起"
          "30日内，向{{ next_authority }}请求复核。" + _CONTACT)
    _closing(doc, "特此答复。")
    return doc


def re_review_opinion() -> DocxDocument:
    """复核意见书: the last word; the same facts and reasons are not accepted again."""
    doc = _letter("信访事项复核意见书")
    _body(doc,
          "你不服{{ original_office }}作出的《信访事项复查意见书》（{{ original_doc_number }}），"
          "于{{ review_request_date }}向本机关提出复核请求。本机关根据《信访工作条例》第三十六条"
          "的规定受理并进行了复核，现将复核意见答复如下。",
          "一、复核请求。{{ request|sentence }}",
          "二、复核查明的事实。{{ facts|sentence }}",
          "三、复核意见。根据{{ legal_basis }}的规定，{{ conclusion|sentence }}",
          "本复核意见为该信访事项的最终处理意见。根据《信访工作条例》第三十六条第三款的规定，"
          "你对本复核意见不服，仍然以同一事实和理由提出投诉请求的，各级党委和政府信访部门和"
          "其他机关、单位不再受理。" + _CONTACT)
    _closing(doc, "特此答复。")
    return doc


def service_receipt() -> DocxDocument:
    """送达回证: the receipt the petitioner signs for a document served on them.

    The form and the signature under it sit in one borderless cell that may not split across
    pages: LibreOffice keeps no table with the paragraph after it, and the signature and seal
    must not stand alone on a page (GB/T 9704 §7.3.5).
    """
    doc = _letter("送达回证")
    doc.paragraphs[-1]._p.getparent().remove(doc.paragraphs[-1]._p)  # no addressee line
    rows = (("送达文书", "{{ served_document }}（{{ served_doc_number }}）"),
            ("受送达人", "{{ petitioner_name }}"),
            ("送达地点", "{{ service_address }}"),
            ("送达方式", "{{ delivery_method }}"),
            ("受送达人签名", ""), ("签收日期", "　　年　　月　　日"),
            ("送达人", ""), ("备注", ""))
    holder = doc.add_table(rows=1, cols=1)
    _no_split(holder.rows[0])
    margins = OxmlElement("w:tblCellMar")
    for side in ("top", "left", "bottom", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), "0")
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    holder._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption",
                                            "w:tblDescription", "w:tblPrChange")
    # The form's text, not its borders, lies on the type area's left edge, as in any table:
    # the holder starts one cell margin (108 twips) to the left.
    indent = OxmlElement("w:tblInd")
    indent.set(qn("w:w"), "-108")
    indent.set(qn("w:type"), "dxa")
    holder._tbl.tblPr.insert_element_before(indent, "w:tblBorders", "w:shd", "w:tblLayout",
                                            "w:tblCellMar", "w:tblLook", "w:tblCaption",
                                            "w:tblDescription", "w:tblPrChange")
    cell = holder.cell(0, 0)
    cell.width = holder.columns[0].width = Mm(156) + Twips(108)
    table = cell.add_table(rows=len(rows), cols=2)
    cell._tc.remove(cell.paragraphs[0]._p)  # the cell's first, empty paragraph
    table.style = doc.styles["Table Grid"]
    for row, (label, value) in zip(table.rows, rows, strict=True):
        _no_split(row)
        for box, text in zip(row.cells, (label, value), strict=True):
            box.paragraphs[0].style = doc.styles[NORMAL[0]]
            if text:
                box.paragraphs[0].add_run(text)
        row.cells[0].width, row.cells[1].width = Mm(40), Mm(116)
    for column, width in zip(table.columns, (Mm(40), Mm(116)), strict=True):
        column.width = width
    for text, style in (("", NORMAL), ("", NORMAL), ("{{ office_name }}", SIGNATURE),
                        ("{{ issue_date }}", SIGNATURE)):
        paragraph = cell.add_paragraph(text, doc.styles[style[0]])
        paragraph.paragraph_format.keep_with_next = text != "{{ issue_date }}"
    doc.add_paragraph(style=doc.styles[NORMAL[0]]).paragraph_format.line_spacing = Pt(1)
    return doc


def _no_split(row: _Row) -> None:
    """Keep a table row on one page."""
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _closing(doc: DocxDocument, formula: str) -> None:
    """Add the closing formula and the signature block, kept with the body's last lines.

    GB/T 9704 §7.3.5: the text, the date and the seal share a page, and no page holds the
    signature alone (no 此页无正文). The block keeps with the body's last paragraph, which keeps
    at least two of its lines with it (widow control): when the block does not fit under the
    body, those lines move to the next page with it.
    """
    last = doc.paragraphs[-1]
    last.paragraph_format.keep_with_next = True
    last.paragraph_format.widow_control = True
    if formula:
        add_paragraph(doc, formula, BODY, keep_with_next=True)
    # Two empty lines leave room for the seal, which overlaps the signature and the date.
    add_paragraph(doc, "", NORMAL, keep_with_next=True)
    add_paragraph(doc, "", NORMAL, keep_with_next=True)
    add_paragraph(doc, "{{ office_name }}", SIGNATURE, keep_with_next=True)
    add_paragraph(doc, "{{ issue_date }}", SIGNATURE)


BUILDERS: dict[str, Callable[[], DocxDocument]] = {
    "acknowledgement": acknowledgement,
    "non_acceptance": non_acceptance,
    "transfer_notice": transfer_notice,
    "assignment": assignment,
    "handling_opinion": handling_opinion,
    "extension_notice": extension_notice,
    "review_opinion": review_opinion,
    "re_review_opinion": re_review_opinion,
    "service_receipt": service_receipt,
}

def docx_bytes(doc: DocxDocument) -> bytes:
    """Serialise a document as a .docx whose zip members carry no build-time timestamp."""
    raw = io.BytesIO()
    doc.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for member in src.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(member))
    return out.getvalue()


def build(out_dir: Path = TEMPLATES_DIR) -> list[Path]:
    """Write every built-in template into out_dir and return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, builder in BUILDERS.items():
        path = out_dir / f"{name}.docx"
        path.write_bytes(docx_bytes(builder()))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line entry: rebuild the templates and print where they went."""
    parser = argparse.ArgumentParser(prog="python -m letters._build_templates",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=TEMPLATES_DIR,
                        help="folder to write the .docx files into (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
