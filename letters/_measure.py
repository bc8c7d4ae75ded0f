"""Measure a produced PDF against GB/T 9704-2012, so the layout is checked, not assumed.

Positions are in millimetres from the paper's top-left corner, read with pdfplumber: text as
character boxes (their em boxes), rules as the red lines drawn on the first page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pdfplumber

MM = 72 / 25.4
PITCH = 225 / 22  # mm between body lines
BODY_PT, NUMBER_PT = 16.0, 14.0
TOLERANCE_MM = 1.0
HANGING = "，。、；：！？）》”’"


@dataclass
class Row:
    page: int
    top: float
    bottom: float
    x0: float
    x1: float
    size: float
    red: bool
    text: str


@dataclass
class Measurement:
    """The layout facts of one PDF and the deviations from the standard beyond 1 mm."""

    pages: int
    values: dict[str, float] = field(default_factory=dict)
    deviations: list[str] = field(default_factory=list)

    def expect(self, name: str, measured: float | None, wanted: float,
               tolerance: float = TOLERANCE_MM) -> None:
        """Record a measure and whether it lies within tolerance of what the standard says."""
        if measured is None:
            self.deviations.append(f"{name}: not found (wanted {wanted:.2f})")
            return
        self.values[name] = round(measured, 2)
        if abs(measured - wanted) > tolerance:
            self.deviations.append(f"{name}: {measured:.2f}, wanted {wanted:.2f} ± {tolerance}")


def _red(colour: Any) -> bool:
    return isinstance(colour, tuple | list) and len(colour) == 3 and colour[0] > 0.8 \
        and colour[1] < 0.2 and colour[2] < 0.2


def rows(pdf: Path) -> tuple[list[Row], list[dict[str, float]], tuple[float, float]]:
    """Text rows of every page, the red lines of the first page, and the paper size."""
    found: list[Row] = []
    rules: list[dict[str, float]] = []
    with pdfplumber.open(pdf) as document:
        size = (float(document.pages[0].width) / MM, float(document.pages[0].height) / MM)
        for page in document.pages:
            lines: dict[tuple[int, bool], list[dict[str, Any]]] = {}
            for char in page.chars:
                key = (round(float(char["top"]) * 2), _red(char["non_stroking_color"]))
                lines.setdefault(key, []).append(char)
            for (_, red), chars in sorted(lines.items()):
                chars.sort(key=lambda c: float(c["x0"]))
                text = "".join(str(c["text"]) for c in chars)
                # Punctuation may hang past the type area's edge (标点溢出), as in Word: the
                # edge of the text is where the last character that is not punctuation ends.
                while len(chars) > 1 and str(chars[-1]["text"]) in HANGING:
                    chars = chars[:-1]
                found.append(Row(page.page_number, float(chars[0]["top"]) / MM,
                                 max(float(c["bottom"]) for c in chars) / MM,
                                 min(float(c["x0"]) for c in chars) / MM,
                                 max(float(c["x1"]) for c in chars) / MM,
                                 round(float(chars[0]["size"]), 1), red, text))
            if page.page_number == 1:
                for line in page.lines + page.rects:
                    if _red(line.get("stroking_color")) or _red(line.get("non_stroking_color")):
                        rules.append({"top": float(line["top"]) / MM,
                                      "x0": float(line["x0"]) / MM,
                                      "x1": float(line["x1"]) / MM,
                                      "width": float(line.get("linewidth") or 0)})
    return found, rules, size


def measure_layout(pdf: Path, *, letter_format: bool = True) -> Measurement:
    """Measure paper, agency name, red rules, margins, line pitch, lines per page, page numbers."""
    found, rules, (width, height) = rows(pdf)
    m = Measurement(pages=max((r.page for r in found), default=0))
    m.expect("paper width", width, 210.0)
    m.expect("paper height", height, 297.0)
    names = [r for r in found if r.page == 1 and r.red]
    name = names[0] if names else None
    m.expect("agency name top", name.top if name else None, 30.0 if letter_format else 72.0)
    if name is not None:
        m.expect("agency name centre", (name.x0 + name.x1) / 2, 105.0)
    upper = sorted(r for r in (x["top"] for x in rules) if r < 150)
    if letter_format:
        m.expect("red double line under the name", (upper[0] - name.bottom)
                 if upper and name else None, 4.0)
        lower = [x for x in rules if x["top"] > 200]
        m.expect("red double line above the bottom edge",
                 height - max(x["top"] for x in lower) if lower else None, 20.0)
        m.expect("red line length", max((x["x1"] - x["x0"] for x in rules), default=None), 170.0)
    else:
        number = next((r for r in found if r.page == 1 and not r.red and r.top > name.bottom),
                      None) if name else None
        m.expect("red rule under the document number",
                 upper[0] - number.bottom if upper and number else None, 4.0)
        m.expect("red rule length", max((x["x1"] - x["x0"] for x in rules), default=None), 156.0)
    body = [r for r in found if r.size == BODY_PT and not r.red]
    m.expect("left margin (binding side)", min((r.x0 for r in body), default=None), 28.0)
    m.expect("type area right edge", max((r.x1 for r in body), default=None), 184.0)
    tops = sorted({round(r.top, 2) for r in body if r.page == 1})
    steps = [b - a for a, b in zip(tops, tops[1:], strict=False) if b - a < PITCH * 1.5]
    if steps:
        # The smallest step: table rows (a 送达回证) add their borders to the pitch.
        m.expect("line pitch", min(steps), PITCH, 0.05)
    numbers = [r for r in found if r.size == NUMBER_PT and r.text.startswith("\u2014")]
    for r in numbers:
        wanted_x = (184.0 - NUMBER_PT / 72 * 25.4) if r.page % 2 else (28.0 + NUMBER_PT / 72 * 25.4)
        m.expect(f"page {r.page} number edge", r.x1 if r.page % 2 else r.x0, wanted_x)
        m.expect(f"page {r.page} number below the type area", r.top - 262.0, 7.0)
    for page in range(2, m.pages + 1):
        lines = [r for r in body if r.page == page]
        if not lines:
            continue
        first = min(r.top for r in lines) - (PITCH - BODY_PT / 72 * 25.4) / 2
        m.expect(f"page {page} top margin", first, 37.0)
        if page < m.pages:
            m.expect(f"page {page} lines", float(len({round(r.top) for r in lines})), 22.0, 0)
    # 28 characters a line: the advance of characters set solid (rows of ideographs only).
    advances = sorted((r.x1 - r.x0) / len(r.text) for r in body if len(r.text) >= 5
                      and all("\u4e00" <= c <= "\u9fff" for c in r.text))
    if advances:
        m.expect("character advance", advances[0], 156.0 / 28, 0.05)  # cells may spread wider
    return m
