"""Reply documents in the browser: the form of a template's fields, previews, page images.

A preview is rendered and converted exactly as a generated reply is, through one LibreOffice
kept warm for the whole web process, but it is not recorded, numbered or signed: its files live
in a temporary folder inside the instance and are gone when the page images are made.
"""

from __future__ import annotations

import atexit
import datetime as dt
import io
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium

import letters
from records import Letter
from web.services.instance import Instance
from web.services.page_images import cover, pdf_number_boxes
from web.services.replies import (
    DECISIONS,
    DELIVERY_METHODS,
    ISSUER_FIELDS,
    RECORD_FIELDS,
    _check_data,
    _dates,
    clock_dates,
    document_number,
    refusal_terms,
    reply_context,
)

# What the office calls each field, in the order the form shows them.
FIELD_LABELS = {
    "petitioner_name": "信访人", "reg_no": "登记编号", "received_date": "收信日期",
    "summary": "反映的主要问题", "request": "信访请求", "handling_unit": "承办单位",
    "accepted_date": "受理日期", "due_date": "办理期限", "deadline_date": "办结期限",
    "new_due_date": "延长后的办结日期",
    "extension_days": "延长天数",
    "extension_reason": "延期理由", "reason": "不予受理的理由", "channel": "告知的其他途径",
    "facts": "查明的事实", "decision": "处理结论", "legal_basis": "依据（法规条款）",
    "opinion": "处理意见", "conclusion": "复查/复核结论", "original_office": "原处理机关",
    "original_doc_number": "原文书字号", "review_request_date": "提出请求的日期",
    "review_authority": "复查机关", "next_authority": "复核机关",
    "served_document": "送达文书名称", "served_doc_number": "送达文书字号",
    "service_address": "送达地点", "delivery_method": "送达方式",
    "office_name": "发文机关", "contact_phone": "联系电话", "issue_date": "成文日期",
    "doc_number": "发文字号",
}
LONG_FIELDS = frozenset({"summary", "request", "facts", "opinion", "reason", "channel",
                         "extension_reason", "conclusion", "legal_basis"})
CHOICES: dict[str, tuple[str, ...]] = {"decision": DECISIONS, "delivery_method": DELIVERY_METHODS}
# Given when the reply is generated, never typed (the issuer's name, number and date; the
# petitioner's query code and page).
ASSIGNED = ISSUER_FIELDS | RECORD_FIELDS
# The order documents are usually written in: notices first, opinions later, receipts last.
TEMPLATE_ORDER = ("acknowledgement", "non_acceptance", "transfer_notice", "assignment",
                  "extension_notice", "handling_opinion", "review_opinion", "re_review_opinion",
                  "service_receipt")
MAX_VALUE = 5000  # characters in one field: a long opinion fits, a pasted book does not
SCALE = 1.5  # page images at 108 dpi: A4 is 893 pixels wide, sharp on a screen


@dataclass(frozen=True)
class Field:
    """One field of a template's form."""

    name: str
    label: str
    kind: str  # text | long | date | choice
    value: str
    choices: tuple[str, ...] = ()


def is_date(name: str) -> bool:
    return name == "date" or name.endswith("_date")


def template_choices() -> list[tuple[str, str]]:
    """(name, 受理告知书) of every template a reply can be made from, in the office's order."""
    names = letters.template_names()
    known = [n for n in TEMPLATE_ORDER if n in names]
    known += [n for n in names if n not in TEMPLATE_ORDER]
    return [(name, letters.template_title(name)) for name in known]



def editable_fields(template: str) -> list[str]:
    """The fields of a template a user fills in, in the form's order."""
    needed = letters.required_fields(template) - ASSIGNED
    order = list(FIELD_LABELS)
    return sorted(needed, key=lambda n: (order.index(n) if n in order else len(order), n))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def form_fields(instance: Instance, letter: Letter, template: str,
                values: Mapping[str, Any] | None = None) -> list[Field]:
    """The form of a template, filled from the records (or from values a user typed)."""
    known = {**reply_context(instance, letter, ""), **refusal_terms(instance, letter, template),
             **clock_dates(instance, letter, template)}
    fields = []
    for name in editable_fields(template):
        value = values.get(name) if values is not None and name in values else known.get(name)
        kind = ("choice" if name in CHOICES else "date" if is_date(name)
                else "long" if name in LONG_FIELDS else "text")
        fields.append(Field(name, FIELD_LABELS.get(name, name), kind, _text(value),
                            CHOICES.get(name, ())))
    return fields


