"""Fuzzing the file-type sniffing and the loaders: whatever bytes a scanner, a clerk or an
attacker hands over, Huiyin either gets pages or raises its own OcrError — never another
exception, never a hang."""

from __future__ import annotations

import io
import tempfile
import time
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

import ocr
from tests.fuzz.runs import count, fuzz_settings

SECONDS_PER_FILE = 20.0  # far above any honest small file: more means a hang
# Outside pytest a Pillow warning about corrupt metadata is printed, not raised: it may not
# fail the fuzzing (a file left open, or anything else, does).
TOLERATED = pytest.mark.filterwarnings("ignore::UserWarning")


@cache
def seeds() -> dict[str, bytes]:
    """Small real files of every kind the loaders take (and a text-layer PDF)."""
    image = Image.new("RGB", (64, 48), "white")
    for x in range(10, 50):
        image.putpixel((x, 20), (0, 0, 0))
    found = {}
    for kind, options in (("png", {}), ("jpeg", {"quality": 80}), ("tiff", {}),
                          ("pdf", {"resolution": 72.0})):
        buffer = io.BytesIO()
        image.save(buffer, format=kind.upper(), **options)
        found[kind] = buffer.getvalue()
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="TIFF", save_all=True,
                            append_images=[image.convert("1")], compression="tiff_lzw")
    found["tiff-2-pages"] = buffer.getvalue()
    return found


def read_everything(data: bytes) -> int:
    """Sniff, count pages and render the first ones at a low resolution; return the pages."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scan.bin"
        path.write_bytes(data)
        started = time.monotonic()
        try:
            ocr.sniff(path)
            pages = ocr.count_pages(path)
            for number in range(1, min(pages, 2) + 1):
                ocr.render_page(path, number, dpi=36)
        except ocr.OcrError as e:
            assert str(e).strip(), "an OcrError without a message"
            pages = -1
        elapsed = time.monotonic() - started
        assert elapsed < SECONDS_PER_FILE, f"{elapsed:.1f} s for {len(data)} bytes"
        return pages


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real file with bytes flipped, cut, inserted or its header kept and the rest garbage."""
    data = bytearray(seeds()[draw(st.sampled_from(sorted(seeds())))])
    how = draw(st.sampled_from(("flip", "truncate", "insert", "header", "splice")))
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif how == "truncate":
        del data[draw(st.integers(0, len(data) - 1)):]
    elif how == "insert":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=64))
    elif how == "header":
        keep = draw(st.integers(1, 64))
        data = data[:keep] + bytearray(draw(st.binary(max_size=512)))
    else:  # a size or count field in the header set to something huge or negative
        at = draw(st.integers(0, min(len(data) - 4, 200)))
        data[at:at + 4] = draw(st.sampled_from((b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff",
                                                b"\x00\x00\x00\x00", b"\x80\x00\x00\x00")))
    return bytes(data)


def flipped(kind: str, at: int, value: int) -> bytes:
    data = bytearray(seeds()[kind])
    data[at] = value
    return bytes(data)


@TOLERATED
@pytest.mark.parametrize("kind, at, value", [("tiff", 8, 0xFF), ("tiff-2-pages", 312, 0x10)],
                         ids=["missing-dimensions", "bad-tag-offset"])
def test_broken_tiff_tags_are_a_damaged_file(kind: str, at: int, value: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scan.tif"
        path.write_bytes(flipped(kind, at, value))
        with pytest.raises(ocr.DamagedFile):
            ocr.count_pages(path)
            ocr.render_page(path, 1, dpi=36)


def test_the_seeds_are_read() -> None:
    """Unchanged, every seed gives pages (so the fuzzing starts from files that work)."""
    for kind, data in seeds().items():
        assert read_everything(data) >= 1, kind


@pytest.mark.soak
@TOLERATED
@fuzz_settings(quick=400, soak=40_000)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data: bytes) -> None:
    count("ocr: arbitrary bytes")
    read_everything(data)


@pytest.mark.soak
@TOLERATED
@fuzz_settings(quick=200, soak=20_000)
@given(st.sampled_from([b"%PDF-1.4\n", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", b"\x89PNG\r\n\x1a\n",
                        b"II*\x00", b"MM\x00*", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb",
                        b"PK\x03\x04", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP"]),
       st.binary(max_size=2048))
def test_magic_numbers_with_garbage_after(magic: bytes, rest: bytes) -> None:
    count("ocr: magic number + garbage")
    read_everything(magic + rest)


@pytest.mark.soak
@TOLERATED
@fuzz_settings(quick=600, soak=60_000)
@given(mutated())
def test_mutated_real_files(data: bytes) -> None:
    count("ocr: mutated real PNG/JPEG/TIFF/PDF")
    read_everything(data)
