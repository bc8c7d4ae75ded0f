"""Errors raised by :mod:`ocr`, each with a one-line reason a clerk can act on.

The tree::

    OcrError                    base: anything this package refuses or cannot do
    ├── UnsupportedFile         not a kind of scan we read (text, .docx, HEIC, SVG, HTML ...)
    ├── DamagedFile             a scan we would read, but empty, cut off, encrypted or too big
    │   └── OutOfLimits         no pages, too many pages, a page too small to read or so big
    │                           it is a decompression bomb: nothing worth keeping as an original
    └── EngineUnavailable       the OCR engine asked for is unknown or cannot be loaded

Foreign exceptions (Pillow, pypdfium2, pdfplumber, onnxruntime) are translated at the
boundary into one of these, with the original kept as ``__cause__``.
"""

from __future__ import annotations


class OcrError(Exception):
    """Base of every error this package raises on purpose; ``str(e)`` is one line."""


class UnsupportedFile(OcrError):
    """The file is not a PDF, TIFF, PNG or JPEG scan, whatever its extension says."""


class DamagedFile(OcrError):
    """The file is a scan type we read but cannot be read safely or completely."""


class OutOfLimits(DamagedFile):
    """The file's page count or page size is outside what one letter can be (see Limits)."""


class EngineUnavailable(OcrError):
    """The requested OCR engine is not registered or its models cannot be loaded."""
