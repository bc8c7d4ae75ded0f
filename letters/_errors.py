"""Exceptions raised by the letters package.

    LettersError            anything letters refuses to do
    ├── TemplateError       unknown template, missing fields, broken tag, sandbox refusal
    ├── DocumentError       a file that should be a .docx cannot be read as one
    ├── ConversionError     LibreOffice or the fonts are missing, or a conversion failed
    └── SigningError        a certificate cannot be loaded or a PDF cannot be signed

Foreign exceptions (jinja2, lxml, zipfile, python-docx) are translated at the boundary so that
callers (the web layer, the CLI) catch one family and show its message as it is.
"""

from __future__ import annotations


class LettersError(Exception):
    """Base class, so callers can catch every refusal of this package in one place."""


class TemplateError(LettersError):
    """A template cannot be rendered; the message says which template, field or tag and why."""


class DocumentError(LettersError):
    """A file given as a .docx is missing, not a zip package or not a Word document."""


class ConversionError(LettersError):
    """A .docx could not be turned into a PDF; the message says what is missing or what failed."""


class SigningError(LettersError):
    """The office certificate cannot be made or loaded, or a PDF cannot be signed."""
