"""Reading order: detected text boxes -> written lines, top to bottom, left to right.

Pure functions, no I/O and no engine types. A handwritten line's baseline drifts, so
sorting boxes by their top edge interleaves neighbouring lines; instead each box is
chained to the box just left of it on the same line (their facing edges overlap
vertically), lines are ordered top to bottom after removing the page's skew, and the
boxes of one line are joined into one :class:`Line`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from ._types import Box, Line, Point

# Facing edges of two neighbouring boxes must overlap by this share of the shorter edge.
MIN_OVERLAP = 0.5
# A box may start this share of its height left of its neighbour's end (detector padding).
MAX_BACKSTEP = 0.5
# Page skew is never estimated steeper than this (about 3.4 degrees).
MAX_SLOPE = 0.06
# An image this many times wider than high holds one written line (a crop), never a page.
LINE_ASPECT = 4


@dataclass(frozen=True)
class _Edges:
    """The left and right edges of a box: x and vertical extent of each."""

    left: float
    left_top: float
    left_bottom: float
    right: float
    right_top: float
    right_bottom: float
    cx: float
    cy: float
    height: float


def _edges(box: Box) -> _Edges:
    """Left/right edges from the two leftmost and two rightmost points of a box."""
    pts = sorted(box, key=lambda p: p[0])
    lefts, rights = pts[:2], pts[-2:]
    left_ys = [p[1] for p in lefts]
    right_ys = [p[1] for p in rights]
    ys = [p[1] for p in box]
    height = (max(left_ys) - min(left_ys) + max(right_ys) - min(right_ys)) / 2
    return _Edges(
        left=min(p[0] for p in lefts),
        left_top=min(left_ys),
        left_bottom=max(left_ys),
        right=max(p[0] for p in rights),
        right_top=min(right_ys),
        right_bottom=max(right_ys),
        cx=sum(p[0] for p in box) / len(box),
        cy=sum(ys) / len(ys),
        height=max(height, 1.0),
    )


def _overlap(a_top: float, a_bottom: float, b_top: float, b_bottom: float) -> float:
    """Vertical overlap of two intervals as a share of the shorter one."""
    inter = min(a_bottom, b_bottom) - max(a_top, b_top)
    shorter = max(min(a_bottom - a_top, b_bottom - b_top), 1.0)
    return max(inter, 0.0) / shorter


def page_slope(boxes: Sequence[Box]) -> float:
    """The page's skew as dy/dx, the median slope of the boxes' long edges."""
    slopes = []
    for box in boxes:
        if len(box) != 4:
            continue
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = box
        width = ((x1 - x0) + (x2 - x3)) / 2
        height = ((y3 - y0) + (y2 - y1)) / 2
        if width > 2 * abs(height) and width > 0:
            slopes.append(((y1 - y0) + (y2 - y3)) / 2 / width)
    if not slopes:
        return 0.0
    return max(-MAX_SLOPE, min(MAX_SLOPE, statistics.median(slopes)))


def group_lines(fragments: Sequence[Line]) -> list[list[Line]]:
    """Group boxes into written lines; lines top to bottom, each line's boxes left to right."""
    edges = [_edges(f.box) for f in fragments]
    order = sorted(range(len(fragments)), key=lambda i: (edges[i].left, edges[i].cy))
    lines: list[list[int]] = []
    for i in order:
        e = edges[i]
        best: tuple[float, float] | None = None
        best_line = -1
        for n, members in enumerate(lines):
            last = edges[members[-1]]
            if e.left < last.right - MAX_BACKSTEP * min(e.height, last.height):
                continue
            share = _overlap(last.right_top, last.right_bottom, e.left_top, e.left_bottom)
            if share < MIN_OVERLAP:
                continue
            rank = (-share, e.left - last.right)
            if best is None or rank < best:
                best, best_line = rank, n
        if best_line < 0:
            lines.append([i])
        else:
            lines[best_line].append(i)

    slope = page_slope([f.box for f in fragments])

    def level(members: list[int]) -> float:
        """Where a line sits on the page once the skew is taken out."""
        return statistics.fmean(edges[i].cy - slope * edges[i].cx for i in members)

    lines.sort(key=lambda members: (level(members), edges[members[0]].left))
    return [[fragments[i] for i in members] for members in lines]


