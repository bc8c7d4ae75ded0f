"""Handwriting-like scans drawn from text, for demo data, tests and benchmarks.

The evaluation scans in ../shared/eval may not be shipped or copied (their licences), so
everything that needs a scan with a known transcription draws one here: a Kai (brush)
font with per-character jitter and a drifting baseline on an A4 page, optionally ruled,
optionally degraded like a poor scan. Deterministic for a given seed.
"""

from __future__ import annotations

import ctypes
import math
import random
import shutil
import subprocess
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_PACKAGE = "fonts-arphic-ukai"
FONT_FAMILY = "AR PL UKai CN"
_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
    Path("/usr/share/fonts/truetype/arphic-ukai/ukai.ttc"),
    Path("/usr/local/share/fonts/ukai.ttc"),
)
A4_MM = (210.0, 297.0)
MM_PER_INCH = 25.4
CHAR_MM = 6.0  # written character size
PITCH = 1.85  # line pitch, in character sizes
MARGINS_MM = (22.0, 28.0, 18.0, 20.0)  # left, top, right, bottom
INK = (28, 30, 48)
TILT_DEG = 2.0  # largest tilt of one character
SPACING = (1.04, 1.2)  # advance, in character widths


class FontNotFound(RuntimeError):
    """The Kai font used to draw scans is not installed."""


@cache
def font_path() -> Path:
    """Where AR PL UKai is installed (known paths, then fontconfig), or FontNotFound."""
    for candidate in _FONT_PATHS:
        if candidate.is_file():
            return candidate
    if shutil.which("fc-list"):
        listing = subprocess.run(
            ["fc-list", f":family={FONT_FAMILY}", "file"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
        for row in listing.splitlines():
            found = Path(row.strip().rstrip(":"))
            if found.is_file():
                return found
    raise FontNotFound(
        f"the font {FONT_FAMILY} is not installed: install the Debian package {FONT_PACKAGE} "
        f"(apt-get install {FONT_PACKAGE})"
    )


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    """The Kai font at a pixel size (index 0 of ukai.ttc is the simplified-Chinese face)."""
    return ImageFont.truetype(str(font_path()), size=size, index=0)


def _mm(mm: float, dpi: int) -> int:
    """Millimetres to pixels at dpi."""
    return round(mm / MM_PER_INCH * dpi)


def _wrap(lines: Sequence[str], font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Split lines longer than the writing width, as a writer starts a new line."""
    spacing = 1.12
    out: list[str] = []
    for line in lines:
        current, used = "", 0.0
        for ch in line:
            advance = font.getlength(ch) * spacing
            if current and used + advance > width:
                out.append(current)
                current, used = "", 0.0
            current += ch
            used += advance
        out.append(current)
    return out


def _glyph(ch: str, font: ImageFont.FreeTypeFont, angle: float) -> Image.Image:
    """A character's coverage mask, tilted by ``angle`` degrees."""
    size = font.size
    mask = Image.new("L", (int(size * 2), int(size * 2)), 0)
    ImageDraw.Draw(mask).text((size * 0.5, size * 0.5), ch, font=font, fill=255)
    if angle:
        mask = mask.rotate(angle, resample=Image.Resampling.BICUBIC)
    return mask


def render_scan(
    lines: Sequence[str],
    *,
    degrade: bool = False,
    seed: int = 0,
    dpi: int = 200,
    ruled: bool = False,
) -> Image.Image:
    """An A4 page with the lines written in a handwriting-like hand, as an RGB scan."""
    rng = random.Random(seed)
    width, height = _mm(A4_MM[0], dpi), _mm(A4_MM[1], dpi)
    left, top, right, bottom = (_mm(m, dpi) for m in MARGINS_MM)
    base = _mm(CHAR_MM, dpi)
    pitch = round(base * PITCH)
    font = _font(base)
    written = _wrap(lines, font, width - left - right - base * 0.3)
    capacity = (height - top - bottom) // pitch
    if len(written) > capacity:
        raise ValueError(
            f"{len(written)} written lines do not fit on one A4 page ({capacity} do); "
            "split the text over several pages"
        )

    page = Image.new("RGB", (width, height), (255, 255, 255))
    if ruled:
        draw = ImageDraw.Draw(page)
        for n in range(capacity + 1):
            rule = top + n * pitch + round(base * 1.15)
            draw.line(
                [(left // 2, rule), (width - right // 2, rule)], fill=(190, 200, 215), width=2
            )

    r, g, b = (max(0, c + rng.randint(-12, 12)) for c in INK)
    ink = (r, g, b)
    fonts = {s: _font(s) for s in range(round(base * 0.92), round(base * 1.08) + 1)}
    for row, text in enumerate(written):
        x = left + rng.uniform(0, base * 0.4)
        y0 = top + row * pitch
        drift_amp = rng.uniform(0.05, 0.18) * base
        drift_phase = rng.uniform(0, 2 * math.pi)
        drift_len = rng.uniform(0.8, 1.6) * width
        slope = rng.uniform(-0.015, 0.015)
        for ch in text:
            size = rng.choice(list(fonts))
            glyph_font = fonts[size]
            advance = glyph_font.getlength(ch) * rng.uniform(*SPACING)
            if not ch.isspace():
                drift = drift_amp * math.sin(drift_phase + 2 * math.pi * (x - left) / drift_len)
                y = y0 + drift + slope * (x - left) + rng.uniform(-0.04, 0.04) * base
                mask = _glyph(ch, glyph_font, rng.uniform(-TILT_DEG, TILT_DEG))
                shade = rng.uniform(0.85, 1.0)
                colour = Image.new("RGB", mask.size, ink)
                page.paste(
                    colour,
                    (round(x - size * 0.5), round(y - size * 0.5)),
                    mask.point(lambda v, s=shade: round(v * s)),
                )
            x += advance
    if degrade:
        page = _degrade(page, np.random.default_rng(seed), dpi)
    page.info["dpi"] = (dpi, dpi)
    return page


def _degrade(page: Image.Image, rng: np.random.Generator, dpi: int) -> Image.Image:
    """A poor scan: slight rotation, uneven light, grey paper, blur and noise."""
    angle = float(rng.uniform(0.4, 1.3)) * (1 if rng.random() < 0.5 else -1)
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255))
    page = page.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.5, 0.9)) * dpi / 200))
    array = np.asarray(page, dtype=np.float32)
    h, w = array.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-0.18, 0.18, size=2)
    light = 1.0 + gx * (xx / w - 0.5) + gy * (yy / h - 0.5)
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    radius = ((xx - cx) ** 2 + (yy - cy) ** 2) / float(w * w + h * h)
    light -= np.float32(rng.uniform(0.1, 0.25)) * radius
    paper = np.array(
        [rng.uniform(228, 245), rng.uniform(226, 242), rng.uniform(215, 236)], dtype=np.float32
    )
    array *= paper[None, None, :] / np.float32(255.0)
    array *= light[:, :, None]
    noise = rng.standard_normal(size=(h, w, 1), dtype=np.float32)
    array += noise * np.float32(rng.uniform(5, 10))
    specks = rng.random((h, w)) < 0.0004
    array[specks] *= 0.3
    return Image.fromarray(np.clip(array, 0, 255).astype(np.uint8), "RGB")


