"""Measure a produced PDF against GB/T 9704-2012, so the layout is checked, not assumed.

Positions are in millimetres from the paper's top-left corner, read with pdfplumber: text as
character boxes (their em boxes), rules as the red lines drawn on the first page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


def measure_layout(pdf: Path, *, letter_format: bool = True,
                   unbroken: Iterable[str] = ()) -> Measurement:
    """Measure paper, agency name, red rules, margins, line pitch, lines per page, page numbers.

    Also what a reader notices first: a page without its number, a number or phone broken
    across two lines (``unbroken`` names strings that must each stand on one line), and the
    signature and date on a page without any line of the text (GB/T 9704 §7.3.5).
    """
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
    _page_numbers(m, numbers, letter_format)
    _numbers_whole(m, body, unbroken)
    _signature_with_text(m, body)
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
        count = float(len({round(r.top) for r in lines}))
        if page < m.pages - 1:
            m.expect(f"page {page} lines", count, 22.0, 0)
        elif page == m.pages - 1:  # may be short: its last lines went on with the signature
            m.values[f"page {page} lines"] = count
    # 28 characters a line: the advance of characters set solid (rows of ideographs only).
    advances = sorted((r.x1 - r.x0) / len(r.text) for r in body if len(r.text) >= 5
                      and all("\u4e00" <= c <= "\u9fff" for c in r.text))
    if advances:
        m.expect("character advance", advances[0], 156.0 / 28, 0.05)  # cells may spread wider
    return m


# §7.3.5: 特此告知/答复/函告 are the closing formula, not text that may stand by the signature.
_FORMULA = re.compile(r"特此\w{2}。?")
_SPLIT_NUMBER = re.compile(r"[0-9A-Za-z][-\u2010\u2011\u2013/]?$")


def _compact(text: str) -> str:
    return "".join(text.split())


def _page_numbers(m: Measurement, numbers: list[Row], letter_format: bool) -> None:
    """Every page shows "— n —" with its own n; a letter's first page shows none (§10.1)."""
    shown = {r.page: _compact(r.text) for r in numbers}
    for page in range(1, m.pages + 1):
        if page == 1 and letter_format:
            if page in shown:
                m.deviations.append("page 1 of a letter shows a page number (§10.1: "
                                    "首页不显示页码)")
            continue
        wanted = f"\u2014{page}\u2014"
        if shown.get(page) != wanted:
            m.deviations.append(f"page {page} number: {shown.get(page)!r}, wanted {wanted!r}")


def _numbers_whole(m: Measurement, body: list[Row], unbroken: Iterable[str]) -> None:
    """No line ends inside a number (2026-/000008, 0319-81/23456); each unbroken on one line."""
    ordered = sorted(body, key=lambda r: (r.page, r.top, r.x0))
    texts = [_compact(r.text) for r in ordered]
    for before, after in zip(texts, texts[1:], strict=False):
        if _SPLIT_NUMBER.search(before) and after[:1].isascii() and after[:1].isalnum() \
                and (not before[-1].isalnum() or after[:1].isdigit() == before[-1].isdigit()):
            m.deviations.append(f"number broken across lines: “…{before[-8:]}” / “{after[:8]}…”")
    for text in unbroken:
        if not any(_compact(text) in line for line in texts):
            m.deviations.append(f"“{text}” is not on one line")


def _signature_with_text(m: Measurement, body: list[Row]) -> None:
    """The page of the signature and date holds at least one line of the text above them."""
    if len(body) < 2:
        return
    ordered = sorted(body, key=lambda r: (r.page, r.top, r.x0))
    page = ordered[-1].page
    text = [r for r in ordered[:-2] if r.page == page and not _FORMULA.fullmatch(_compact(r.text))]
    m.values["text lines with the signature"] = float(len(text))
    if not text:
        m.deviations.append(f"page {page}: the signature and date stand without any line of the "
                            "text (GB/T 9704 §7.3.5)")
