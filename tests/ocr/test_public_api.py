"""The public face of ocr is what the rest of Huiyin is written against."""

from __future__ import annotations

import subprocess
import sys

import ocr

PROMISED = {
    "OcrError",
    "UnsupportedFile",
    "DamagedFile",
    "Line",
    "PageText",
    "sniff",
    "count_pages",
    "read_pages",
    "render_page",
    "engine_names",
    "DEFAULT_ENGINE",
    "character_error_rate",
}


def test_promised_names_are_exported():
    assert PROMISED <= set(ocr.__all__)
    for name in ocr.__all__:
        assert hasattr(ocr, name), name


def test_all_is_exactly_the_public_names():
    public = {n for n in vars(ocr) if not n.startswith("_")}
    modules = {"synthetic", "fields", "paper"}  # public submodules, imported on their own
    assert public - modules - {"annotations"} == set(ocr.__all__)


def test_error_tree():
    assert issubclass(ocr.UnsupportedFile, ocr.OcrError)
    assert issubclass(ocr.DamagedFile, ocr.OcrError)
    assert issubclass(ocr.EngineUnavailable, ocr.OcrError)


def test_page_text_joins_lines():
    box = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    page = ocr.PageText(1, 10, 10, (ocr.Line("一", box, 1.0), ocr.Line("二", box, 0.5)), "ocr")
    assert page.text == "一\n二"
    assert ocr.PageText(2, 10, 10, (), "ocr").text == ""


def test_importing_ocr_stays_light_and_keeps_to_itself():
    code = (
        "import sys, ocr, ocr.synthetic;"
        "bad = {'flask', 'records', 'search', 'letters', 'web', 'rapidocr', 'onnxruntime'};"
        "print(sorted(bad & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
