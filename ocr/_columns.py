"""Vertical writing: columns read right to left, each column's characters read upright.

Older petitioners write in columns, top to bottom, the columns right to left. The
detector finds each column as a tall box; the recogniser reads horizontal lines, so a
column is cut into its characters at the blank rows between them and the characters are
laid side by side, upright, into a horizontal line the recogniser reads as it reads any
line. Pure functions on numpy arrays; the engine does the reading.
"""

from __future__ import annotations

import numpy as np

from ._types import Line

# A box this many times taller than wide is a column (or a line of a page turned sideways).
TALL = 1.5
# Characters, each cut to its own ink, are laid side by side this share of the column's width
# apart. On 4 composed vertical grid pages of the real lines (docs/ocr.md): 0.2 and the
# column's whole width per character 38.2% CER; 0.05 chosen on pages 1-2 (columns as drawn:
# 0.2 -> 44.9%, 0.1 -> 40.4%, 0.05 -> 37.6%); with each character cut to its ink, pages 3-4
# (not used to choose) 22.3% -> 17.0%.
GAP = 0.05
# A piece shorter than this share of the column's width is part of a neighbour (二, 三, 六).
MIN_PIECE = 0.45
# A piece taller than this share of the column's width holds two characters (composed vertical
# pages, columns as drawn: chosen on pages 1-2, 1.45 -> 26.8%, 1.6 -> 23.6%, 1.7-2.0 -> 25%;
# pages 3-4, not used to choose: 22.9% -> 19.7% CER).
MAX_PIECE = 1.6
# A printed line across a column (稿纸 squares): darker by LINE_STEP grey levels than the rows
# LINE_REACH pixels above and below it, along LINE_ACROSS of the column's width; its pixels
# darker than the line's median by LINE_KEEP are a stroke on it, kept. Columns as drawn on the
# 4 composed vertical grid pages of the real lines: chosen on pages 1-2 (none 24.8% CER; strokes
# not kept: LINE_STEP 20 24.8%, 10 24.2%, LINE_ACROSS 0.4 25.8%; LINE_KEEP 20/40/60/80/120:
# 23.2/23.0/22.6/22.2/22.8%); pages 3-4, not used to choose: 19.2% -> 15.4% (plain paper 12.2%;
# cut with the lines left in, as upright_line does: 17.6%).
LINE_STEP = 10
LINE_REACH = 3
LINE_ACROSS = 0.6
LINE_KEEP = 80


def is_tall(line: Line) -> bool:
    """A box taller than wide by TALL: a column, or a sideways line."""
    left, top, right, bottom = line.bounds
    return bottom - top > TALL * (right - left)


def _ink(grey: np.ndarray) -> np.ndarray:
    """Where the pen is: dark against the crop's paper, printed pale rules left out."""
    paper = max(float(np.percentile(grey, 90)), 1.0)
    ink = np.clip(1.0 - grey.astype(np.float32) / paper, 0.0, 1.0)
    strong = float(np.percentile(ink, 99.5))
    return ink > max(0.5 * strong, 0.15)


def _split(pieces: list[tuple[int, int]], profile: np.ndarray, width: int) -> list[tuple[int, int]]:
    """Pieces too tall for one character cut at their emptiest row near the middle."""
    out: list[tuple[int, int]] = []
    for top, bottom in pieces:
        while bottom - top > MAX_PIECE * width:
            count = round((bottom - top) / width)
            step = (bottom - top) / max(count, 2)
            lo, hi = top + round(0.7 * step), top + round(1.3 * step)
            cut = lo + int(np.argmin(profile[lo:hi]))
            out.append((top, cut))
            top = cut
        out.append((top, bottom))
    return out


def _merge(pieces: list[tuple[int, int]], width: int) -> list[tuple[int, int]]:
    """Pieces too short for a character joined to the nearer neighbour, if the two fit."""
    pieces = list(pieces)
    changed = True
    while changed and len(pieces) > 1:
        changed = False
        for n, (top, bottom) in enumerate(pieces):
            if bottom - top >= MIN_PIECE * width:
                continue
            gaps = []
            if n > 0:
                gaps.append((top - pieces[n - 1][1], n - 1))
            if n + 1 < len(pieces):
                gaps.append((pieces[n + 1][0] - bottom, n + 1))
            gap, other = min(gaps)
            first, second = sorted((n, other))
            joined = (pieces[first][0], pieces[second][1])
            if joined[1] - joined[0] > MAX_PIECE * width:
                continue
            pieces[first:second + 1] = [joined]
            changed = True
            break
    return pieces


def _pen_width(ink: np.ndarray) -> int:
    """How wide the writing in a column is (the detector's box is wider): a character's size."""
    across = np.flatnonzero(ink.sum(axis=0) > max(1.0, 0.01 * ink.shape[0]))
    if len(across) < 2:
        return ink.shape[1]
    return max(int(across[-1] - across[0]) + 1, 4)


