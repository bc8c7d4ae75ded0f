"""Plain, frozen results of OCR: a page and its lines, free of any engine's types."""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[float, float]
# A line read with less confidence than this is marked for the clerk to check. On the 45
# real handwritten lines, 0.9 flags 6 lines holding 10 of the 49 misread characters (0.8:
# 1 line, 3): line confidence is a weak signal, so the clerk still reads every line.
CHECK_BELOW = 0.9
Box = tuple[Point, ...]


@dataclass(frozen=True)
class Line:
    """One written line: its text, a 4-point box in page pixels and a 0..1 confidence."""

    text: str
    box: Box  # 4 points (x, y), clockwise from the top-left corner
    score: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned ``(left, top, right, bottom)`` of the box, for drawing and sorting."""
        xs = [p[0] for p in self.box]
        ys = [p[1] for p in self.box]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def needs_check(self) -> bool:
        """Read with low confidence: the interface should mark it for the clerk."""
        return self.score < CHECK_BELOW

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of DESIGN.md: text, box as [[x, y]] * 4, score."""
        return {"text": self.text, "box": [[round(x, 1), round(y, 1)] for x, y in self.box],
                "score": round(self.score, 4)}


@dataclass(frozen=True)
class PageText:
    """The text of one page in reading order, with the page size boxes refer to."""

    number: int  # 1-based
    width: int
    height: int
    lines: tuple[Line, ...]
    source: str  # "ocr" or "text-layer"
    # Degrees the page had to be turned (clockwise) to be read: 0, 90, 180 or 270 (a page
    # scanned sideways or upside down).
    # Boxes always refer to the page as render_page() shows it.
    rotation: int = 0

    @property
    def text(self) -> str:
        """The lines joined with newlines, as a clerk reads the page."""
        return "\n".join(line.text for line in self.lines)