def _dpi_of(image: Image.Image, default: int) -> float:
    """The resolution an image says it has, else ``default``."""
    dpi = image.info.get("dpi")
    if isinstance(dpi, tuple) and dpi and float(dpi[0]) > 0:
        return float(dpi[0])
    return float(default)


def save_pdf(images: Sequence[Image.Image], path: Path, *, dpi: int = 200) -> Path:
    """Write the pages as an image-only PDF, one image per page, like a scanner does."""
    if not images:
        raise ValueError("a PDF needs at least one page")
    path = Path(path)
    resolution = _dpi_of(images[0], dpi)
    pages = [im.convert("RGB") for im in images]
    pages[0].save(
        path, "PDF", save_all=True, append_images=pages[1:], resolution=resolution, quality=90
    )
    return path


def save_tiff(images: Sequence[Image.Image], path: Path, *, dpi: int = 200) -> Path:
    """Write the pages as one multi-page TIFF (deflate-compressed), like a scanner does."""
    if not images:
        raise ValueError("a TIFF needs at least one page")
    path = Path(path)
    resolution = _dpi_of(images[0], dpi)
    # copies: Pillow keeps encoder settings of an image's earlier save() on the object
    first, *rest = (im.copy() for im in images)
    first.save(
        path,
        "TIFF",
        save_all=True,
        append_images=rest,
        compression="tiff_deflate",
        dpi=(resolution, resolution),
    )
    return path


def save_text_pdf(
    lines: Sequence[str], path: Path, *, font_size: float = 14.0, pages: int = 1
) -> Path:
    """A typed letter as a word processor exports it: real text layer, embedded Kai font.

    Each of ``pages`` A4 pages carries all ``lines``; pdfplumber reads them back exactly.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    data = font_path().read_bytes()
    buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    width_pt, height_pt = (mm / MM_PER_INCH * 72 for mm in A4_MM)
    pdf = pdfium.PdfDocument.new()
    try:
        font = pdfium_c.FPDFText_LoadFont(pdf, buffer, len(data), pdfium_c.FPDF_FONT_TRUETYPE, True)
        if not font:
            raise RuntimeError(f"pdfium could not load the font {font_path()}")
        for _ in range(pages):
            page = pdf.new_page(width_pt, height_pt)
            for n, line in enumerate(lines):
                obj = pdfium_c.FPDFPageObj_CreateTextObj(pdf, font, font_size)
                wide = ctypes.create_string_buffer((line + "\x00").encode("utf-16-le"))
                pdfium_c.FPDFText_SetText(
                    obj, ctypes.cast(wide, ctypes.POINTER(pdfium_c.FPDF_WCHAR))
                )
                y = height_pt - 72 - font_size * 1.8 * (n + 1)
                pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72, y)
                pdfium_c.FPDFPage_InsertObject(page, obj)
            pdfium_c.FPDFPage_GenerateContent(page)
            page.close()
        path = Path(path)
        pdf.save(path)
    finally:
        pdf.close()
    return path