def _joiner(left: str, right: str) -> str:
    """A space between two Latin/digit runs, nothing next to Chinese."""
    if left and right and left[-1].isascii() and right[0].isascii():
        if left[-1].isalnum() and right[0].isalnum():
            return " "
    return ""


def merge_line(parts: Sequence[Line]) -> Line:
    """One Line from the boxes of one written line, already ordered left to right."""
    if len(parts) == 1:
        return parts[0]
    text = parts[0].text
    known = all(p.confidences for p in parts)
    confidences = list(parts[0].confidences) if known else []
    alternatives = list(parts[0].alternatives) if known else []
    for prev, part in zip(parts, parts[1:], strict=False):
        joiner = _joiner(prev.text, part.text)
        text += joiner + part.text
        if known:
            confidences += [1.0] * len(joiner) + list(part.confidences)
            alternatives += [()] * len(joiner) + list(part.alternatives)
    first = sorted(parts[0].box, key=lambda p: p[0])[:2]
    last = sorted(parts[-1].box, key=lambda p: p[0])[-2:]
    top_left, bottom_left = sorted(first, key=lambda p: p[1])
    top_right, bottom_right = sorted(last, key=lambda p: p[1])
    box: tuple[Point, ...] = (top_left, top_right, bottom_right, bottom_left)
    weights = [max(len(p.text), 1) for p in parts]
    score = sum(p.score * w for p, w in zip(parts, weights, strict=True)) / sum(weights)
    return Line(
        text=text,
        box=box,
        score=score,
        confidences=tuple(confidences),
        alternatives=tuple(alternatives),
    )


def reading_order(
    fragments: Sequence[Line], *, size: tuple[int, int] | None = None
) -> tuple[Line, ...]:
    """The page's lines in reading order, each built from its boxes.

    An image of ``size`` (width, height) at least LINE_ASPECT times wider than high is one
    written line: its boxes are joined left to right, however far the baseline drifts
    (native PaddleOCR on the real lines: 23.3% -> see docs/ocr.md).
    """
    if size and fragments and size[0] >= LINE_ASPECT * size[1]:
        return (merge_line(sorted(fragments, key=lambda f: _edges(f.box).cx)),)
    return tuple(merge_line(group) for group in group_lines(fragments))


def column_order(fragments: Sequence[Line], tall: Sequence[bool]) -> tuple[Line, ...]:
    """A page written in columns: the columns right to left, each one's boxes top to bottom
    and joined; boxes that are not columns (a date or a name written across) come after, in
    reading order."""
    columns: list[list[Line]] = []
    for f in sorted((f for f, t in zip(fragments, tall, strict=True) if t),
                    key=lambda f: -(f.bounds[0] + f.bounds[2])):
        left, _, right, _ = f.bounds
        for column in columns:
            c_left = min(m.bounds[0] for m in column)
            c_right = max(m.bounds[2] for m in column)
            inter = min(right, c_right) - max(left, c_left)
            if inter >= 0.5 * min(right - left, c_right - c_left):
                column.append(f)
                break
        else:
            columns.append([f])
    joined = []
    for column in columns:
        column.sort(key=lambda f: f.bounds[1])
        joined.append(_join_down(column))
    rest = [f for f, t in zip(fragments, tall, strict=True) if not t]
    return tuple(joined) + reading_order(rest)


def _join_down(parts: Sequence[Line]) -> Line:
    """One Line from the boxes of one column, ordered top to bottom."""
    if len(parts) == 1:
        return parts[0]
    lefts = [p.bounds[0] for p in parts]
    rights = [p.bounds[2] for p in parts]
    top, bottom = parts[0].bounds[1], parts[-1].bounds[3]
    box: tuple[Point, ...] = (
        (min(lefts), top), (max(rights), top), (max(rights), bottom), (min(lefts), bottom)
    )
    weights = [max(len(p.text), 1) for p in parts]
    score = sum(p.score * w for p, w in zip(parts, weights, strict=True)) / sum(weights)
    known = all(p.confidences for p in parts)
    return Line(
        text="".join(p.text for p in parts),
        box=box,
        score=score,
        confidences=tuple(c for p in parts for c in p.confidences) if known else (),
        alternatives=tuple(a for p in parts for a in p.alternatives) if known else (),
    )
