"""Reindex (batches, progress, resume) and the index check/repair, on a real instance."""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from records import Letter, intake
from web.cli import main
from web.services import indexing
from web.services.instance import Instance

N = 23


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Instance]:
    """An instance with N read letters (registered straight into the database, no OCR)."""
    with Instance(tmp_path / "home") as inst:
        inst.create()
        with inst.db.session() as session:
            for i in range(N):
                letter = intake.register_letter(
                    session,
                    sha256=f"{i:064x}",
                    source_name=f"scan-{i}.pdf",
                    media_type="application/pdf",
                    size_bytes=100,
                    received_on=datetime.date(2025, 1, 1) + datetime.timedelta(days=i),
                    actor="test",
                )
                letter.text = f"第{i}号来信：反映拖欠工资问题，编号甲{i:03d}乙。"
                letter.township = "石桥镇" if i % 2 else "城关镇"
                letter.ingest_state = "read"
        yield inst


def test_reindex_in_batches_reports_progress(instance: Instance) -> None:
    seen: list[tuple[int, int]] = []
    assert indexing.reindex(instance, lambda d, t: seen.append((d, t)), batch=5) == N
    assert seen[0] == (0, N) and seen[-1] == (N, N) and len(seen) == 6
    assert instance.index.search("拖欠工资").total == N
    assert indexing.read_checkpoint(instance) is None
    assert instance.index.search("", township="石桥镇").total == N // 2


def test_interrupted_reindex_resumes_after_the_last_batch(instance: Instance) -> None:
    class Stop(Exception):
        pass

    def stop_after_two_batches(done: int, total: int) -> None:
        if done >= 10:
            raise Stop

    with pytest.raises(Stop):
        indexing.reindex(instance, stop_after_two_batches, batch=5)
    assert indexing.read_checkpoint(instance) == 10
    assert len(instance.index.letter_ids()) == 10
    assert not indexing.check_index(instance).ok  # the pending reindex is reported
    assert indexing.reindex(instance, batch=5) == N - 10  # resumed, not started over
    assert len(instance.index.letter_ids()) == N
    assert indexing.check_index(instance).ok


def test_check_reports_and_repairs_drift(instance: Instance) -> None:
    indexing.reindex(instance)
    letter_ids = sorted(instance.index.letter_ids())
    instance.index.delete(letter_ids[:3])
    from search import LetterDoc

    instance.index.add([LetterDoc(9999, "已删除的来信")])
    drift = indexing.check_index(instance)
    assert drift.missing == letter_ids[:3] and drift.orphans == [9999] and not drift.ok
    repaired = indexing.check_index(instance, repair=True)
    assert repaired.repaired
    assert indexing.check_index(instance).ok
    assert instance.index.letter_ids() == set(letter_ids)


