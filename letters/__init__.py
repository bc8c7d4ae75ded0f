"""letters: reply documents for the petition office, from .docx templates to signed PDFs.

Takes plain data (a mapping), returns files; imports no other Huiyin package and never Flask.

    >>> from letters import render_docx, required_fields
    >>> sorted(required_fields("acknowledgement"))[:2]
    ['contact_phone', 'doc_number']

The path of a reply: ``render_docx`` (template + data -> .docx), ``convert_to_pdf`` (LibreOffice,
PDF/A-2b, through a ``WarmConverter`` kept running or a ``ColdConverter`` per document),
``sign_pdf`` (pyHanko, PAdES B-B, seal and QR code), ``verify_pdf``; ``measure_layout`` checks a
PDF against GB/T 9704-2012.

Templates are untrusted: ``required_fields`` (and every render) refuses one that points outside
itself or is too big, and rendering is bounded in time and size; ``sample_context`` gives the
values an upload check renders a template with.
"""

from letters._docx import docx_text
from letters._errors import (
    ConversionError,
    DocumentError,
    LettersError,
    SigningError,
    TemplateError,
)
from letters._format import cn_date
from letters._measure import Measurement, measure_layout
from letters._pdf import ColdConverter, Converter, WarmConverter, convert_to_pdf
from letters._render import render_docx, sample_context
from letters._sign import (
    Verification,
    certificate_of,
    load_seal,
    make_certificate,
    seal_image,
    sign_pdf,
    verify_pdf,
)
from letters._templates import (
    required_fields,
    template_names,
    template_title,
    template_version,
)

__all__ = [
    "ColdConverter",
    "ConversionError",
    "Converter",
    "DocumentError",
    "LettersError",
    "Measurement",
    "SigningError",
    "TemplateError",
    "Verification",
    "WarmConverter",
    "certificate_of",
    "cn_date",
    "convert_to_pdf",
    "docx_text",
    "load_seal",
    "make_certificate",
    "measure_layout",
    "render_docx",
    "required_fields",
    "sample_context",
    "seal_image",
    "sign_pdf",
    "template_names",
    "template_title",
    "template_version",
    "verify_pdf",
]
