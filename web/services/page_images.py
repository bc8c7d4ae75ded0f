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

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from sqlalchemy import select

import ocr
from records import Letter, Page
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
