"""Open a scan (PDF, TIFF, PNG, JPEG) and hand out its pages one at a time.

Every foreign failure (Pillow, pypdfium2, pdfplumber) becomes a DamagedFile or an
UnsupportedFile here, with a reason a clerk understands. Pages are decoded on demand so a
300-page file never sits in memory at once; limits on page count and pixels stop files
that would take the service down.
"""

from __future__ import annotations

import math
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image, ImageOps

from ._errors import DamagedFile, OcrError, OutOfLimits, UnsupportedFile
from ._sniff import sniff
from ._textlayer import read_text_layer
from ._types import PageText

OCR_DPI = 200  # PDF pages are rendered at this resolution; image pixels count as this
PT_PER_INCH = 72
# pdfium is not thread-safe: one lock around every call into it.
PDFIUM_LOCK = threading.RLock()


@dataclass(frozen=True)
class Limits:
    """What a single file may ask of the machine before it is refused as damaged."""

    max_pages: int = 500
    # per page: A3 at 600 dpi is 70 Mpx, a 20000 x 20000 bomb 400. Pillow itself refuses
    # anything above twice its MAX_IMAGE_PIXELS (179 Mpx), whatever is set here.
    max_pixels: int = 100_000_000
    # per page, the shorter side in pixels (at OCR_DPI for PDF pages): below it nothing
    # handwritten can be read (a 1x1 tracking pixel, an icon, a thumbnail)
    min_side: int = 1


DEFAULT_LIMITS = Limits()


class Source(Protocol):
    """An opened scan file: page count, page images and (PDF only) text layers."""

    kind: str

    def __len__(self) -> int:
        """Number of pages."""
        ...

    def image(self, number: int, dpi: int = OCR_DPI) -> Image.Image:
        """Page ``number`` (1-based) as an upright RGB image."""
        ...

    def text_layer(self, number: int) -> PageText | None:
        """The page read from its own text layer, or None when it must be OCR'd."""
        ...

    def close(self) -> None:
        """Release file handles."""
        ...


# ---------------------------------------------------------------- images


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode (1-bit, 16-bit, CMYK, palette, alpha) as 8-bit RGB on white."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("1", "L", "CMYK", "YCbCr"):
        return image.convert("RGB")
    if mode.startswith(("I", "F")):
        array = np.asarray(image, dtype=np.float64)
        low, high = float(array.min()), float(array.max())
        if mode.startswith("I;16") and high > 4095:
            low, high = 0.0, 65535.0
        elif high <= 255 and low >= 0:
            low, high = 0.0, 255.0
        span = max(high - low, 1.0)
        scaled = np.clip((array - low) * (255.0 / span), 0, 255).round().astype(np.uint8)
        return Image.fromarray(scaled).convert("RGB")
    if mode in ("P", "PA") or "A" in mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as e:
        raise UnsupportedFile(f"不支持的颜色模式 {mode}，请用 RGB 或灰度重新扫描") from e


def pixels(points: float, scale: float) -> int:
    """Pixels spanned by a length in points at a scale, ignoring float32 dust in page sizes."""
    return max(1, math.ceil(points * scale - 1e-3))


def _check_pixels(width: int, height: int, limits: Limits, where: str) -> None:
    """Refuse a page whose pixel count could exhaust memory (a decompression bomb)."""
    if width <= 0 or height <= 0:
        raise OutOfLimits(f"{where}尺寸无效（{width}×{height} 像素）")
    if min(width, height) < limits.min_side:
        raise OutOfLimits(
            f"{where}太小（{width}×{height} 像素），无法辨认文字，不是扫描件；"
            "请用 200–300 dpi 重新扫描"
        )
    if width * height > limits.max_pixels:
        raise OutOfLimits(
            f"{where}过大（{width}×{height} 像素，"
            f"上限 {limits.max_pixels // 1_000_000} 百万像素），可能是异常文件，已拒绝处理"
        )


# What Pillow raises on a damaged file: beside the usual OSError and ValueError, broken TIFF
# tags surface as KeyError, TypeError or IndexError (found by fuzzing, tests/fuzz).
_BROKEN = (OSError, SyntaxError, ValueError, EOFError, KeyError, TypeError, IndexError)


