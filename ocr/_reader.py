"""Pages in, text out: the reading loop shared by every file type and engine."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

from PIL import Image

from ._columns import is_tall
from ._engine import (
    DEFAULT_ENGINE,
    engine_names,
    get_engine,
    spawnable,
    unavailable_message,
)
from ._errors import EngineUnavailable, OcrError
from ._layout import LINE_ASPECT, column_order, reading_order
from ._loaders import DEFAULT_LIMITS, OCR_DPI, Limits, open_source, open_unmanaged
from ._parallel import default_workers, parallel_pages
from ._photo import flatten
from ._script import unify_script
from ._types import Line, PageText


def count_pages(path: Path, *, limits: Limits = DEFAULT_LIMITS) -> int:
    """How many pages a scan has, checking it can be opened at all."""
    with open_source(Path(path), limits) as source:
        return len(source)


def _check_engine(name: str) -> str:
    """Fail early, before any page is read, on an engine name that does not exist."""
    if name not in engine_names():
        raise EngineUnavailable(unavailable_message(name))
    return name


# A page whose characters average below this confidence may be upside down: try it turned.
DOUBTFUL_SCORE = 0.8
# The turned reading must carry this much more confident text to be believed.
TURN_MARGIN = 1.5
# ... or, for a page whose lines run down it, at least this share of it.
SIDEWAYS_MARGIN = 0.8


def _evidence(fragments: list[Line]) -> float:
    """Confidence-weighted character count: how much believable text was found."""
    return sum(f.score * len(f.text) for f in fragments)


def _doubtful(fragments: list[Line]) -> bool:
    """Some text was found, but read with low confidence (as an upside-down page is)."""
    chars = sum(len(f.text) for f in fragments)
    return chars > 0 and _evidence(fragments) / chars < DOUBTFUL_SCORE


def _turn_back(line: Line, width: int, height: int, rotation: int) -> Line:
    """A line read on the page turned ``rotation`` degrees clockwise, boxed on the scan."""

    def back(x: float, y: float) -> tuple[float, float]:
        if rotation == 180:
            return width - x, height - y
        if rotation == 90:  # turned clockwise: the scan's (x, y) went to (height - y, x)
            return y, height - x
        return width - y, x  # 270

    return replace(line, box=tuple(back(x, y) for x, y in line.box))


def _sideways(fragments: list[Line]) -> bool:
    """Most of the text sits in boxes taller than wide: lines running down the page."""
    tall = wide = 0
    for f in fragments:
        left, top, right, bottom = f.bounds
        if bottom - top > 1.5 * (right - left):
            tall += len(f.text)
        else:
            wide += len(f.text)
    return tall > wide


def _upright(engine: object, image: Image.Image, fragments: list[Line]) -> list[Line] | None:
    """The page's tall boxes read as columns of vertical writing, each column as it reads
    best (upright or sideways), or None when reading them upright is no more believable.

    Vertical writing and a page scanned sideways both give tall boxes; the upright reading
    is kept only if it nearly matches the sideways one here and, in :func:`ocr_image`, is not
    far beaten by the page turned either way (measured: 144 against 126 / 114 on a grid page
    in columns; 18 against 347 / 343 on a ruled page scanned sideways). A clean hand reads
    as well lying on its side as upright: there only the upright reading tells them apart.
    """
    read_upright = getattr(engine, "read_upright", None)
    if read_upright is None:
        return None
    upright: list[Line] = read_upright(image, fragments)
    if _evidence(upright) < UPRIGHT_MARGIN * _evidence(fragments):
        return None
    # Characters lying on their side (a page scanned sideways) read better turned upright.
    for turn in (1, -1):
        if _evidence(read_upright(image, fragments, turn)) > _evidence(upright):
            return None
    pairs = zip(upright, fragments, strict=True)
    return [max(a, b, key=lambda f: _evidence([f])) for a, b in pairs]


# Tall boxes read upright must carry this share of the sideways reading's evidence to be
# taken for columns at all (a page scanned sideways: 3-11%).
UPRIGHT_MARGIN = 0.7
# A page read as columns unless turned it reads this much more believably (the recogniser
# reads a clean hand's characters lying on their side too; handwriting it does not).
COLUMNS_MARGIN = 1.5
# Tall boxes the recogniser read with less confidence than this (sideways) are dropped unless
# they read better upright (rapidocr's own cut-off, applied once the columns are known).
DROP_BELOW = 0.5
# A tall box on a page written across must read as this many characters upright to be taken
# for a note written down the margin.
NOTE_CHARS = 3


def _notes(engine: object, image: Image.Image, fragments: list[Line]) -> list[Line] | None:
    """On a page written across, tall boxes that read better upright: a note written down
    the margin, read as a column (None when there is none)."""
    read_upright = getattr(engine, "read_upright", None)
    tall = [f for f in fragments if is_tall(f)]
    if read_upright is None or not tall:
        return None
    upright: list[Line] = read_upright(image, tall)
    notes = {
        id(f): u
        for f, u in zip(tall, upright, strict=True)
        if len(u.text) >= NOTE_CHARS and _evidence([u]) > _evidence([f])
    }
    if not notes:
        return None
    return [notes.get(id(f), f) for f in fragments]


def _turns(fragments: list[Line]) -> tuple[int, ...]:
    """Which turns (degrees clockwise) are worth trying on a page read like this."""
    if _sideways(fragments):
        return (90, 270)
    if _doubtful(fragments):
        return (180,)
    return ()


def ocr_image(image: Image.Image, *, engine: str | None = None, number: int = 1) -> PageText:
    """OCR one page image into a PageText in reading order (turning it if upside down,
    reading columns right to left, flattening a photographed sheet)."""
    name = engine or DEFAULT_ENGINE
    photo = image if image.mode == "RGB" else image.convert("RGB")
    flat = None if photo.width >= LINE_ASPECT * photo.height else flatten(photo)
    rgb = flat.image if flat is not None else photo
    try:
        ocr_engine = get_engine(name)
        fragments = ocr_engine.recognize(rgb)
        rotation = 0
        notes: list[Line] | None = None
        sideways = _sideways(fragments)
        columns = _upright(ocr_engine, rgb, fragments) if sideways else None
        # A page whose lines run down it is read turned if that reads nearly as well (the
        # recogniser reads sideways crops too, but the lines come out in the wrong order);
        # an upright page only if the turned reading is far more believable.
        best = _evidence(fragments) * (SIDEWAYS_MARGIN if sideways else TURN_MARGIN)
        best_turned = 0.0
        for turn in _turns(fragments):
            # Image.rotate turns counter-clockwise: -turn is ``turn`` degrees clockwise.
            turned = ocr_engine.recognize(rgb.rotate(-turn, expand=True))
            best_turned = max(best_turned, _evidence(turned))
            if _evidence(turned) > best and not _sideways(turned):
                fragments, rotation, best = turned, turn, _evidence(turned)
        if columns is not None and COLUMNS_MARGIN * _evidence(columns) > best_turned:
            fragments, rotation = columns, 0
        elif rotation == 0 and rgb.width < LINE_ASPECT * rgb.height:
            columns = None
            notes = _notes(ocr_engine, rgb, fragments)
        else:
            columns = None
        fragments = [f for f in (notes or fragments) if f.score >= DROP_BELOW or not is_tall(f)]
    except OcrError:
        raise
    except Exception as e:  # the engine's runtime failing on this page
        reason = (str(e).strip().splitlines() or [""])[0][:200]
        raise OcrError(f"第 {number} 页文字识别失败（{name}：{type(e).__name__}: {reason}）") from e
    size = (rgb.height, rgb.width) if rotation in (90, 270) else rgb.size
    if columns is not None:
        lines = unify_script(column_order(fragments, [is_tall(f) for f in fragments]))
    elif notes is not None:  # the body across the page first, then the notes, right to left
        tall = [f for f in fragments if is_tall(f)]
        body = reading_order([f for f in fragments if not is_tall(f)])
        lines = unify_script(body + column_order(tall, [True] * len(tall)))
    else:
        lines = unify_script(reading_order(fragments, size=size))
    if rotation:
        lines = tuple(_turn_back(line, rgb.width, rgb.height, rotation) for line in lines)
    if flat is not None:  # boxes back onto the photo as taken
        lines = tuple(replace(line, box=tuple(flat.point(x, y) for x, y in line.box))
                      for line in lines)
    return PageText(
        number=number,
        width=photo.width,
        height=photo.height,
        lines=lines,
        source="ocr",
        rotation=rotation,
    )


def _pages(path: Path, limits: Limits, engine: str, first: int) -> Generator[PageText, None, None]:
    """Yield pages from ``first`` on, opening the file when the first page is asked for
    and closing it when done or abandoned."""
    source = open_unmanaged(path, limits)
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
    workers: int | None = None,
) -> Generator[PageText, None, None]:
    """Read a scan page by page, in order (bounded memory); ``first`` resumes a stopped job.

    ``workers`` processes read ahead in parallel, each loading the model once and kept for
    later files (None: one per core, at most 4; 1: read here, one page at a time). An
    engine registered at run time is always read here, where it was registered.
    Whole-file problems (not a scan, damaged, too many pages, unknown engine) are raised
    here, at the call; a page that fails later is raised when it is reached.
    """
    if first < 1:
        raise ValueError(f"first must be 1 or more, not {first}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be 1 or more, not {workers}")
    name = _check_engine(engine or DEFAULT_ENGINE)
    path = Path(path)
    with open_source(path, limits) as source:  # whole-file problems surface here, now
        count = len(source)
    wanted = default_workers() if workers is None else workers
    wanted = min(wanted, max(count - first + 1, 1))
    if wanted <= 1 or not spawnable(name):
        return _pages(path, limits, name, first)
    return parallel_pages(path, count, name, first, wanted, limits)


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
