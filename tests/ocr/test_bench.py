"""`huiyin bench ocr` on a tiny eval set drawn here, in the format of ../shared/eval/ocr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from ocr import synthetic

pytestmark = pytest.mark.slow


@pytest.fixture
def tiny_set(tmp_path: Path, strip: Image.Image, page_one: Image.Image) -> Path:
    data = tmp_path / "eval"
    (data / "real").mkdir(parents=True)
    (data / "pages").mkdir()
    line = synthetic.render_scan(["石桥镇枣树营村"], seed=5).crop((0, 150, 1000, 260))
    line.save(data / "real/l1.png")
    (data / "real/labels.tsv").write_text(
        "file\ttext\tsubset\tscript\tlabel_source\nl1.png\t石桥镇枣树营村\tdrawn\tsimp\tdrawn\n",
        encoding="utf-8",
    )
    page_one.save(data / "pages/p1.png")
    (data / "pages/p1.txt").write_text("尊敬的县信访局领导：", encoding="utf-8")
    manifest = [{"image": "p1.png", "text": "p1.txt", "kind": "clean"}]
    (data / "pages/manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return data


def test_bench_ocr_json_has_the_documented_shape(tiny_set: Path):
    from web.bench import bench

    result = CliRunner().invoke(
        bench, ["ocr", "--data", str(tiny_set), "--engine", "rapidocr", "--batch", "0", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    engine = report["engines"]["rapidocr"]
    composed = {f"page_{name}" for name in engine["composed_pages"]}
    assert composed >= {"page_grid", "page_ruled", "page_vertical", "page_grid_photo"}
    assert set(engine["cer"]) == {"real", "real_simp", "synthetic", "synthetic_clean"} | composed
    assert engine["cer"]["real"] <= 0.2
    # The drawn line composed onto grid paper is found and read.
    assert engine["composed_pages"]["grid"]["lines_found"] == "1/1"
    assert engine["cer"]["page_grid"] <= 0.3
    marks = engine["doubt_marks"]
    assert {"real", "real_half_A", "page_grid"} <= set(marks)
    assert marks["real"]["characters"] == 7
    # Misreadings split by kind, each "marked/all" (substitution, insertion, deletion).
    assert set(marks["real"]["by_kind"]) <= {"substitution", "insertion", "deletion"}
    assert engine["s_per_page"] > 0 and engine["rss_mb"] > 0 and engine["cold_start_s"] > 0
    assert report["fields"]["id_numbers"]["precision"] >= 0.98
    # The real lines again, each crop also read in variants: lines only, their own threshold.
    variants = engine["real_variants"]
    assert variants["settings"].startswith("variants=")
    assert set(variants["cer"]) == {"real", "real_simp"}
    assert variants["doubt_below"] == 0.81 and variants["composed_pages"] == {}
    assert variants["doubt_marks"]["real"]["characters"] == 7


def test_bench_ocr_refuses_a_folder_without_an_eval_set(tmp_path: Path):
    from web.bench import bench

    result = CliRunner().invoke(bench, ["ocr", "--data", str(tmp_path)])
    assert result.exit_code != 0
    assert "no OCR eval set" in result.output
