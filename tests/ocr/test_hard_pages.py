"""Pages clerks will be sent: sideways, photographed, 600 dpi, fax, and 300 of them at once."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocr import (
    Line,
    _engine,
    character_error_rate,
    read_pages,
    register_engine,
    shutdown_workers,
    synthetic,
)

CER = 0.05
Written = dict[str, tuple[str, ...]]


def cer(reference: tuple[str, ...], text: str) -> float:
    return character_error_rate("".join(reference), text)


@pytest.mark.slow
@pytest.mark.parametrize("turn", [90, 270])
def test_a_page_scanned_sideways_is_turned(
    written: Written, tmp_path: Path, page_one: Image.Image, turn: int
):
    path = tmp_path / f"sideways-{turn}.png"
    page_one.rotate(-turn, expand=True).save(path)  # landscape, text running down
    (page,) = read_pages(path)
    assert page.rotation == 360 - turn  # turned back the other way to be read
    assert (page.width, page.height) == (page_one.height, page_one.width)
    assert cer(written["page_one"], page.text) <= CER, page.text
    for line in page.lines:  # boxes on the page as scanned: tall, inside it
        left, top, right, bottom = line.bounds
        assert bottom - top > right - left
        assert 0 <= left and right <= page.width + 2 and bottom <= page.height + 2


def _perspective(image: Image.Image) -> Image.Image:
    """The page as a phone sees it from above and to one side, on a dark table."""
    w, h = image.size
    table = Image.new("RGB", (w, h), (70, 60, 50))
    # output pixel (x, y) samples the page at (a x + b y + c) / (g x + h y + 1), ...
    coeffs = (1.08, 0.06, -60.0, 0.02, 1.07, -50.0, 0.00004, 0.00002)
    warped = image.transform((w, h), Image.Transform.PERSPECTIVE, coeffs, fillcolor=(70, 60, 50))
    table.paste(warped)
    return table


@pytest.mark.slow
def test_phone_photo_in_perspective(written: Written, tmp_path: Path, page_one: Image.Image):
    path = tmp_path / "photo.jpg"
    _perspective(page_one).save(path, quality=85)
    (page,) = read_pages(path)
    assert cer(written["page_one"], page.text) <= CER, page.text


@pytest.mark.slow
def test_600_dpi_scan(written: Written, tmp_path: Path):
    path = tmp_path / "fine.png"
    synthetic.render_scan(written["page_one"], seed=21, dpi=600).save(path, dpi=(600, 600))
    (page,) = read_pages(path)
    assert page.width > 4900
    assert cer(written["page_one"], page.text) <= CER, page.text
    assert max(line.bounds[2] for line in page.lines) > 0.5 * page.width  # page pixels


@pytest.mark.slow
def test_one_bit_fax_tiff(written: Written, tmp_path: Path, page_one: Image.Image):
    path = tmp_path / "fax.tif"
    grey = page_one.convert("L").resize((page_one.width, page_one.height // 2))
    fax = grey.resize(page_one.size).point(lambda v: 255 if v > 140 else 0).convert("1")
    fax.save(path, compression="group4")
    (page,) = read_pages(path)
    assert cer(written["page_one"], page.text) <= 0.10, page.text


def test_blank_page_yields_a_page_without_lines(tmp_path: Path):
    path = tmp_path / "blank.png"
    Image.new("L", (1654, 2339), 255).save(path)
    (page,) = read_pages(path)
    assert page.lines == () and page.text == ""


class Numbered:
    """A stand-in engine that 'reads' each page as its mean grey level, instantly."""

    name = "numbered"

    def recognize(self, image: Image.Image) -> list[Line]:
        level = int(np.asarray(image.convert("L")).mean())
        return [Line(str(level), ((0, 0), (10, 0), (10, 10), (0, 10)), 1.0)]


@pytest.fixture
def numbered() -> Iterator[str]:
    register_engine("numbered", Numbered)
    yield "numbered"
    _engine._REGISTRY.pop("numbered", None)
    _engine._LOADED.pop("numbered", None)


@pytest.mark.slow
def test_a_300_page_pdf_is_read_in_order_with_bounded_memory(tmp_path: Path, numbered: str):
    pages = [Image.new("L", (1654, 2339), 255 - n % 200) for n in range(300)]
    path = synthetic.save_pdf(pages, tmp_path / "long.pdf")
    del pages
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seen = [page.number for page in read_pages(path, engine=numbered)]
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert seen == list(range(1, 301))
    assert grown_mb < 150  # a few pages at a time, never the file


@pytest.mark.slow
def test_worker_processes_give_the_same_pages_in_order(
    tmp_path: Path, page_one: Image.Image, strip: Image.Image
):
    images = [strip, page_one, strip, strip]
    path = synthetic.save_pdf(images, tmp_path / "four.pdf")
    here = [p.text for p in read_pages(path, workers=1)]
    pooled = list(read_pages(path, workers=2))
    assert [p.number for p in pooled] == [1, 2, 3, 4]
    assert [p.text for p in pooled] == here
    resumed = list(read_pages(path, workers=2, first=3))
    assert [p.number for p in resumed] == [3, 4]
    stopped = read_pages(path, workers=2)
    assert next(stopped).number == 1
    stopped.close()  # abandoning the generator cancels the pages read ahead
    shutdown_workers()


def test_workers_must_be_positive(tmp_path: Path):
    path = tmp_path / "blank.png"
    Image.new("L", (100, 100), 255).save(path)
    with pytest.raises(ValueError, match="workers"):
        read_pages(path, workers=0)


CHILD = """
import sys, time
from pathlib import Path
import ocr
from ocr import _parallel
pages = ocr.read_pages(Path(sys.argv[1]), workers=2)
next(pages)
(executor,) = _parallel._POOLS.values()
print(" ".join(str(pid) for pid in executor._processes), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_workers_leave_when_their_parent_is_killed(tmp_path: Path, strip: Image.Image):
    import subprocess
    import sys
    import time

    path = synthetic.save_pdf([strip, strip, strip], tmp_path / "three.pdf")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        workers = [int(pid) for pid in child.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


@pytest.mark.slow
def test_a_worker_that_dies_is_an_ocr_error_and_the_next_file_reads(
    tmp_path: Path, strip: Image.Image
):
    import os
    import signal

    from ocr import OcrError, _parallel

    path = synthetic.save_pdf([strip] * 10, tmp_path / "ten.pdf")  # more than read ahead
    pages = read_pages(path, workers=2)
    assert next(pages).number == 1
    (executor,) = [e for key, e in _parallel._POOLS.items() if key[1] == 2]
    for pid in list(executor._processes):
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(OcrError, match="工作进程"):
        list(pages)
    assert [p.number for p in read_pages(path, workers=2)] == list(range(1, 11))
    shutdown_workers()
