"""The command line of DESIGN.md, end to end on the real parts: OCR model, SQLite, Whoosh."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import docx
import pytest

from tests.web.conftest import Scan, run, run_json

pytestmark = pytest.mark.slow


def test_ingest_reports_one_record_per_file(ingested: Path, scans: list[Scan]) -> None:
    listing = run_json(ingested, "search", scans[0].name)
    assert listing["total"] >= 1
    report = run_json(ingested, "check")
    assert report["ok"] and report["letters"] == len(scans)


def test_the_same_files_again_are_duplicates_and_store_nothing(ingested: Path,
                                                               scans: list[Scan]) -> None:
    blobs_before = sorted((ingested / "blobs").rglob("*"))
    document = run_json(ingested, "ingest", *(str(s.path) for s in scans))
    results = document["results"]
    assert [r["file"] for r in results] == [str(s.path) for s in scans]
    assert all(r["letter_id"] is None and r["duplicate_of"] and r["error"] is None
               for r in results)
    assert sorted((ingested / "blobs").rglob("*")) == blobs_before


@pytest.mark.parametrize("which", [0, 1, 2])
def test_search_finds_a_letter_by_part_of_the_name_and_by_phone(
    ingested: Path, scans: list[Scan], which: int
) -> None:
    scan = scans[which]
    by_name = run_json(ingested, "search", scan.name[:2])
    by_phone = run_json(ingested, "search", scan.phone)
    assert by_name["total"] == 1 and by_phone["total"] == 1
    assert by_name["hits"][0]["letter_id"] == by_phone["hits"][0]["letter_id"]
    assert "<mark>" in by_name["hits"][0]["snippet"]


def test_reply_writes_a_docx_with_name_and_registration_number(
    ingested: Path, scans: list[Scan], tmp_path: Path
) -> None:
    hit = run_json(ingested, "search", scans[1].phone)["hits"][0]
    reply = run_json(ingested, "reply", str(hit["letter_id"]), "--template", "acknowledgement",
                     "--out", str(tmp_path))
    assert reply["letter_id"] == hit["letter_id"]
    path = Path(reply["files"]["docx"])
    assert path.parent == tmp_path
    # numbers are kept whole with invisible word joiners (letters._format); read without them
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs).replace("\u2060", "")
    letter = run_json(ingested, "ingest", str(scans[1].path))["results"][0]
    assert scans[1].name in text
    assert letter["reg_no"] in text
    assert reply["doc_number"] in text


def test_reply_names_an_unknown_template_or_letter(ingested: Path) -> None:
    result = run(ingested, "reply", "1", "--template", "nonesuch")
    assert result.exit_code == 1 and "acknowledgement" in result.stderr
    result = run(ingested, "reply", "2020-999999", "--template", "acknowledgement")
    assert result.exit_code == 1 and "no letter" in result.stderr


def test_bad_files_get_a_reason_and_the_good_ones_go_in(home: Path, tmp_path: Path,
                                                        scans: list[Scan]) -> None:
    assert run(home, "init").exit_code == 0
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    text = tmp_path / "note.jpg"
    text.write_text("这不是扫描件，是一段文字。", encoding="utf-8")
    corrupt = tmp_path / "broken.pdf"
    corrupt.write_bytes(scans[2].path.read_bytes()[:300])
    renamed = tmp_path / "reply.pdf"
    with zipfile.ZipFile(renamed, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    files = [empty, scans[0].path, text, corrupt, renamed, tmp_path / "missing.png"]
    result = run(home, "ingest", *map(str, files), "--json")
    assert result.exit_code == 1
    results = {Path(r["file"]).name: r for r in json.loads(result.stdout)["results"]}
    assert results[scans[0].path.name]["error"] is None
    assert results[scans[0].path.name]["pages"] == 1
    bad = [f.name for f in files if f != scans[0].path]
    for name in bad:
        assert results[name]["error"], name
    reasons = [line for line in result.stderr.splitlines() if line]
    assert len(reasons) == len(bad)
    assert all(any(line.startswith(str(tmp_path / n)) for line in reasons) for n in bad)
    assert "0 bytes" in results["empty.pdf"]["error"]
    # the damaged scan is kept as a letter so that nothing a citizen sent is lost
    assert results["broken.pdf"]["letter_id"] is not None
    assert results["note.jpg"]["letter_id"] is None


def test_ocr_prints_lines_with_boxes_and_scores(scans: list[Scan], tmp_path: Path) -> None:
    document = run_json(tmp_path, "ocr", str(scans[0].path))
    assert document["engine"] == "rapidocr"
    [page] = document["pages"]
    assert page["page"] == 1
    texts = "".join(line["text"] for line in page["lines"])
    assert scans[0].phone in texts
    for line in page["lines"]:
        assert len(line["box"]) == 4 and all(len(point) == 2 for point in line["box"])
        assert 0 < line["score"] <= 1


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(tmp_path, "ingest").exit_code == 2
    assert run(tmp_path, "search").exit_code == 2
    assert run(tmp_path, "ocr", "x.jpg", "--engine", "nonesuch").exit_code == 2
    assert run(tmp_path, "frobnicate").exit_code == 2


def test_commands_need_an_instance(tmp_path: Path) -> None:
    result = run(tmp_path / "nowhere", "search", "王伟")
    assert result.exit_code == 1 and "huiyin init" in result.stderr


def test_reindex_rebuilds_the_same_answers(ingested: Path, scans: list[Scan]) -> None:
    before = run_json(ingested, "search", scans[2].phone)
    assert run_json(ingested, "reindex")["indexed"] == len(scans)
    after = run_json(ingested, "search", scans[2].phone)
    assert [h["letter_id"] for h in after["hits"]] == [h["letter_id"] for h in before["hits"]]
    assert run_json(ingested, "check")["ok"]


def test_a_damaged_index_is_reported_then_rebuilt_by_reindex(ingested: Path,
                                                             scans: list[Scan]) -> None:
    damaged = [*(ingested / "index").rglob("*.toc"), *(ingested / "index").rglob("meta.json")]
    assert damaged
    for part in damaged:
        part.write_bytes(b"\x00garbage")
    broken = run(ingested, "search", scans[0].phone)
    assert broken.exit_code == 1
    assert "Traceback" not in broken.output and broken.stderr.strip().count("\n") == 0
    assert run_json(ingested, "reindex")["indexed"] == len(scans)
    assert run_json(ingested, "search", scans[0].phone)["total"] == 1


@pytest.mark.parametrize("which", [0, 1, 2])
def test_search_finds_a_letter_by_id_number(ingested: Path, scans: list[Scan], which: int) -> None:
    by_id = run_json(ingested, "search", scans[which].id_number)
    by_phone = run_json(ingested, "search", scans[which].phone)
    assert by_id["total"] == 1
    assert by_id["hits"][0]["letter_id"] == by_phone["hits"][0]["letter_id"]


def test_all_letters_from_one_person_and_filters(ingested: Path, scans: list[Scan]) -> None:
    by_phone = run_json(ingested, "search", "--phone", scans[2].phone)
    by_id = run_json(ingested, "search", "--id-number", scans[2].id_number)
    assert by_phone["total"] == by_id["total"] == 1
    assert by_phone["hits"][0]["letter_id"] == by_id["hits"][0]["letter_id"]
    assert run(ingested, "search", "电梯", "--phone", scans[2].phone).exit_code == 2
    everyone = run_json(ingested, "search", "信访局", "--sort", "date")
    assert everyone["total"] == len(scans)
    assert run_json(ingested, "search", "信访局", "--from", "2999-01-01")["total"] == 0


def test_ingest_says_when_a_page_holds_no_text(home: Path, tmp_path: Path) -> None:
    """A blank page is registered, and the clerk is told to look at the original."""
    from PIL import Image

    from web.services.pipeline import NO_TEXT

    assert run(home, "init").exit_code == 0
    blank = tmp_path / "blank.png"
    Image.new("L", (1240, 1754), 255).save(blank)
    result = run(home, "ingest", str(blank))
    assert result.exit_code == 0, result.stderr
    assert "letter" in result.stdout and NO_TEXT in result.stderr


def test_check_repair_mends_the_index_and_removes_leftovers(home: Path, tmp_path: Path) -> None:
    from web.services.instance import Instance
    from web.services.registration import register_written

    assert run(home, "init").exit_code == 0
    with Instance(home) as instance:
        letter_id = register_written(instance, channel="phone", name="来电人", phone=None,
                                  id_number=None, township="石桥镇",
                                  received_on=instance.today(),
                                  text="石桥镇枣树营村村民反映征地补偿款没有发放。", actor="test")
        instance.index.delete([letter_id])  # a reindex killed halfway, say
        leftover = tmp_path / "leftover.bin"
        leftover.write_bytes(b"an original no record names")
        orphan = instance.blobs.put(leftover)
    before = run_json(home, "check")
    assert before["ok"] is False and before["not_indexed"] == [letter_id]
    assert orphan in before["orphan_blobs"]
    young = run_json(home, "check", "--repair")  # the orphan is too new to be garbage yet
    assert young["ok"] is True and young["repaired"]["indexed"] == 1
    assert orphan in young["orphan_blobs"] and young["clean"] is False
    mended = run_json(home, "check", "--repair", "--min-age", "0")
    assert mended["clean"] is True and mended["repaired"]["orphan_blobs"] == 1
    assert run_json(home, "search", "枣树营")["total"] == 1
