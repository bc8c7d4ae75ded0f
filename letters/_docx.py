"""Opening .docx files and reaching the XML parts that carry text, with errors translated."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.exceptions import OpcError
from docx.opc.part import XmlPart
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from lxml import etree

from letters._errors import DocumentError

_TEXT_PARTS = {CT.WML_HEADER: "header", CT.WML_FOOTER: "footer", CT.WML_FOOTNOTES: "footnotes"}


@dataclass
class TextPart:
    """One XML part of a document that may hold template text, and how to store edits back."""

    label: str
    root: etree._Element
    commit: Callable[[], None]


def open_docx(path: Path) -> DocxDocument:
    """Open a Word document, or say plainly why this file is not one."""
    if not path.is_file():
        raise DocumentError(f"{path}: no such file")
    try:
        return docx.Document(str(path))
    except (OpcError, zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as e:
        raise DocumentError(f"{path.name}: not a Word .docx document ({e})") from e


def text_parts(doc: DocxDocument) -> Iterator[TextPart]:
    """Yield the body, headers, footers and footnotes: the parts docxtpl renders."""
    yield TextPart("body", doc.element.body, lambda: None)
    for part in doc.part.package.iter_parts():
        label = _TEXT_PARTS.get(part.content_type)
        if label is None:
            continue
        name = f"{label} {part.partname}"
        if isinstance(part, XmlPart):
            yield TextPart(name, part.element, lambda: None)
        else:
            root = etree.fromstring(part.blob)

            def commit(part: object = part, root: etree._Element = root) -> None:
                part._blob = etree.tostring(  # type: ignore[attr-defined]
                    root, xml_declaration=True, encoding="UTF-8", standalone=True)

            yield TextPart(name, root, commit)


def paragraph_texts(doc: DocxDocument) -> Iterator[str]:
    """Yield the text of every body paragraph in reading order, table cells included."""
    body = doc.element.body
    for p in body.iter(qn("w:p")):
        yield Paragraph(p, doc._body).text


def docx_text(path: Path) -> str:
    """Return a document's paragraph text, one paragraph per line, for tests and reply search.

    The word joiners that keep numbers on one line (U+2060) are left out: they are not text.
    """
    return "\n".join(paragraph_texts(open_docx(path))).replace("\u2060", "")
