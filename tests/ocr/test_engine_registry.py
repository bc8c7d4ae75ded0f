"""Engines by name: the default is listed, unknown names fail early, a new engine plugs in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from ocr import (
    DEFAULT_ENGINE,
    Engine,
    EngineUnavailable,
    Line,
    OcrError,
    _engine,
    engine_names,
    ocr_image,
    read_pages,
    register_engine,
)


class BoxesEverywhere:
    """A stand-in second engine (the thing under test here is the registry, not OCR)."""

    name = "boxes"

    def recognize(self, image: Image.Image) -> list[Line]:
        w, h = image.size
        return [
            Line("下", ((0, h / 2), (w, h / 2), (w, h), (0, h)), 0.5),
            Line("上", ((0, 0), (w, 0), (w, h / 3), (0, h / 3)), 0.7),
        ]


class Broken:
    name = "broken"

    def recognize(self, image: Image.Image) -> list[Line]:
        raise RuntimeError("onnxruntime exploded")


@pytest.fixture
def extra_engines() -> Iterator[None]:
    register_engine("boxes", BoxesEverywhere)
    register_engine("broken", Broken)
    yield
    for name in ("boxes", "broken"):
        _engine._REGISTRY.pop(name, None)
        _engine._LOADED.pop(name, None)


def test_default_engine_is_listed_first():
    assert DEFAULT_ENGINE == "rapidocr"
    assert engine_names()[0] == "rapidocr"


def test_unknown_engine_fails_before_any_page(tmp_path: Path):
    path = tmp_path / "blank.png"
    Image.new("L", (50, 50), 255).save(path)
    with pytest.raises(EngineUnavailable, match="no-such-engine") as caught:
        read_pages(path, engine="no-such-engine")
    assert isinstance(caught.value, OcrError)


def test_an_engine_is_a_new_class_and_one_line(extra_engines: None, tmp_path: Path):
    assert {"boxes", "broken"} <= set(engine_names())
    assert isinstance(BoxesEverywhere(), Engine)
    path = tmp_path / "blank.png"
    Image.new("L", (80, 60), 255).save(path)
    (page,) = read_pages(path, engine="boxes")
    assert page.text == "上\n下"  # reading order comes from the layout, for every engine
    assert (page.width, page.height, page.source) == (80, 60, "ocr")


def test_engine_is_built_once(extra_engines: None):
    assert _engine.get_engine("boxes") is _engine.get_engine("boxes")


def test_a_failing_engine_becomes_an_ocr_error(extra_engines: None):
    with pytest.raises(OcrError, match="第 3 页.*onnxruntime exploded"):
        ocr_image(Image.new("RGB", (10, 10)), engine="broken", number=3)


def test_an_engine_that_cannot_load(tmp_path: Path):
    def missing_models() -> Engine:
        raise FileNotFoundError("model.onnx")

    register_engine("missing", missing_models)
    try:
        with pytest.raises(EngineUnavailable, match="missing.*model.onnx"):
            ocr_image(Image.new("RGB", (10, 10)), engine="missing")
    finally:
        _engine._REGISTRY.pop("missing", None)


class Counting:
    """Counts the pages it is asked to read."""

    name = "counting"
    calls = 0

    def recognize(self, image: Image.Image) -> list[Line]:
        Counting.calls += 1
        return []


def test_pages_are_read_lazily_one_at_a_time(tmp_path: Path):
    from ocr import synthetic

    path = synthetic.save_tiff([Image.new("L", (40, 40), 255)] * 3, tmp_path / "three.tif")
    register_engine("counting", Counting)
    try:
        Counting.calls = 0
        pages = read_pages(path, engine="counting")
        assert Counting.calls == 0  # nothing is read until asked for
        assert next(pages).number == 1
        assert Counting.calls == 1
        pages.close()  # an abandoned job releases the file
        assert [p.number for p in read_pages(path, engine="counting", first=2)] == [2, 3]
        assert Counting.calls == 3
    finally:
        _engine._REGISTRY.pop("counting", None)
        _engine._LOADED.pop("counting", None)
