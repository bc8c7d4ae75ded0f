"""Phone photos of a letter: the sheet found on the table, flattened, and its shadows evened.

A photographed page is a bright quadrilateral (the sheet, seen at an angle) on a darker
surround (a table top), lit unevenly, often with a shadow across part of it. Before
detection the sheet is cut out and warped to a rectangle (perspective), and the light is
evened by dividing by the page's own blurred brightness; the table, read as texture, is
dropped. Boxes found on the flattened sheet are
mapped back onto the photo, so they still line up with the image the clerk sees.
A scan (the sheet filling the image, no darker surround) is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

# The sheet must cover at least this share of the photo, and at most this (else: a scan).
MIN_SHEET = 0.25
MAX_SHEET = 0.93
# ... and be this much brighter (0..255) than what surrounds it.
MIN_CONTRAST = 35.0
WORK_SIDE = 800  # the sheet is looked for on a copy this size
CLOSE = 9  # writing and printed lines narrower than this (on that copy) are closed over
# The sheet is the paper grown from its brightest part up to where the brightness steps by
# EDGE grey levels a pixel, then GROW pixels out to the middle of that edge (a soft shadow
# across the sheet stays inside). Chosen on photos of composed pages, seeds 20-39 (sheet
# corners' largest error: EDGE 4/GROW 4 5.6 px, 8/4 4.5 px, 12/4 4.5, 8/5 7.7); seeds 0-19,
# not used to choose: at most 3.9 px off, every sheet found (the brightness threshold before:
# 3 sheets not found, 4 cut at the shadow, 100-1400 px off).
GROW = 4
EDGE = 8.0

@dataclass(frozen=True)
class Flattened:
    """The sheet flattened, and the homography from its pixels back to the photo's."""

    image: Image.Image
    to_photo: np.ndarray  # 3x3

    def point(self, x: float, y: float) -> tuple[float, float]:
        """A point on the flattened sheet, in the photo's pixels."""
        px, py, w = self.to_photo @ np.array([x, y, 1.0])
        return float(px / w), float(py / w)


def _corners(quad: np.ndarray) -> np.ndarray:
    """Four points ordered top-left, top-right, bottom-right, bottom-left."""
    s = quad.sum(axis=1)
    d = quad[:, 1] - quad[:, 0]
    return np.array(
        [quad[np.argmin(s)], quad[np.argmin(d)], quad[np.argmax(s)], quad[np.argmax(d)]],
        dtype=np.float32,
    )


def _sheet_region(small: np.ndarray, edge: float) -> np.ndarray:
    """The paper around its brightest part, up to where the brightness steps by ``edge``
    grey levels a pixel or more: a soft shadow across the sheet stays inside, the sheet's
    edge against the table bounds it."""
    import cv2

    # Grid lines, rules and writing are narrower than this: closed, they leave plain paper.
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((CLOSE, CLOSE), np.uint8))
    paper = cv2.GaussianBlur(paper, (5, 5), 0).astype(np.float32)
    step = cv2.magnitude(cv2.Sobel(paper, cv2.CV_32F, 1, 0), cv2.Sobel(paper, cv2.CV_32F, 0, 1))
    edges = cv2.dilate((step > 8 * edge).astype(np.uint8), np.ones((3, 3), np.uint8))
    _, labels = cv2.connectedComponents((1 - edges).astype(np.uint8), connectivity=4)
    coarse = cv2.resize(paper, (max(1, paper.shape[1] // 16), max(1, paper.shape[0] // 16)),
                        interpolation=cv2.INTER_AREA)  # the brightest stretch, not a speck
    row, col = np.unravel_index(int(np.argmax(coarse)), coarse.shape)
    seed = (min(16 * int(row) + 8, paper.shape[0] - 1), min(16 * int(col) + 8, paper.shape[1] - 1))
    label = labels[seed]
    region = ((labels == label) & (label > 0)).astype(np.uint8) * 255
    # The edge band found is a few pixels wide: the sheet reaches to its middle.
    return cv2.dilate(region, np.ones((2 * GROW + 1, 2 * GROW + 1), np.uint8))


def find_sheet(grey: np.ndarray) -> np.ndarray | None:
    """The sheet's four corners in ``grey``'s pixels, or None when there is no sheet on a
    darker surround (a scan, or a photo too close to tell)."""
    import cv2

    h, w = grey.shape
    scale = WORK_SIDE / max(h, w)
    small = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA)
    region = _sheet_region(small, EDGE)
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(quad) != 4:
        return None
    inside = np.zeros_like(small)
    cv2.fillPoly(inside, [quad.astype(np.int32)], 255)
    if not MIN_SHEET <= float((inside > 0).mean()) <= MAX_SHEET:
        return None
    if float(small[inside > 0].mean()) - float(small[inside == 0].mean()) < MIN_CONTRAST:
        return None
    return _corners(quad.reshape(4, 2).astype(np.float32) / scale)


def even_light(grey: np.ndarray) -> np.ndarray:
    """The page divided by its own blurred brightness: shadows and gradients become white."""
    import cv2

    side = max(15, (min(grey.shape) // 40) | 1)
    paper = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, np.ones((side, side), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), side / 2).astype(np.float32)
    out = grey.astype(np.float32) / np.maximum(paper, 1.0) * 245.0
    return np.clip(out, 0, 255).astype(np.uint8)


def flatten(image: Image.Image) -> Flattened | None:
    """The photographed sheet, flattened and evenly lit, or None if this is not a photo."""
    import cv2

    grey = np.asarray(image.convert("L"))
    corners = find_sheet(grey)
    if corners is None:
        return None
    tl, tr, br, bl = corners
    width = round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    to_sheet = cv2.getPerspectiveTransform(corners, target)
    sheet = cv2.warpPerspective(grey, to_sheet, (width, height), flags=cv2.INTER_CUBIC,
                                borderMode=cv2.BORDER_REPLICATE)
    flat = Image.fromarray(even_light(sheet), "L").convert("RGB")
    return Flattened(image=flat, to_photo=np.linalg.inv(to_sheet))
