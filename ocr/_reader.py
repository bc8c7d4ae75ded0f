"""Pages in, text out: the reading loop shared by every file type and engine."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from PIL import Image

from ._engine import DEFAULT_ENGINE, engine_names, get_engine
from ._errors import EngineUnavailable, OcrError
from ._layout import reading_order
from ._loaders import DEFAULT_LIMITS, OCR_DPI, Limits, Source, open_source, open_unmanaged
from ._script import unify_script
from ._types import Line, PageText


def count_pages(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> int:
    """How many pages a scan has, checking it can be opened at all."""
    with open_source(Path(path), limits) as source:
        return len(source)


def _check_engine(name: str) -> str:
    """Fail early, before any page is read, on an engine name that does not exist."""
    if name not in engine_names():
        known = "、".join(engine_names()) or "无"
        raise EngineUnavailable(f"没有名为 {name!r} 的 OCR 引擎（可用：{known}）")
    return name


# A page whose characters average below this confidence may be upside down: try it turned.
DOUBTFUL_SCORE = 0.8
# The turned reading must carry this much more confident text to be believed.
TURN_MARGIN = 1.5


def _evidence(fragments: list[Line]) -> float:
    """Confidence-weighted character count: how much believable text was found."""
    return sum(f.score * len(f.text) for f in fragments)


def _doubtful(fragments: list[Line]) -> bool:
    """Some text was found, but read with low confidence (as an upside-down page is)."""
    chars = sum(len(f.text) for f in fragments)
    return chars > 0 and _evidence(fragments) / chars < DOUBTFUL_SCORE


def _turn_back(line: Line, width: int, height: int) -> Line:
    """A line read on the page turned 180 degrees, with its box on the page as scanned."""
    box = tuple((width - x, height - y) for x, y in line.box)
    return Line(text=line.text, box=box, score=line.score)


def ocr_image(image: Image.Image, *, engine: str | None = None, number: int = 1) -> PageText:
    """OCR one page image into a PageText in reading order (turning it if upside down)."""
    name = engine or DEFAULT_ENGINE
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    try:
        ocr_engine = get_engine(name)
        fragments = ocr_engine.recognize(rgb)
        rotation = 0
        if _doubtful(fragments):
            turned = ocr_engine.recognize(rgb.rotate(180))
            if _evidence(turned) > TURN_MARGIN * _evidence(fragments):
                fragments, rotation = turned, 180
    except OcrError:
        raise
    except Exception as e:  # the engine's runtime failing on this page
        reason = (str(e).strip().splitlines() or [""])[0][:200]
        raise OcrError(f"第 {number} 页文字识别失败（{name}：{type(e).__name__}: {reason}）") from e
    lines = unify_script(reading_order(fragments))
    if rotation:
        lines = tuple(_turn_back(line, rgb.width, rgb.height) for line in lines)
    return PageText(
        number=number,
        width=rgb.width,
        height=rgb.height,
        lines=lines,
        source="ocr",
        rotation=rotation,
    )


def _pages(source: Source, engine: str, first: int) -> Generator[PageText, None, None]:
    """Yield pages from ``first`` on, closing the file when done or abandoned."""
    try:
        for number in range(first, len(source) + 1):
            page = source.text_layer(number)
            if page is None:
                image = source.image(number, OCR_DPI)
                try:
                    page = ocr_image(image, engine=engine, number=number)
                finally:
                    image.close()
            yield page
    finally:
        source.close()


def read_pages(
    path: Path,
    *,
    engine: str | None = None,
    first: int = 1,
    limits: Limits = DEFAULT_LIMITS,
) -> Generator[PageText, None, None]:
    """Read a scan page by page (lazily, bounded memory); ``first`` resumes a stopped job.

    Whole-file problems (not a scan, damaged, too many pages, unknown engine) are raised
    here, at the call; a page that fails later is raised when it is reached.
    """
    if first < 1:
        raise ValueError(f"first must be 1 or more, not {first}")
    name = _check_engine(engine or DEFAULT_ENGINE)
    source = open_unmanaged(Path(path), limits)
    return _pages(source, name, first)


def render_page(
    path: Path, number: int, *, dpi: int = OCR_DPI, limits: Limits = DEFAULT_LIMITS
) -> Image.Image:
    """The page as an upright RGB image, for thumbnails and for checking OCR by eye.

    PDF pages are rendered at ``dpi``. An image file's own pixels count as OCR_DPI, so
    the default returns the scan as it is and PageText boxes line up with it either way.
    """
    if dpi < 1:
        raise ValueError(f"dpi must be positive, not {dpi}")
    with open_source(Path(path), limits) as source:
        if not 1 <= number <= len(source):
            raise ValueError(f"page {number} does not exist; the file has {len(source)} pages")
        return source.image(number, dpi)
