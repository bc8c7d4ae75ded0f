"""Page images for the review screen: page n of a letter's original as a screen-sized PNG.

The image is rendered the way the OCR saw the page (``ocr.render_page`` at ``ocr.OCR_DPI``:
a PDF page rendered at 200 dpi, an image file's own pixels, EXIF orientation applied), so the
boxes stored in ``Page.lines[i]["box"]`` (pixels of that rendering, ``Page.width`` ×
``Page.height``) land on the written lines once multiplied by ``scale``. Size limits and
Pillow's decompression-bomb guard are the OCR loaders' own (``ocr.Limits``).

The PNGs are derived data: cached under ``HOME/derived/pages`` by the original's SHA-256
(originals never change), written atomically, rebuildable at any time by deleting the folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from PIL import Image, ImageDraw
from sqlalchemy import select

import ocr
from records import Letter, Page
from records.privacy import personal_numbers
from web.services.errors import ServiceError
from web.services.instance import Instance

MAX_WIDTH = 1200  # pixels: wide enough to read handwriting beside the text on one screen


class PageImageError(ServiceError):
    """No image for this page; the message says why (no such page, unreadable original)."""


@dataclass(frozen=True)
class PageImage:
    """A cached PNG of one page and how its pixels relate to the OCR boxes."""

    path: Path
    width: int  # of the PNG
    height: int
    scale: float  # PNG pixels per OCR pixel: box coordinates × scale = PNG coordinates
    page_width: int  # the page as the OCR saw it (the boxes' coordinate space)
    page_height: int


def cache_dir(instance: Instance) -> Path:
    """Where the rendered pages are kept (derived, rebuildable)."""
    return instance.home / "derived" / "pages"


def page_image(instance: Instance, letter_id: int, number: int, *,
               max_width: int = MAX_WIDTH) -> PageImage:
    """The PNG of page ``number`` of a letter, rendered once and then served from the cache."""
    if max_width < 1:
        raise ValueError(f"max_width must be positive, not {max_width}")
    with instance.db.session() as session:
        letter = session.get(Letter, letter_id)
        if letter is None:
            raise PageImageError(f"没有编号为 {letter_id} 的来信")
        sha256 = letter.source_sha256
        page = session.scalars(
            select(Page).where(Page.letter_id == letter_id, Page.number == number)).first()
        known = (page.width, page.height) if page is not None else None
    if number < 1:
        raise PageImageError(f"第 {number} 页不存在")
    target = cache_dir(instance) / f"{sha256}-p{number}-w{max_width}.png"
    if target.exists():
        with Image.open(target) as cached:
            size = cached.size
        return _describe(target, size, known)
    if not instance.blobs.exists(sha256):
        raise PageImageError("原件不在档案库中，无法显示页面图像")
    try:
        image = ocr.render_page(instance.blobs.path(sha256), number)
    except ValueError as e:  # the page number is beyond the file's pages
        raise PageImageError(f"第 {number} 页不存在") from e
    except ocr.OcrError as e:
        raise PageImageError(str(e)) from e
    try:
        full = image.size
        if known is None:
            known = full
        if image.width > max_width:
            height = max(1, round(image.height * max_width / image.width))
            resized = image.resize((max_width, height), Image.Resampling.LANCZOS)
            image.close()
            image = resized
        _write_atomically(image, target)
        return _describe(target, image.size, known)
    finally:
        image.close()


def masked_page_image(instance: Instance, letter_id: int, number: int, *,
                      max_width: int = MAX_WIDTH) -> PageImage:
    """The page's PNG with each ID and mobile number the OCR found covered, for the roles
    that do not work with whole numbers (web.services.letter_view.sees_full_ids): the picture
    must not show what the text hides.

    A number is covered from a little before its estimated start to a little after its end
    along its line's box (characters weighted: a Chinese character is about twice as wide as a
    digit); the cache file is named by the boxes covered, so a corrected line re-renders it.
    """
    shown = page_image(instance, letter_id, number, max_width=max_width)
    with instance.db.session() as session:
        page = session.scalars(
            select(Page).where(Page.letter_id == letter_id, Page.number == number)).first()
        lines = list(page.lines or []) if page is not None else []
    covers = [box for line in lines for box in _number_boxes(line)]
    digest = hashlib.sha256(json.dumps(covers).encode()).hexdigest()[:16]
    target = shown.path.with_name(f"{shown.path.stem}-masked-{digest}.png")
    if not target.exists():
        with Image.open(shown.path) as original:
            image = original.convert("RGB")
        cover(image, covers, shown.scale)
        _write_atomically(image, target)
        image.close()
    return replace(shown, path=target)


def cover(image: Image.Image, boxes: list[tuple[float, float, float, float]],
          scale: float) -> None:
    """Paint over each box (x0, y0, x1, y1 in page pixels, × scale on this image): how every
    masked picture hides a number (a letter's scan, a reply's page)."""
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle((x0 * scale, y0 * scale, x1 * scale, y1 * scale), fill=(40, 40, 40))


def _number_boxes(line: Any) -> list[tuple[float, float, float, float]]:
    """The page-pixel rectangles of the ID and mobile numbers in one OCR line."""
    text, box = str(line.get("text") or ""), line.get("box")
    if not box or not text:
        return []
    spans = [m.span() for m in personal_numbers(text)]
    if not spans:
        return []
    xs, ys = [float(p[0]) for p in box], [float(p[1]) for p in box]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    weights = [2.0 if ord(c) > 0x2E80 else 1.0 for c in text]
    unit = (right - left) / sum(weights)
    found = []
    for start, end in spans:
        x0 = left + unit * (sum(weights[:start]) - 2)  # one Chinese character of margin
        x1 = left + unit * (sum(weights[:end]) + 2)
        found.append((round(max(left, x0), 1), round(top, 1), round(min(right, x1), 1),
                      round(bottom, 1)))
    return found


def pdf_number_boxes(page: pdfium.PdfPage) -> list[tuple[float, float, float, float]]:
    """The ID and mobile numbers on a PDF page we laid out (a reply), from its text layer:
    each character's box in points from the top left, a point of margin around it (a number
    broken across two lines is covered on both)."""
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count) if count else ""
        kept = [i for i, c in enumerate(text[:count]) if c not in "\r\n"]
        joined = "".join(text[i] for i in kept)
        height = page.get_height()
        boxes = []
        for match in personal_numbers(joined):
            for k in range(*match.span()):
                left, bottom, right, top = textpage.get_charbox(kept[k])
                boxes.append((left - 1, height - top - 1, right + 1, height - bottom + 1))
        return boxes
    finally:
        textpage.close()


def _describe(path: Path, size: tuple[int, int], known: tuple[int, int] | None) -> PageImage:
    page_width, page_height = known or size
    return PageImage(path=path, width=size[0], height=size[1], scale=size[0] / page_width,
                     page_width=page_width, page_height=page_height)


def _write_atomically(image: Image.Image, target: Path) -> None:
    """Write to a temporary file beside the target, then rename: readers never see half."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG", optimize=False, compress_level=6)
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
