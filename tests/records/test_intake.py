"""Registering letters: numbers, resumable steps, petitioners, and the audit trail."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from records import AuditEvent, AuditLogIsAppendOnly, Database, Letter, RecordsError, audit, intake


def _register(db: Database, sha: str, day: dt.date = dt.date(2026, 11, 24)) -> int:
    with db.session() as session:
        letter = intake.register_letter(session, sha256=sha, source_name=f"{sha[:4]}.jpg",
                                        media_type="image/jpeg", size_bytes=10,
                                        received_on=day, actor="clerk1")
        return letter.id


def test_registration_numbers_count_per_year(db: Database) -> None:
    ids = [_register(db, "a" * 64), _register(db, "b" * 64),
           _register(db, "c" * 64, dt.date(2027, 1, 2))]
    with db.session() as session:
        numbers = [session.get(Letter, i).reg_no for i in ids]  # type: ignore[union-attr]
    assert numbers == ["2026-000001", "2026-000002", "2027-000001"]


def test_the_same_original_cannot_be_registered_twice(db: Database) -> None:
    _register(db, "a" * 64)
    with pytest.raises(IntegrityError, match="(?i)unique"):  # SQLite: UNIQUE; PostgreSQL: unique
        _register(db, "a" * 64)
    with db.session() as session:
        assert intake.find_by_sha(session, "a" * 64) is not None
        assert intake.find_by_sha(session, "b" * 64) is None


def test_find_letter_by_id_or_registration_number(db: Database) -> None:
    letter_id = _register(db, "a" * 64)
    with db.session() as session:
        assert intake.find_letter(session, str(letter_id)).id == letter_id
        assert intake.find_letter(session, " 2026-000001 ").id == letter_id
        with pytest.raises(RecordsError, match="registration number"):
            intake.find_letter(session, "2026-999999")


def test_pages_are_kept_and_the_letter_text_is_theirs(db: Database) -> None:
    letter_id = _register(db, "a" * 64)
    lines = [{"text": "尊敬的领导：", "box": [[0, 0], [9, 0], [9, 9], [0, 9]], "score": 0.9},
             {"text": "我叫韩秋菊。", "box": [[0, 10], [9, 10], [9, 19], [0, 19]], "score": 0.7}]
    with db.session() as session:
        letter = intake.get_letter(session, letter_id)
        intake.save_page(session, letter, number=1, width=10, height=20, source="ocr",
                         engine="rapidocr", lines=lines)
        assert intake.pages_done(session, letter) == 1
        intake.save_page(session, letter, number=2, width=10, height=20, source="ocr",
                         engine="rapidocr", lines=[])
        intake.finish_reading(session, letter)
        intake.propose_fields(letter, {"petitioner": "韩秋菊", "summary": "请求兑现补偿款"})
    with db.session() as session:
        letter = intake.get_letter(session, letter_id)
        assert letter.page_count == 2
        assert letter.text == "尊敬的领导：\n我叫韩秋菊。\n\n"
        assert letter.pages[0].mean_score == pytest.approx(0.8)
        assert letter.ingest_state == "read"
        assert letter.summary == "请求兑现补偿款"
        assert intake.petitioner_names(letter) == ["韩秋菊"]
        assert [row.id for row in intake.unfinished(session)] == [letter_id]


def test_the_same_id_number_is_the_same_person(db: Database) -> None:
    first, second = _register(db, "a" * 64), _register(db, "b" * 64)
    with db.session() as session:
        a = intake.attach_petitioner(session, intake.get_letter(session, first), name="韩秋菊",
                                     id_number="411722196304123524", actor="clerk1")
        b = intake.attach_petitioner(session, intake.get_letter(session, second),
                                     name="韩秋菊", id_number="411722196304123524", actor="clerk1")
        assert a.id == b.id
        assert {letter.id for letter in a.letters} == {first, second}
        assert intake.petitioner_names(intake.get_letter(session, first)) == ["韩秋菊"]


def test_every_step_is_audited(db: Database) -> None:
    letter_id = _register(db, "a" * 64)
    with db.session() as session:
        intake.set_state(session, intake.get_letter(session, letter_id), "failed", "truncated")
        events = audit.history(session, "letter", letter_id)
    assert [(e.actor, e.action) for e in events] == [("clerk1", "register"),
                                                     ("system", "ingest-failed")]
    assert events[1].detail == {"error": "truncated"}


def test_audit_events_cannot_be_changed_or_deleted(db: Database) -> None:
    _register(db, "a" * 64)
    with pytest.raises(AuditLogIsAppendOnly), db.session() as session:
        event = session.scalars(select(AuditEvent)).one()
        event.actor = "someone else"
    with pytest.raises(AuditLogIsAppendOnly), db.session() as session:
        session.delete(session.scalars(select(AuditEvent)).one())
    with db.session() as session:
        assert session.scalars(select(AuditEvent)).one().actor == "clerk1"


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'x'",
                                       "DELETE FROM audit_event"])
def test_the_database_itself_refuses_to_alter_the_audit_log(db: Database, statement: str) -> None:
    _register(db, "a" * 64)
    with pytest.raises(Exception, match="append-only"), db.engine.begin() as connection:
        connection.execute(text(statement))
    with db.session() as session:
        assert session.scalars(select(AuditEvent)).one().actor == "clerk1"


def test_concurrent_writers_never_get_the_same_number(db: Database) -> None:
    """Registration numbers from several connections at once (several worker processes, or a
    PostgreSQL office's clerks): no number twice, none skipped, the year's first row included."""
    got: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def writer() -> None:
        own = Database(db.url)  # its own engine and connections, as another process has
        try:
            start.wait()
            for year in range(2031, 2051):  # each year's first number is a race to insert
                with own.session() as session:
                    got.append((year, intake.next_number(session, "letter", year)))
        except BaseException as e:  # reported below, not lost in the thread
            errors.append(e)
        finally:
            own.close()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert sorted(got) == [(year, n) for year in range(2031, 2051) for n in range(1, 7)]
