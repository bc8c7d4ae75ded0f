"""Plain, frozen results of OCR: a page and its lines, free of any engine's types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Point = tuple[float, float]
# A line read with less confidence than this is marked for the clerk to check. On the 45
# real handwritten lines, 0.9 flags 6 lines holding 10 of the 49 misread characters (0.8:
# 1 line, 3): line confidence is a weak signal, so the clerk still reads every line.
CHECK_BELOW = 0.9
Box = tuple[Point, ...]
# The recogniser's other readings of one character: (character, probability), best first.
Alternatives = tuple[tuple[str, float], ...]
# A character read with less probability than this is marked as in doubt (chosen on one half
# of the real lines, reported on the other: docs/ocr.md, "Characters in doubt").
DOUBT_BELOW = 0.85
# How many other readings are kept for a character in doubt.
ALTERNATIVES = 3


@dataclass(frozen=True)
class Line:
    """One written line: its text, a 4-point box in page pixels and a 0..1 confidence."""

    text: str
    box: Box  # 4 points (x, y), clockwise from the top-left corner
    score: float
    # One probability per character of ``text`` (empty: the engine gives none, or an old
    # stored line), and for each character its best other readings (empty when not in doubt).
    confidences: tuple[float, ...] = ()
    alternatives: tuple[Alternatives, ...] = ()

    def __post_init__(self) -> None:
        """Per-character data must line up with the text, or marks land on wrong characters."""
        if self.confidences and len(self.confidences) != len(self.text):
            raise ValueError(f"{len(self.confidences)} confidences for {len(self.text)} characters")
        if len(self.alternatives) != len(self.confidences):
            raise ValueError("alternatives and confidences must have one entry per character")

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

    @property
    def doubtful(self) -> tuple[int, ...]:
        """Positions in ``text`` of the characters read with less than DOUBT_BELOW."""
        return tuple(i for i, p in enumerate(self.confidences) if p < DOUBT_BELOW)

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of DESIGN.md: text, box as [[x, y]] * 4, score, and when known
        ``conf`` (one probability per character) and ``alt`` (per character, its other
        readings as [[character, probability], ...], empty unless it is in doubt)."""
        shape: dict[str, object] = {
            "text": self.text,
            "box": [[round(x, 1), round(y, 1)] for x, y in self.box],
            "score": round(self.score, 4),
        }
        if self.confidences:
            shape["conf"] = [round(p, 3) for p in self.confidences]
            shape["alt"] = [[[c, round(p, 3)] for c, p in alts] for alts in self.alternatives]
        return shape

    @classmethod
    def from_dict(cls, shape: Mapping[str, object]) -> Line:
        """A Line back from :meth:`as_dict`'s shape; lines stored before ``conf`` load too."""
        box = shape["box"]
        assert isinstance(box, Sequence)
        text = str(shape["text"])
        conf = shape.get("conf") or ()
        alt = shape.get("alt") or ()
        assert isinstance(conf, Sequence) and isinstance(alt, Sequence)
        confidences = tuple(float(p) for p in conf)
        if len(confidences) != len(text):  # edited text: the marks no longer line up
            confidences, alt = (), ()
        return cls(
            text=text,
            box=tuple((float(x), float(y)) for x, y in box),
            score=float(shape["score"]),  # type: ignore[arg-type]
            confidences=confidences,
            alternatives=tuple(tuple((str(c), float(p)) for c, p in a) for a in alt),
        )


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
