"""ocr: scans (PDF, TIFF, PNG, JPEG) in, pages of text lines with boxes and confidence out.

No database, no web: the rest of Huiyin calls :func:`read_pages` and stores what it gets.
Every refusal is an :class:`OcrError` whose message a clerk can act on.
"""

from ._cer import (
    DoubtTally,
    character_error_rate,
    character_errors,
    edit_distance,
    lines_found,
    normalize_for_cer,
)
from ._engine import DEFAULT_ENGINE, Engine, engine_names, get_engine, register_engine
from ._errors import DamagedFile, EngineUnavailable, OcrError, OutOfLimits, UnsupportedFile
from ._layout import reading_order
from ._loaders import DEFAULT_LIMITS, OCR_DPI, Limits
from ._parallel import default_workers, shutdown_workers
from ._reader import count_pages, ocr_image, read_pages, render_page
from ._sniff import sniff
from ._types import CHECK_BELOW, DOUBT_BELOW, Line, PageText

__all__ = [
    "CHECK_BELOW",
    "DEFAULT_ENGINE",
    "DEFAULT_LIMITS",
    "DOUBT_BELOW",
    "OCR_DPI",
    "DamagedFile",
    "DoubtTally",
    "Engine",
    "EngineUnavailable",
    "Limits",
    "Line",
    "OcrError",
    "OutOfLimits",
    "PageText",
    "UnsupportedFile",
    "character_error_rate",
    "character_errors",
    "count_pages",
    "default_workers",
    "edit_distance",
    "engine_names",
    "get_engine",
    "lines_found",
    "normalize_for_cer",
    "ocr_image",
    "read_pages",
    "reading_order",
    "register_engine",
    "render_page",
    "shutdown_workers",
    "sniff",
]