def characters(grey: np.ndarray) -> list[tuple[int, int]]:
    """Rows (top, bottom) of each character in a column crop, top to bottom."""
    ink = _ink(grey)
    width = _pen_width(ink)
    profile = ink.sum(axis=1).astype(np.float32)
    written = profile > max(1.0, 0.02 * width)
    pieces: list[tuple[int, int]] = []
    start = None
    for y, on in enumerate(written):
        if on and start is None:
            start = y
        elif not on and start is not None:
            pieces.append((start, y))
            start = None
    if start is not None:
        pieces.append((start, len(written)))
    pieces = [p for p in pieces if p[1] - p[0] >= 2]
    return _split(_merge(pieces, width), profile, width)


def _written_only(grey: np.ndarray) -> np.ndarray:
    """The crop with everything but the pen's strokes turned to paper: the column's printed
    frame (grid squares, rules, a box's edges) would be read as characters of its own."""
    import cv2

    ink = _ink(grey).astype(np.uint8)
    height, width = ink.shape
    long_lines = np.zeros_like(ink)
    for kernel in ((max(3, round(0.8 * width)), 1), (1, max(3, round(1.5 * width)))):
        found = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones(kernel[::-1], np.uint8))
        long_lines |= found.astype(np.uint8)
    pen = cv2.dilate(ink & (1 - long_lines), np.ones((3, 3), np.uint8))
    paper = np.uint8(np.percentile(grey, 90))
    return np.where(pen > 0, grey, paper).astype(np.uint8)


def _thin_lines(grey: np.ndarray) -> np.ndarray:
    """Rows of ``grey`` holding a thin printed line across it: darker than the rows a few
    pixels above and below along most of its width (a grid square's edge, a rule)."""
    g = grey.astype(np.int16)
    reach = LINE_REACH
    if g.shape[0] <= 2 * reach:
        return np.zeros(g.shape[0], dtype=bool)
    around = np.minimum(g[: -2 * reach], g[2 * reach :])
    darker = (around - g[reach:-reach]) > LINE_STEP
    rows = np.zeros(g.shape[0], dtype=bool)
    rows[reach:-reach] = darker.mean(axis=1) >= LINE_ACROSS
    return rows


def _bridged(grey: np.ndarray) -> np.ndarray:
    """The crop with printed lines across it (grid squares' edges) filled from the rows
    above and below each: a stroke crossing the line is continued, the rest is paper."""
    out = grey.astype(np.float32)
    for flip in (False, True):  # rows, then columns (the square's sides)
        work = out.T if flip else out
        rows = _thin_lines(work.astype(np.uint8))
        edges = np.flatnonzero(np.diff(np.concatenate(([0], rows.astype(np.int8), [0]))))
        for y, end in zip(edges[::2], edges[1::2], strict=True):
            above, below = max(y - 2, 0), min(end + 1, len(rows) - 1)
            band = slice(max(y - 1, 0), min(end + 1, len(rows)))
            # A pen stroke on the line is darker than the printed line alone: it stays.
            printed = work[band] >= float(np.median(work[band])) - LINE_KEEP
            steps = np.arange(band.start, band.stop, dtype=np.float32)[:, None]
            t = (steps - above) / max(below - above, 1)
            filled = (1 - t) * work[above] + t * work[below]
            work[band] = np.where(printed, filled, work[band])
        out = work.T if flip else work
    return np.clip(out, 0, 255).astype(np.uint8)


def _tight(piece: np.ndarray) -> np.ndarray:
    """A character cut to its own ink across (a narrow one, a comma, leaves the column's
    width blank beside it: characters set far apart read worse)."""
    across = np.flatnonzero(_ink(piece).any(axis=0))
    if len(across) < 2:
        return piece
    return piece[:, max(int(across[0]) - 1, 0) : int(across[-1]) + 2]


def upright_line(grey: np.ndarray, turn: int = 0) -> np.ndarray:
    """A column crop's characters laid side by side, upright: a line the recogniser reads.

    ``turn``: each character turned by that many quarter turns counter-clockwise first (1 or
    -1), to ask whether the characters are lying on their side (a page scanned sideways).
    """
    # Cut at the blank rows with the lines across left in (they hold a character's parts
    # together), each piece taken with them out. Whole vertical pages 1-2: 105 errors; cut
    # with them out too, 111, as many as leaving them in the pieces.
    clean = _written_only(_bridged(grey))
    grey = _written_only(grey)
    across = np.flatnonzero(_ink(grey).sum(axis=0) > 0)
    if len(across) >= 2:  # the detector's box is wider than the writing in it
        keep = slice(max(int(across[0]) - 2, 0), int(across[-1]) + 3)
        grey, clean = grey[:, keep], clean[:, keep]
    width = grey.shape[1]
    pieces = [_tight(np.rot90(clean[top:bottom], turn)) for top, bottom in characters(grey)]
    if not pieces:
        return grey
    gap = max(2, round(GAP * width))
    height = max(max(p.shape[0] for p in pieces), width)
    paper = np.uint8(np.percentile(grey, 90))
    line = np.full((height, sum(p.shape[1] + gap for p in pieces) + gap), paper, dtype=np.uint8)
    x = gap
    for piece in pieces:
        y = (height - piece.shape[0]) // 2
        line[y : y + piece.shape[0], x : x + piece.shape[1]] = piece
        x += piece.shape[1] + gap
    return line