def test_cli_reindex_and_check(instance: Instance) -> None:
    home = str(instance.home)
    instance.close()
    runner = CliRunner()
    result = runner.invoke(main, ["--home", home, "reindex", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["indexed"] == N
    result = runner.invoke(main, ["--home", home, "reindex", "--check", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"]
    result = runner.invoke(main, ["--home", home, "reindex", "--repair"])
    assert result.exit_code == 2
    result = runner.invoke(main, ["--home", home, "reindex"])
    assert result.exit_code == 0 and f"{N} letter(s) indexed" in result.output


def test_the_ocrs_own_alternatives_are_indexed_beside_its_reading(instance: Instance) -> None:
    """A character the recogniser was unsure of (久, with 欠 as its runner-up) is found under
    the runner-up, after exact hits and saying so; once the page is retyped, no longer."""
    from records import Letter, intake
    from web.services.indexing import index_letters, ocr_alternatives

    box = [[0, 0], [10, 0], [10, 10], [0, 10]]
    doubt = {"text": "个人被久工资", "box": box, "score": 0.93,
             "conf": [0.99, 0.99, 0.98, 0.41, 0.99, 0.99],
             "alt": [[], [], [], [["欠", 0.38], ["次", 0.1]], [], []]}
    with instance.db.session() as session:
        letter = intake.register_letter(session, sha256="d" * 64, source_name="scan.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=instance.today(), actor="clerk1")
        intake.save_page(session, letter, number=1, width=100, height=100, source="ocr",
                         engine="rapidocr", lines=[{"text": "来信", "box": box, "score": 0.99},
                                                   doubt])
        intake.finish_reading(session, letter)
        assert ocr_alternatives(letter) == ((6, "欠次"),)  # "来信\n个人被" is 6 characters
        index_letters(instance, [letter])
        letter_id = letter.id
    found = instance.index.search("被欠")
    [hit] = [h for h in found.hits if h.letter_id == letter_id]
    assert hit.match == "ocr" and "被久" in hit.note
    with instance.db.session() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None
        letter.text = letter.text.replace("被久", "被欠")  # the clerk corrected it
        assert ocr_alternatives(letter) == ()


def _letter_read_with_a_doubt(instance: Instance, n: int) -> int:
    """A letter whose OCR read 资 as 贺 (资 its runner-up: not a look-alike, not a sound)."""
    box = [[0, 0], [10, 0], [10, 10], [0, 10]]
    doubt = {"text": "老板拖欠工贺", "box": box, "score": 0.9,
             "conf": [0.99, 0.99, 0.99, 0.99, 0.99, 0.4],
             "alt": [[], [], [], [], [], [["资", 0.35]]]}
    with instance.db.session() as session:
        letter = intake.register_letter(session, sha256=f"{n:064x}", source_name="scan.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=instance.today(), actor="clerk1")
        intake.save_page(session, letter, number=1, width=100, height=100, source="ocr",
                         engine="rapidocr", lines=[doubt])
        intake.finish_reading(session, letter)
        return letter.id


def _as_indexed_before_alternatives(instance: Instance) -> None:
    """The index as a version before the OCR's alternatives wrote it (and says it was)."""
    import dataclasses

    from sqlalchemy import select

    from records import Letter

    with instance.db.session() as session:
        docs = [dataclasses.replace(indexing.letter_doc(letter), alternatives=())
                for letter in session.scalars(select(Letter).order_by(Letter.id))]
    instance.index.add(docs)
    instance.index.mark_content_version(1)


def test_a_letter_indexed_before_its_alternatives_gets_them_from_the_worker(
    instance: Instance,
) -> None:
    from sqlalchemy import select

    from records import Task
    from search import CONTENT_VERSION
    from web.worker import Worker

    misread = _letter_read_with_a_doubt(instance, 900)
    _as_indexed_before_alternatives(instance)
    assert misread not in {h.letter_id for h in instance.index.search("拖欠工资").hits}

    counts = Worker(instance, "upgrader", poll_s=0.0, watch_folder=False).drain()
    assert counts["done"] == 1  # the upgrade, queued by the worker at its start, then run

    assert instance.index.content_version == CONTENT_VERSION
    [hit] = [h for h in instance.index.search("拖欠工资", limit=50).hits if h.letter_id == misread]
    assert hit.match == "ocr" and hit.corrections == ("工贺 → 工资",)
    with instance.db.session() as session:
        [task] = session.scalars(select(Task).where(Task.kind == indexing.UPGRADE_TASK))
        assert task.state == "done"
        assert task.progress == {"step": "upgraded", "letters": 1}
    assert indexing.queue_upgrade(instance) is None  # nothing more to do
    assert Worker(instance, "again", poll_s=0.0, watch_folder=False).drain()["done"] == 0


def test_an_interrupted_upgrade_resumes_and_keeps_the_index_searchable(
    instance: Instance,
) -> None:
    class Stop(Exception):
        pass

    misread = _letter_read_with_a_doubt(instance, 901)  # the last letter: N + 1
    _as_indexed_before_alternatives(instance)

    def stop_after_the_first_batch(done: int, total: int) -> None:
        if done >= 10:
            raise Stop

    with pytest.raises(Stop):
        indexing.upgrade_index(instance, stop_after_the_first_batch, batch=10)
    assert instance.index.content_version == 1  # not every letter looked at yet
    assert instance.index.search("拖欠工资").total == N  # searchable throughout
    seen: list[tuple[int, int]] = []
    assert indexing.upgrade_index(instance, lambda d, t: seen.append((d, t)), batch=10) == 1
    assert seen[0] == (10, N + 1) and seen[-1] == (N + 1, N + 1)  # resumed after 10
    assert indexing.upgrade_index(instance) == 0
    found = instance.index.search("拖欠工资", limit=50)
    assert found.total == N + 1 and found.tolerant_total == 1
    assert found.hits[-1].letter_id == misread and found.hits[-1].match == "ocr"


def test_check_names_a_pending_upgrade_and_reindex_upgrade_does_it(instance: Instance) -> None:
    """An index written before the OCR's alternatives: `huiyin check` says so (exit 1, the
    index, both versions, the letters, the command), `huiyin reindex --upgrade` upgrades it
    and says what it did, and then the check is clean and the tolerant search finds it."""
    from search import CONTENT_VERSION

    misread = _letter_read_with_a_doubt(instance, 902)
    _as_indexed_before_alternatives(instance)
    with instance.db.session() as session:  # in step but for the upgrade: scans stored too
        for letter in session.scalars(select(Letter)):
            letter.ingest_state = "indexed"
            letter.source_sha256 = instance.blobs.put_stream(io.BytesIO(b"scan %d" % letter.id))
    home = str(instance.home)
    instance.close()
    runner = CliRunner()

    checked = runner.invoke(main, ["--home", home, "check", "--json"])
    assert checked.exit_code == 1, checked.output
    report = json.loads(checked.stdout)
    assert report["problems"] == ["upgrade_pending"]
    assert report["upgrade_pending"] == {
        "index": f"tantivy：{Path(home) / 'index'}", "content_version": 1,
        "code_version": CONTENT_VERSION, "letters": N + 1, "command": "huiyin reindex --upgrade"}
    said = runner.invoke(main, ["--home", home, "check"])
    assert said.exit_code == 1
    assert f"内容版本是 1，本程序写入版本 {CONTENT_VERSION}：{N + 1} 封来信待升级" in said.output
    assert "`huiyin reindex --upgrade`" in said.output
    drift = runner.invoke(main, ["--home", home, "reindex", "--check", "--json"])
    assert drift.exit_code == 1 and json.loads(drift.stdout)["upgrade_pending"]["letters"] == N + 1
    assert "`huiyin reindex --upgrade`" in runner.invoke(
        main, ["--home", home, "reindex", "--check"]).output

    upgraded = runner.invoke(main, ["--home", home, "reindex", "--upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert (f"已从内容版本 1 升级到 {CONTENT_VERSION}：查看了 {N + 1} 封来信，其中 1 封补入 OCR "
            "候选字后重新写入索引。") in upgraded.output
    again = runner.invoke(main, ["--home", home, "reindex", "--upgrade", "--json"])
    assert json.loads(again.stdout)["upgraded_from"] is None and "无需升级" in again.stdout

    clean = runner.invoke(main, ["--home", home, "check", "--json"])
    assert clean.exit_code == 0 and json.loads(clean.stdout)["upgrade_pending"] is None
    with Instance(Path(home)) as reopened:
        [hit] = [h for h in reopened.index.search("拖欠工资", limit=50).hits
                 if h.letter_id == misread]
    assert hit.match == "ocr" and hit.corrections == ("工贺 → 工资",)
    refused = runner.invoke(main, ["--home", home, "reindex", "--upgrade", "--check"])
    assert refused.exit_code == 2


def test_an_interrupted_upgrade_run_now_says_it_resumed(instance: Instance) -> None:
    class Stop(Exception):
        pass

    def stop_after_the_first_batch(done: int, total: int) -> None:
        if done >= 10:
            raise Stop

    _letter_read_with_a_doubt(instance, 903)
    _as_indexed_before_alternatives(instance)
    with pytest.raises(Stop):
        indexing.upgrade_index(instance, stop_after_the_first_batch, batch=10)
    assert indexing.pending_upgrade(instance) is not None  # still pending, resumable
    done = indexing.upgrade_now(instance)
    assert (done.upgraded_from, done.resumed_after, done.letters_checked,
            done.letters_added_again) == (1, 10, N + 1 - 10, 1)
    assert "接续上次中断的升级，前 10 封已查看过" in done.message
    assert indexing.pending_upgrade(instance) is None
