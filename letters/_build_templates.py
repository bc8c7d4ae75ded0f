"""Build the built-in reply templates from code, so that every .docx we ship is reproducible.

Run ``python -m letters._build_templates [--out DIR]``; the default writes into
``letters/templates/``. The office edits the resulting files in Word later; each template is a
function here returning a python-docx document whose text carries Jinja2 placeholders.

The wording follows the 《信访工作条例》(2022): acceptance is told in writing, the handling unit
answers with a 信访事项处理意见书 within 60 days of acceptance, once extendable by 30 days with
the reason told to the petitioner.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from docx.document import Document as DocxDocument

from letters._layout import (
    ADDRESSEE,
    BODY,
    DOC_NUMBER,
    NORMAL,
    SIGNATURE,
    TITLE,
    add_paragraph,
    new_document,
)
from letters._templates import TEMPLATES_DIR

# Zip members get this timestamp so that an unchanged template rebuilds to the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def acknowledgement() -> DocxDocument:
    """受理告知书: the matter is accepted, who handles it, and by when the answer comes."""
    doc = new_document("信访事项受理告知书")
    add_paragraph(doc, "{{ office_name }}", TITLE)
    add_paragraph(doc, "信访事项受理告知书", TITLE)
    add_paragraph(doc, "", NORMAL, keep_with_next=True)
    add_paragraph(doc, "{{ doc_number }}", DOC_NUMBER, keep_with_next=True)
    add_paragraph(doc, "", NORMAL, keep_with_next=True)
    add_paragraph(doc, "{{ petitioner_name }}：", ADDRESSEE)
    for text in (
        "你于{{ received_date }}提出的信访事项（登记编号：{{ reg_no }}）收悉。"
        "你反映的主要问题是：{{ summary|sentence }}",
        "根据《信访工作条例》有关规定，经审查，该信访事项符合受理条件，本机关决定予以受理，"
        "并已交由{{ handling_unit }}依法办理。",
        "{{ handling_unit }}将自受理之日起60日内办结，并向你出具《信访事项处理意见书》；"
        "情况复杂的，经批准可以适当延长办理期限，但延长期限不得超过30日，并将书面告知你延期理由。",
        "办理期间，请你保持通信畅通，如实反映情况、提供材料，配合做好调查核实工作。"
        "如有疑问，可与本机关联系，联系电话：{{ contact_phone }}。",
    ):
        add_paragraph(doc, text, BODY)
    _closing(doc, "特此告知。")
    return doc


def _closing(doc: DocxDocument, formula: str) -> None:
    """Add the closing formula and the signature block, kept together on the last page."""
    add_paragraph(doc, formula, BODY, keep_with_next=True)
    # Two empty lines leave room for the seal, which overlaps the signature and the date.
    add_paragraph(doc, "", NORMAL, keep_with_next=True)
    add_paragraph(doc, "", NORMAL, keep_with_next=True)
    add_paragraph(doc, "{{ office_name }}", SIGNATURE, keep_with_next=True)
    add_paragraph(doc, "{{ issue_date }}", SIGNATURE)


BUILDERS: dict[str, Callable[[], DocxDocument]] = {
    "acknowledgement": acknowledgement,
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