def read_form(template: str, form: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The values a user sent for a template, and the labels of those missing or too long."""
    values, problems = {}, []
    for name in editable_fields(template):
        value = (form.get(name) or "").strip().replace("\r\n", "\n")
        label = FIELD_LABELS.get(name, name)
        if not value:
            problems.append(f"请填写“{label}”")
        elif len(value) > MAX_VALUE:
            problems.append(f"“{label}”过长（最多 {MAX_VALUE} 字）")
        elif name in CHOICES and value not in CHOICES[name]:
            problems.append(f"“{label}”只能是{'、'.join(CHOICES[name])}")
        elif is_date(name):
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                problems.append(f"“{label}”不是日期（年-月-日）")
        values[name] = value
    return values, problems


# A preview waits for LibreOffice for a second or more anyway; the pages other clerks are
# waiting for at the same moment should not.
PREVIEW_NICENESS = 10


class SharedConverter:
    """One warm LibreOffice for the web process; requests take turns (it converts one at a time).

    When the warm server cannot start (no python3-uno), each document starts LibreOffice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._converter: letters.Converter | None = None

    def _ready(self) -> letters.Converter:
        if self._converter is None:
            warm = letters.WarmConverter(timeout=60, niceness=PREVIEW_NICENESS)
            try:
                warm.start()
                self._converter = warm
            except letters.ConversionError:
                warm.close()
                self._converter = letters.ColdConverter()
        return self._converter

    def convert(self, docx: Path, pdf: Path) -> Path:
        """Convert one document with the shared LibreOffice (starting it the first time)."""
        with self._lock:
            return self._ready().convert(docx, pdf)

    def warm_up(self) -> None:
        """Start LibreOffice in the background, so that the first preview does not wait."""
        if self._converter is None and not self._lock.locked():
            threading.Thread(target=self._start_quietly, daemon=True,
                             name="huiyin-warm-up").start()

    def _start_quietly(self) -> None:
        with self._lock:
            try:
                self._ready()
            except letters.ConversionError:
                pass  # the next conversion says what is wrong

    def close(self) -> None:
        with self._lock:
            if self._converter is not None:
                self._converter.close()
                self._converter = None


_shared = SharedConverter()
atexit.register(_shared.close)


def shared_converter() -> SharedConverter:
    """The process's converter (stopped when the process exits)."""
    return _shared


def preview_pages(instance: Instance, letter: Letter, template: str, values: Mapping[str, str],
                  converter: letters.Converter) -> list[bytes]:
    """Render a reply as it would be generated, but unnumbered and unrecorded: PNG pages."""
    year = instance.today().year
    number = document_number(instance, template, year, "×")
    context = {**reply_context(instance, letter, number), **_dates(dict(values)),
               **clock_dates(instance, letter, template)}
    context["doc_number"] = number
    _check_data(template, context)
    instance.replies_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".preview-", dir=instance.replies_dir) as folder:
        docx = letters.render_docx(template, context, Path(folder) / "preview.docx",
                                   extra_dir=instance.templates_dir)
        pdf = converter.convert(docx, Path(folder) / "preview.pdf")
        return page_images(pdf)


def page_count(pdf: Path) -> int:
    """How many pages a PDF has."""
    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def page_images(pdf: Path, numbers: list[int] | None = None, *,
                masked: bool = False) -> list[bytes]:
    """PNG images of a PDF's pages (all, or the 1-based numbers given that exist).

    Form fields are drawn, so that a signed reply shows its seal and QR code. ``masked`` covers
    the ID and mobile numbers as a letter's scan is covered (page_images.cover).
    """
    document = pdfium.PdfDocument(pdf)
    try:
        document.init_forms()
        wanted = numbers or list(range(1, len(document) + 1))
        images = []
        for number in wanted:
            if not 1 <= number <= len(document):
                continue
            page = document[number - 1]
            bitmap = page.render(scale=SCALE)
            image = bitmap.to_pil()
            if masked:
                image = image.convert("RGB")
                cover(image, pdf_number_boxes(page), SCALE)
            buffer = io.BytesIO()
            # level 1: a sixth larger than the default, in half the time (the web process's CPU)
            image.save(buffer, "PNG", optimize=False, compress_level=1)
            bitmap.close()
            page.close()
            images.append(buffer.getvalue())
        return images
    finally:
        document.close()
