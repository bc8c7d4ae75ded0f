"""Page images: PNGs the size of a screen, rendered as the OCR saw the page, boxes on the ink."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from records import Letter, Page, intake, sha256_file
from web.services.instance import Instance
from web.services.page_images import MAX_WIDTH, PageImageError, cache_dir, page_image

pytestmark = pytest.mark.slow  # uses the session's OCR'd instance


def _letter_of(instance: Instance, suffix: str) -> tuple[int, list[dict]]:  # type: ignore[type-arg]
    with instance.db.session() as session:
        letter = session.scalars(select(Letter).where(Letter.source_name.endswith(suffix))).one()
        page = session.scalars(select(Page).where(Page.letter_id == letter.id,
                                                  Page.number == 1)).one()
        return letter.id, list(page.lines)


@pytest.mark.parametrize("suffix", [".pdf", ".jpg", ".png"])
def test_page_png_with_boxes_on_the_written_lines(ingested: Path, suffix: str) -> None:
    with Instance(ingested) as instance:
        letter_id, lines = _letter_of(instance, suffix)
        image = page_image(instance, letter_id, 1)
        assert image.path.parent == cache_dir(instance)
        assert image.width <= MAX_WIDTH
        assert image.scale == pytest.approx(image.width / image.page_width)
        assert image.height == pytest.approx(image.page_height * image.scale, abs=1)
        assert lines
        with Image.open(image.path) as png:
            assert png.format == "PNG" and png.size == (image.width, image.height)
            grey = png.convert("L")
        for line in lines:
            xs = [x * image.scale for x, _ in line["box"]]
            ys = [y * image.scale for _, y in line["box"]]
            assert 0 <= min(xs) and max(xs) <= image.width
            assert 0 <= min(ys) and max(ys) <= image.height
            # the box sits on ink: written strokes are dark, the paper around them is not
            inside = grey.crop((round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))))
            assert inside.getextrema()[0] < 100, line["text"]
        # cached: the second request reads the same file without drawing it again
        stamp = image.path.stat().st_mtime_ns
        assert page_image(instance, letter_id, 1) == image
        assert image.path.stat().st_mtime_ns == stamp


def test_pages_that_do_not_exist(ingested: Path) -> None:
    with Instance(ingested) as instance:
        letter_id, _ = _letter_of(instance, ".jpg")
        with pytest.raises(PageImageError, match="第 2 页不存在"):
            page_image(instance, letter_id, 2)
        with pytest.raises(PageImageError, match="没有编号"):
            page_image(instance, 10_000, 1)


def _bomb(path: Path) -> Path:
    """A PNG whose header claims 20000 × 20000 pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b""))
    return path


def test_a_decompression_bomb_is_refused(instance: Instance, tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.png")
    sha = sha256_file(bomb)
    instance.blobs.put(bomb, sha)
    with instance.db.session() as session:
        letter = intake.register_letter(session, sha256=sha, source_name="bomb.png",
                                        media_type="image/png", size_bytes=bomb.stat().st_size,
                                        received_on=instance.today(), actor="test")
        letter_id = letter.id
    with pytest.raises(PageImageError, match="像素"):
        page_image(instance, letter_id, 1)
    assert not list(cache_dir(instance).glob("*.png")) if cache_dir(instance).exists() else True
