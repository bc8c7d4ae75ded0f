"""A PDF page's own text layer (pdfplumber), when it is real: lines with boxes in pixels.

"Real" means enough visible characters that map to Unicode and look like text, on a
page that is not mostly one big image (a scan carrying a scanner's hidden OCR layer is
read by our OCR instead). Lines are grouped in the page's natural frame, so a page with
/Rotate still reads top to bottom, left to right; boxes are given on the page as
rendered (render_page), at the OCR resolution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ._types import Line, PageText

MIN_TEXT_CHARS = 5  # fewer real characters than this is no text layer
MAX_IMAGE_COVER = 0.5  # a page mostly covered by an image is a scan, whatever text it hides
MIN_PLAUSIBLE = 0.9  # share of characters that must look like text (not font garbage)
SPACE_GAP = 0.3  # a gap wider than this share of the font size is a space

Point = tuple[float, float]


def plausible(ch: str) -> bool:
    """A character that real Chinese or Western text is made of."""
    code = ord(ch)
    return (
        0x20 <= code < 0x7F
        or 0xA0 <= code < 0x250  # Latin-1 and Latin Extended
        or 0x2000 <= code < 0x2070  # general punctuation
        or 0x2100 <= code < 0x2200  # letterlike, number forms (℃, Ⅳ)
        or 0x2460 <= code < 0x2500  # circled numbers ①
        or 0x3000 <= code < 0x3040  # CJK punctuation
        or 0x3400 <= code < 0x4DC0  # CJK extension A
        or 0x4E00 <= code < 0xA000  # CJK unified ideographs
        or 0xF900 <= code < 0xFB00  # compatibility ideographs
        or 0xFF00 <= code < 0xFFF0  # full-width forms
        or 0x20000 <= code < 0x2FA20  # CJK extensions B-F
    )


def _image_cover(page: Any) -> float:
    """Share of the page area covered by embedded images (capped at 1)."""
    area = float(page.width * page.height) or 1.0
    covered = 0.0
    x0, top, x1, bottom = page.bbox
    for im in page.images:
        w = max(0.0, min(im["x1"], x1) - max(im["x0"], x0))
        h = max(0.0, min(im["bottom"], bottom) - max(im["top"], top))
        covered += w * h
    return min(covered / area, 1.0)


def _frames(rotation: int, width: float, height: float) -> tuple[Callable[..., Point], ...]:
    """(display -> natural, natural -> display) point maps for a page's /Rotate.

    ``width`` and ``height`` are the displayed page size.
    """
    if rotation == 90:  # shown turned clockwise: natural (x, y) is at (width - y, x)
        return (lambda x, y: (y, width - x)), (lambda x, y: (width - y, x))
    if rotation == 180:
        return (lambda x, y: (width - x, height - y)), (lambda x, y: (width - x, height - y))
    if rotation == 270:
        return (lambda x, y: (height - y, x)), (lambda x, y: (y, height - x))
    return (lambda x, y: (x, y)), (lambda x, y: (x, y))


def _lines(chars: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Characters (natural-frame boxes under "nx0 ny0 nx1 ny1") grouped into lines."""
    rows: list[list[dict[str, Any]]] = []
    for c in sorted(chars, key=lambda c: (c["ny0"], c["nx0"])):
        middle = (c["ny0"] + c["ny1"]) / 2
        for row in rows:
            top = min(r["ny0"] for r in row)
            bottom = max(r["ny1"] for r in row)
            if top <= middle <= bottom:
                row.append(c)
                break
        else:
            rows.append([c])
    for row in rows:
        row.sort(key=lambda c: c["nx0"])
    rows.sort(key=lambda row: min(c["ny0"] for c in row))
    return rows


def _text(row: list[dict[str, Any]]) -> str:
    """A line's text, with a space wherever the gap (or an explicit space) says so."""
    out = ""
    previous: dict[str, Any] | None = None
    pending_space = False
    for c in row:
        if not c["text"].strip():
            pending_space = bool(out)
            continue
        if previous is not None:
            gap = c["nx0"] - previous["nx1"]
            if pending_space or gap > SPACE_GAP * max(c["size"], previous["size"], 1.0):
                out += " "
        out += c["text"]
        previous, pending_space = c, False
    return out


def read_text_layer(page: Any, number: int, dpi: int) -> PageText | None:
    """The page from its text layer, boxes in pixels at ``dpi``; None if it must be OCR'd."""
    page = page.dedupe_chars()
    visible = [c for c in page.chars if c["text"].strip()]
    if len(visible) < MIN_TEXT_CHARS:
        return None
    good = sum(
        not c["text"].startswith("(cid:") and all(plausible(ch) for ch in c["text"])
        for c in visible
    )
    if good < MIN_PLAUSIBLE * len(visible):
        return None  # glyphs without (or with garbage) Unicode: "(cid:12)", control codes
    if _image_cover(page) > MAX_IMAGE_COVER:
        return None  # a scan carrying a (hidden) OCR layer: read the image ourselves

    ox, oy, right, bottom = page.cropbox
    width, height = right - ox, bottom - oy
    to_natural, to_display = _frames(int(page.rotation or 0) % 360, width, height)
    chars = []
    for c in page.chars:
        corners = [
            to_natural(c["x0"] - ox, c["top"] - oy),
            to_natural(c["x1"] - ox, c["bottom"] - oy),
        ]
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        chars.append({**c, "nx0": min(xs), "ny0": min(ys), "nx1": max(xs), "ny1": max(ys)})

    scale = dpi / 72
    lines = []
    for row in _lines(chars):
        text = _text(row)
        if not text:
            continue
        x0, x1 = min(c["nx0"] for c in row), max(c["nx1"] for c in row)
        y0, y1 = min(c["ny0"] for c in row), max(c["ny1"] for c in row)
        natural = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))  # clockwise from the text's top-left
        box = tuple((x * scale, y * scale) for x, y in (to_display(*p) for p in natural))
        lines.append(Line(text=text, box=box, score=1.0))
    turned = (360 - int(page.rotation or 0)) % 360
    return PageText(
        number=number,
        width=max(1, math.ceil(width * scale - 1e-3)),
        height=max(1, math.ceil(height * scale - 1e-3)),
        lines=tuple(lines),
        source="text-layer",
        rotation=turned,
    )
