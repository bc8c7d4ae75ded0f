"""Whole letter pages composed from images of written lines, for measuring page reading.

Real letters are pages of handwriting on 稿纸 grid paper or ruled 信纸, sometimes in vertical
columns read right to left, more and more often a phone photo. The shared evaluation set has
real handwritten *lines* only; this module lays such lines out as those pages, with their
ground truth, at benchmark time (the lines themselves are never copied anywhere):

- :func:`compose_page`: the lines written on ``"grid"``, ``"ruled"`` or ``"plain"`` A4 paper,
  horizontally, or in vertical columns right to left (each line cut into its characters at
  the ink's gaps and stacked top to bottom, upright, as a column is written);
- :func:`photograph`: the page as a phone sees it: on a table, at an angle (perspective),
  lit unevenly with a shadow across it, slightly soft and JPEG-compressed.

Deterministic for a given seed.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

DPI = 200
A4 = (1654, 2339)  # pixels at 200 dpi
MARGIN = (150, 190, 130, 170)  # left, top, right, bottom
CHAR = 60  # height of a written line / width of a column, pixels (about 7.6 mm)
PITCH = 104  # from one written line (or column) to the next
CELL = 76  # a grid paper cell (稿纸 squares, with a gap between rows)
GRID_INK = np.array([205, 120, 110], dtype=np.float32)  # red-brown print of 稿纸
RULE_INK = np.array([150, 170, 205], dtype=np.float32)  # blue rules of 信纸
PAPERS = ("grid", "ruled", "plain")


@dataclass(frozen=True)
class Written:
    """A composed page and what is written on it, one entry per written line or column."""

    image: Image.Image
    lines: tuple[str, ...]
    vertical: bool

    @property
    def text(self) -> str:
        """The ground truth in reading order, one written line per text line."""
        return "\n".join(self.lines)


def _ink(line: Image.Image) -> np.ndarray:
    """A line image as ink darkness 0..1 on its own paper (its background evened out)."""
    grey = np.asarray(line.convert("L"), dtype=np.float32)
    background = max(float(np.percentile(grey, 90)), 1.0)
    return np.clip(1.0 - grey / background, 0.0, 1.0)


def _trim(ink: np.ndarray) -> np.ndarray:
    """The ink cut to where something is written (a line image has margins)."""
    rows = np.flatnonzero(ink.max(axis=1) > 0.3)
    cols = np.flatnonzero(ink.max(axis=0) > 0.3)
    if len(rows) < 2 or len(cols) < 2:
        return ink
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit(ink: np.ndarray, height: int, max_width: int) -> np.ndarray:
    """The ink scaled to ``height`` pixels high, narrower if it would not fit ``max_width``."""
    h, w = ink.shape
    scale = min(height / h, max_width / w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    image = Image.fromarray((ink * 255).astype(np.uint8), "L")
    return np.asarray(image.resize(size, Image.Resampling.BICUBIC), dtype=np.float32) / 255


def characters(ink: np.ndarray, count: int) -> list[np.ndarray]:
    """A written line cut into ``count`` pieces near even spacing, at the ink's lightest columns."""
    h, w = ink.shape
    profile = ink.sum(axis=0)
    step = w / max(count, 1)
    cuts = [0]
    for k in range(1, count):
        ideal = round(k * step)
        lo, hi = max(cuts[-1] + 1, round(ideal - 0.3 * step)), min(w - 1, round(ideal + 0.3 * step))
        if hi <= lo:
            cuts.append(min(max(ideal, cuts[-1] + 1), w - 1))
            continue
        cuts.append(lo + int(np.argmin(profile[lo:hi])))
    cuts.append(w)
    return [ink[:, a:b] for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _glyphs(image: Image.Image, text: str) -> list[np.ndarray]:
    """A written line as its characters, each scaled to be at most CHAR wide."""
    glyphs = []
    for piece in characters(_fit(_trim(_ink(image)), CHAR, 10**6), len(text)):
        ph, pw = piece.shape
        scale = min(CHAR / max(pw, 1), 1.2)
        glyphs.append(_fit(piece, max(1, round(ph * scale)), CHAR))
    return glyphs


def _rejoined(glyphs: list[np.ndarray]) -> np.ndarray:
    """Characters side by side again, spaced as in a column: the column's text, horizontal."""
    space = max(4, round(CHAR * 0.12))
    height = max(g.shape[0] for g in glyphs)
    line = np.zeros((height, sum(g.shape[1] + space for g in glyphs)), dtype=np.float32)
    x = 0
    for g in glyphs:
        y = (height - g.shape[0]) // 2
        line[y:y + g.shape[0], x:x + g.shape[1]] = g
        x += g.shape[1] + space
    return line


def _paper(kind: str, vertical: bool, rng: random.Random) -> np.ndarray:
    """An empty A4 sheet as RGB float: grid squares, ruled lines or plain."""
    width, height = A4
    tint = np.array([rng.uniform(246, 255), rng.uniform(244, 253), rng.uniform(236, 248)])
    sheet = np.ones((height, width, 3), dtype=np.float32) * tint.astype(np.float32)
    left, top, right, bottom = MARGIN
    if kind == "grid":
        # 稿纸: rows (or columns) of squares with a narrow gap between them, a frame around.
        if vertical:
            for x in range(width - right, left, -PITCH):
                for edge in (x, x - CELL):
                    sheet[top:height - bottom, edge - 1:edge + 1] = GRID_INK
                for y in range(top, height - bottom, CELL):
                    sheet[y:y + 2, x - CELL:x] = GRID_INK
        else:
            for y in range(top, height - bottom, PITCH):
                for edge in (y, y + CELL):
                    sheet[edge - 1:edge + 1, left:width - right] = GRID_INK
                for x in range(left, width - right, CELL):
                    sheet[y:y + CELL, x:x + 2] = GRID_INK
    elif kind == "ruled":
        # 信纸: a double rule under the letterhead space, then one rule per written line.
        sheet[top - 60:top - 57, left:width - right] = GRID_INK
        sheet[top - 52:top - 51, left:width - right] = GRID_INK
        if vertical:
            for x in range(width - right, left, -PITCH):
                sheet[top:height - bottom, x - 1:x + 1] = RULE_INK
        else:
            for y in range(top + PITCH - 20, height - bottom, PITCH):
                sheet[y - 1:y + 1, left - 40:width - right + 40] = RULE_INK
    elif kind != "plain":
        raise ValueError(f"paper is one of {PAPERS}, not {kind!r}")
    return sheet


def _write(sheet: np.ndarray, ink: np.ndarray, x: int, y: int, colour: np.ndarray) -> None:
    """Put ink on the sheet at (x, y): darker where the ink is (multiplied, as ink on paper)."""
    h, w = ink.shape
    h = min(h, sheet.shape[0] - y)
    w = min(w, sheet.shape[1] - x)
    if h <= 0 or w <= 0:
        return
    alpha = ink[:h, :w, None]
    region = sheet[y:y + h, x:x + w]
    sheet[y:y + h, x:x + w] = region * (1 - alpha) + colour * alpha * (region / 255)


def compose_page(
    lines: Sequence[tuple[Image.Image, str]],
    *,
    paper: str = "grid",
    vertical: bool = False,
    cut: bool = False,
    seed: int = 0,
) -> Written:
    """The written lines (image, text) on one A4 page, as many as fit; see :class:`Written`.

    ``cut``: a horizontal page written from the same cut characters as the vertical one, so
    the two differ only in the direction of writing.
    """
    rng = random.Random(seed)
    sheet = _paper(paper, vertical, rng)
    left, top, right, bottom = MARGIN
    width, height = A4
    colour = np.array([rng.uniform(15, 40), rng.uniform(20, 45), rng.uniform(40, 90)],
                      dtype=np.float32)
    placed: list[str] = []
    if vertical:
        x = width - right
        for image, text in lines:
            if x - CELL < left:
                break
            pieces = _glyphs(image, text)
            y = top + 8
            column = []
            for glyph in pieces:
                if y + glyph.shape[0] > height - bottom:
                    break
                gx = x - CELL + (CELL - glyph.shape[1]) // 2 + rng.randint(-3, 3)
                _write(sheet, glyph, gx, y, colour)
                column.append(glyph)
                y += glyph.shape[0] + max(4, round(CHAR * 0.12))
            if len(column) == len(pieces):
                placed.append(text)
            else:  # a column that did not fit is not claimed as written
                placed.append(text[: len(column)])
            x -= PITCH
    else:
        y = top + (CELL - CHAR) // 2
        for image, text in lines:
            if y + CHAR > height - bottom:
                break
            ink = _rejoined(_glyphs(image, text)) if cut else _ink(image)
            ink = _fit(ink, CHAR, width - left - right - 20)
            _write(sheet, ink, left + 10 + rng.randint(0, 12),
                   y + (CHAR - ink.shape[0]) // 2 + rng.randint(-4, 4), colour)
            placed.append(text)
            y += PITCH
    page = Image.fromarray(np.clip(sheet, 0, 255).astype(np.uint8), "RGB")
    page.info["dpi"] = (DPI, DPI)
    return Written(image=page, lines=tuple(placed), vertical=vertical)


def _table(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A wooden table top: a brown with grain and a little noise."""
    w, h = size
    base = np.array([rng.uniform(90, 140), rng.uniform(60, 95), rng.uniform(35, 60)])
    grain = np.sin(np.linspace(0, rng.uniform(40, 90), h))[:, None] * rng.uniform(6, 14)
    table = np.ones((h, w, 3), dtype=np.float32) * base.astype(np.float32)
    table += grain[:, :, None].astype(np.float32)
    table += rng.standard_normal((h, w, 1)).astype(np.float32) * 6
    return table


def sheet_corners(
    size: tuple[int, int], *, seed: int = 0, tilt: float = 0.08
) -> tuple[tuple[int, int], np.ndarray]:
    """Where :func:`photograph` puts the sheet: the photo's size and the sheet's corners in it
    (top-left, top-right, bottom-right, bottom-left), to check the sheet is found."""
    return _placement(size, np.random.default_rng(seed), tilt)


def _placement(
    size: tuple[int, int], rng: np.random.Generator, tilt: float
) -> tuple[tuple[int, int], np.ndarray]:
    """The photo's size and the sheet's four corners in it, drawn from ``rng``."""
    w, h = size
    out_w, out_h = round(w * 1.12), round(h * 1.1)
    # Where the sheet's corners land: inside the frame, each pulled by up to ``tilt``.
    pad_x, pad_y = 0.06 * out_w, 0.05 * out_h

    def corner(x: float, y: float) -> tuple[float, float]:
        return (x + rng.uniform(-tilt, tilt) * w * 0.5, y + rng.uniform(-tilt, tilt) * h * 0.5)

    target = np.array(
        [
            corner(pad_x, pad_y),
            corner(out_w - pad_x, pad_y),
            corner(out_w - pad_x, out_h - pad_y),
            corner(pad_x, out_h - pad_y),
        ],
        dtype=np.float32,
    )
    target[:, 0] = np.clip(target[:, 0], 2, out_w - 3)
    target[:, 1] = np.clip(target[:, 1], 2, out_h - 3)
    return (out_w, out_h), target


def photograph(page: Image.Image, *, seed: int = 0, tilt: float = 0.08) -> Image.Image:
    """The page photographed by a phone: on a table, in perspective, shaded, soft, JPEG."""
    import cv2

    rng = np.random.default_rng(seed)
    w, h = page.size
    (out_w, out_h), target = _placement(page.size, rng, tilt)
    source = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(source, target)
    sheet = np.asarray(page.convert("RGB"), dtype=np.float32)
    warped = cv2.warpPerspective(sheet, warp, (out_w, out_h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), warp, (out_w, out_h))
    photo = warped * mask[:, :, None] + _table((out_w, out_h), rng) * (1 - mask[:, :, None])
    # Light: brighter on one side, and the soft shadow of a hand or phone across a corner.
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    gx, gy = rng.uniform(-0.25, 0.25, size=2)
    light = 0.95 + gx * (xx / out_w - 0.5) + gy * (yy / out_h - 0.5)
    angle = rng.uniform(0, np.pi)
    along = np.cos(angle) * (xx / out_w - 0.5) + np.sin(angle) * (yy / out_h - 0.5)
    edge = rng.uniform(0.1, 0.3)
    shadow = 1.0 - rng.uniform(0.25, 0.4) / (1.0 + np.exp(-(along - edge) * 25.0))
    photo *= (light * shadow)[:, :, None]
    photo += rng.standard_normal((out_h, out_w, 1)).astype(np.float32) * 4
    image = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8), "RGB")
    image = image.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.6, 1.1))))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(70, 86)))
    photo_image = Image.open(buffer)
    photo_image.load()
    photo_image.info["dpi"] = (DPI, DPI)
    return photo_image
