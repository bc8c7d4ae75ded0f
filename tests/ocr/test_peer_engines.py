"""The peers behind the same interface: native PaddleOCR (optional extra) and Tesseract."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator

import pytest
from PIL import Image

from ocr import EngineUnavailable, _engine, character_error_rate, get_engine, ocr_image
from ocr._rapid import DEFAULTS, parse_settings

HAS_PADDLE = importlib.util.find_spec("paddleocr") is not None
HAS_TESSERACT = shutil.which("tesseract") is not None


@pytest.fixture
def paddle_absent(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(
        _engine._REGISTRY, "paddle", _engine._Entry("ocr._paddle:PaddleOcrEngine", "no_such_mod")
    )
    monkeypatch.delitem(_engine._LOADED, "paddle", raising=False)
    yield


def test_paddle_without_the_extra_says_how_to_install_it(paddle_absent: None):
    with pytest.raises(EngineUnavailable, match=r"pip install 'huiyin\[paddle\]'"):
        get_engine("paddle")


def test_settings_are_parsed_and_checked():
    assert parse_settings("") == DEFAULTS
    changed = parse_settings("det_limit_side=1600, use_cls=true,det_box_thresh=0.4")
    assert (changed.det_limit_side, changed.use_cls, changed.det_box_thresh) == (1600, True, 0.4)
    with pytest.raises(EngineUnavailable, match="no_such"):
        parse_settings("no_such=1")


@pytest.mark.slow
@pytest.mark.skipif(not HAS_PADDLE, reason="paddleocr not installed (pip install 'huiyin[paddle]')")
def test_native_paddle_reads_a_line(written: dict[str, tuple[str, ...]], strip: Image.Image):
    page = ocr_image(strip, engine="paddle")
    assert character_error_rate("".join(written["strip"]), page.text) <= 0.1, page.text


@pytest.mark.slow
@pytest.mark.skipif(not HAS_TESSERACT, reason="tesseract-ocr is not installed")
def test_tesseract_runs_behind_the_same_interface(strip: Image.Image):
    page = ocr_image(strip, engine="tesseract")
    assert page.source == "ocr"
    assert all(0.0 <= line.score <= 1.0 for line in page.lines)