class ImageSource:
    """A PNG, JPEG or (multi-page) TIFF opened with Pillow."""

    def __init__(self, path: Path, kind: str, limits: Limits) -> None:
        """Open lazily and check size and page count; pixels are decoded per page."""
        self.kind = kind
        self._limits = limits
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                # Pillow warns of corrupt EXIF or metadata; the pixels are still good
                warnings.simplefilter("ignore", UserWarning)
                self._image = Image.open(path)
        except Image.DecompressionBombError as e:
            raise OutOfLimits(
                "图片像素数异常巨大（超过 1.7 亿像素），可能是“解压炸弹”，已拒绝处理"
            ) from e
        except _BROKEN as e:
            raise DamagedFile(f"图片文件已损坏或不完整，无法打开（{_short(e)}）") from e
        self._count = 1
        try:
            _check_pixels(*self._image.size, limits, "图片")
            if kind == "tiff":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    self._count = int(getattr(self._image, "n_frames", 1))
        except OcrError:
            self._image.close()
            raise
        except _BROKEN as e:
            self._image.close()
            raise DamagedFile(f"TIFF 文件已损坏，无法数出页数（{_short(e)}）") from e
        if self._count > limits.max_pages:
            self._image.close()
            raise OutOfLimits("文件" + _too_many(self._count, limits))

    def __len__(self) -> int:
        """Number of pages (TIFF frames)."""
        return self._count

    def image(self, number: int, dpi: int = OCR_DPI) -> Image.Image:
        """Decode one page, apply EXIF orientation, convert to RGB, scale to ``dpi``."""
        where = f"第 {number} 页" if self._count > 1 else "图片"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                # Pillow warns of corrupt EXIF or metadata; the pixels are still good
                warnings.simplefilter("ignore", UserWarning)
                self._image.seek(number - 1)
                _check_pixels(*self._image.size, self._limits, where)
                self._image.load()
                page = to_rgb(ImageOps.exif_transpose(self._image))
        except OcrError:
            raise
        except Image.DecompressionBombError as e:
            raise OutOfLimits(f"{where}像素数异常巨大，已拒绝处理") from e
        except (*_BROKEN, MemoryError) as e:
            raise DamagedFile(f"{where}已损坏或不完整，无法解码（{_short(e)}）") from e
        if page is self._image:  # never hand out the open file's own frame
            page = page.copy()
        if dpi != OCR_DPI:
            factor = dpi / OCR_DPI
            size = (max(1, round(page.width * factor)), max(1, round(page.height * factor)))
            page = page.resize(size, Image.Resampling.LANCZOS)
        return page

    def text_layer(self, number: int) -> PageText | None:
        """Images have no text layer."""
        return None

    def close(self) -> None:
        """Close the underlying file."""
        self._image.close()


# ---------------------------------------------------------------- PDF


class PdfSource:
    """A PDF: pages rendered with pypdfium2, text layers read with pdfplumber."""

    kind = "pdf"

    def __init__(self, path: Path, limits: Limits) -> None:
        """Open with pdfium, refusing truncated, encrypted, empty and over-long files."""
        import pypdfium2 as pdfium

        self._path = path
        self._limits = limits
        self._plumber: Any = None
        self._plumber_failed = False
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 4096))
            tail = f.read()
        if b"%%EOF" not in tail:
            raise DamagedFile("PDF 文件不完整（缺少文件结尾，可能传输或扫描中断）")
        with PDFIUM_LOCK:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._doc = pdfium.PdfDocument(path)
            except pdfium.PdfiumError as e:
                raise _diagnose(path) from e
            self._count = len(self._doc)
        try:
            if self._count == 0:
                raise OutOfLimits("PDF 没有任何页面")
            if self._count > limits.max_pages:
                raise OutOfLimits("PDF " + _too_many(self._count, limits))
            self._check_page_sizes()
            _refuse_active_content(path, self._doc)
        except OcrError:
            self.close()
            raise

    def _check_page_sizes(self) -> None:
        """Refuse at open, before any rendering, a page too big or too small to be read."""
        import pypdfium2 as pdfium

        scale = OCR_DPI / PT_PER_INCH
        with PDFIUM_LOCK:
            for index in range(self._count):
                try:
                    width, height = self._doc.get_page_size(index)
                except pdfium.PdfiumError as e:
                    raise DamagedFile(f"第 {index + 1} 页已损坏，无法读取尺寸") from e
                where = (f"第 {index + 1} 页（{width / PT_PER_INCH * 2.54:.0f}×"
                         f"{height / PT_PER_INCH * 2.54:.0f} 厘米）")
                _check_pixels(pixels(width, scale), pixels(height, scale), self._limits, where)

    def __len__(self) -> int:
        """Number of pages."""
        return self._count

    def image(self, number: int, dpi: int = OCR_DPI) -> Image.Image:
        """Render one page with pdfium at ``dpi``, after checking its pixel count."""
        import pypdfium2 as pdfium

        scale = dpi / PT_PER_INCH
        with PDFIUM_LOCK:
            page = self._doc[number - 1]
            try:
                width, height = page.get_size()
                size = (pixels(width, scale), pixels(height, scale))
                where = (
                    f"第 {number} 页（{width / PT_PER_INCH * 2.54:.0f}×"
                    f"{height / PT_PER_INCH * 2.54:.0f} 厘米）"
                )
                _check_pixels(*size, self._limits, where)
                image = to_rgb(page.render(scale=scale).to_pil())
            except pdfium.PdfiumError as e:
                raise DamagedFile(f"第 {number} 页无法渲染（{_short(e)}）") from e
            finally:
                page.close()
        if image.size != size:  # pdfium rounds up a float hair above a whole pixel
            image = image.crop((0, 0, *size))
        return image

    def _open_plumber(self) -> Any:
        """pdfplumber on the same file, opened once on first use (None if it cannot)."""
        if self._plumber is None and not self._plumber_failed:
            import pdfplumber

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._plumber = pdfplumber.open(self._path)
            except Exception:  # pdfminer is stricter than pdfium: OCR the page instead
                self._plumber_failed = True
        return self._plumber

    def text_layer(self, number: int) -> PageText | None:
        """The page's own text when it has a real, visible text layer, else None."""
        pdf = self._open_plumber()
        if pdf is None:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                page = pdf.pages[number - 1]
                try:
                    return read_text_layer(page, number, OCR_DPI)
                finally:
                    page.close()
        except Exception:  # a content stream pdfminer cannot parse: OCR the rendering
            return None

    def close(self) -> None:
        """Close pdfium and pdfplumber handles."""
        if self._plumber is not None:
            self._plumber.close()
            self._plumber = None
        with PDFIUM_LOCK:
            self._doc.close()


