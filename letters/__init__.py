"""letters: reply documents for the petition office, from .docx templates to files.

Takes plain data (a mapping), returns files; imports no other Huiyin package and never Flask.

    >>> from letters import render_docx, required_fields
    >>> sorted(required_fields("acknowledgement"))[:2]
    ['contact_phone', 'doc_number']
"""

from letters._docx import docx_text
from letters._errors import DocumentError, LettersError, TemplateError
from letters._render import render_docx
from letters._templates import required_fields, template_names

__all__ = [
    "DocumentError",
    "LettersError",
    "TemplateError",
    "docx_text",
    "render_docx",
    "required_fields",
    "template_names",
]