def _diagnose(path: Path) -> DamagedFile:
    """Why pdfium refused a PDF, asked of pdfminer (pdfium's error codes can be stale)."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pdfplumber.open(path) as pdf:
                pages = len(pdf.pages)
    except Exception as e:  # pdfplumber wraps pdfminer's errors; look at the cause
        cause = e.args[0] if e.args and isinstance(e.args[0], Exception) else e.__context__
        if isinstance(cause, PDFPasswordIncorrect):
            return DamagedFile("PDF 已加密，需要密码才能打开；请提供未加密的文件")
        if isinstance(cause, PDFEncryptionError):
            return DamagedFile("PDF 已加密（加密方式不受支持），请提供未加密的文件")
        return DamagedFile("PDF 文件已损坏，无法打开")
    if pages == 0:
        return OutOfLimits("PDF 没有任何页面")
    return DamagedFile("PDF 文件已损坏，无法打开（结构错误）")


def _too_many(count: int, limits: Limits) -> str:
    """The message for a file with more pages than one letter may have."""
    return (f"有 {count} 页，超过上限 {limits.max_pages} 页（每份文件）；"
            "可能是整批来信扫成了一个文件，请按每封来信分开扫描")


# An action dictionary that runs a script or starts a program (written out, not compressed).
# Long enough that compressed image data never matches by chance.
_ACTIVE = re.compile(rb"/S\s*/(?:JavaScript|Launch)\b|/JavaScript\s*<<")


def _refuse_active_content(path: Path, doc: Any) -> None:
    """Refuse a PDF carrying JavaScript or a launch action: no scanner writes one."""
    import pypdfium2.raw as pdfium_c

    with PDFIUM_LOCK:
        found = pdfium_c.FPDFDoc_GetJavaScriptActionCount(doc.raw) > 0
    if not found:
        with path.open("rb") as f:
            tail = b""
            for chunk in iter(lambda: f.read(1 << 20), b""):
                if _ACTIVE.search(tail + chunk):
                    found = True
                    break
                tail = chunk[-64:]
    if found:
        raise UnsupportedFile(
            "PDF 中含有脚本（JavaScript）或启动程序的动作，扫描仪不会生成这样的文件，"
            "出于安全考虑不予接收；请打印后重新扫描"
        )


def _short(error: BaseException) -> str:
    """The first line of an exception message, for a one-line reason."""
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:160]


@contextmanager
def open_source(path: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[Source]:
    """Sniff and open a scan, closing it when the block ends."""
    source = open_unmanaged(path, limits)
    try:
        yield source
    finally:
        source.close()


def open_unmanaged(path: Path, limits: Limits = DEFAULT_LIMITS) -> Source:
    """Sniff and open a scan; the caller must close it."""
    path = Path(path)
    kind = sniff(path)
    if kind == "pdf":
        return PdfSource(path, limits)
    return ImageSource(path, kind, limits)
