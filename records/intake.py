"""Registering letters: each step commits on its own so an interrupted ingest can resume."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from records import audit
from records.errors import RecordsError
from records.models import CHANNELS, Counter, Letter, Page, Petitioner


def find_by_sha(session: Session, sha256: str) -> Letter | None:
    """The letter registered for an original scan, if any (duplicate detection)."""
    return session.scalars(select(Letter).where(Letter.source_sha256 == sha256)).first()


def get_letter(session: Session, letter_id: int) -> Letter:
    """A letter by id, or a RecordsError a user can read."""
    letter = session.get(Letter, letter_id)
    if letter is None:
        raise RecordsError(f"no letter with id {letter_id}")
    return letter


def find_letter(session: Session, reference: str) -> Letter:
    """A letter by id ("17") or registration number ("2026-000017")."""
    reference = reference.strip()
    if reference.isdigit():
        letter = session.get(Letter, int(reference))
    else:
        letter = session.scalars(select(Letter).where(Letter.reg_no == reference)).first()
    if letter is None:
        raise RecordsError(
            f"no letter {reference!r}: give its id or its registration number (2026-000017)"
        )
    return letter


def next_number(session: Session, name: str, year: int) -> int:
    """The next value of a yearly sequence, safe with concurrent writers.

    One statement inserts the year's first value or bumps the existing row (an upsert): on
    PostgreSQL a second writer waits on the row lock, or on the conflicting insert, and then
    bumps the value the first one committed; on SQLite the write lock serialises them.
    """
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        upsert = pg_insert if dialect == "postgresql" else sqlite_insert
        first = upsert(Counter).values(name=name, year=year, value=1)
        statement = first.on_conflict_do_update(
            index_elements=[Counter.name, Counter.year],
            set_={"value": Counter.value + 1},
        ).returning(Counter.value)
        return int(session.execute(statement).scalar_one())
    bumped = session.execute(
        update(Counter)
        .where(Counter.name == name, Counter.year == year)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar()
    if bumped is not None:
        return int(bumped)
    session.add(Counter(name=name, year=year, value=1))
    session.flush()
    return 1


def register_letter(
    session: Session,
    *,
    sha256: str,
    source_name: str,
    media_type: str,
    size_bytes: int,
    received_on: dt.date,
    actor: str,
    channel: str = "letter",
) -> Letter:
    """登记: give a new letter its registration number; the scan is stored next."""
    if channel not in CHANNELS:
        raise RecordsError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    seq = next_number(session, "letter", received_on.year)
    letter = Letter(
        reg_no=f"{received_on.year}-{seq:06d}",
        received_on=received_on,
        channel=channel,
        source_sha256=sha256,
        source_name=source_name[:255],
        media_type=media_type,
        size_bytes=size_bytes,
        ingest_state="registered",
        extracted={},
    )
    session.add(letter)
    session.flush()
    audit.record(session, actor, "register", "letter", letter.id, reg_no=letter.reg_no,
                 source=source_name, sha256=sha256, channel=channel)
    return letter


def record_text(session: Session, letter: Letter, text: str, *, actor: str) -> None:
    """A visit or call written down by the clerk: its text is the letter's text (no pages)."""
    if not text.strip():
        raise RecordsError("the item needs its text: what the petitioner said")
    letter.text = text.strip()
    if not letter.summary:  # the first sentence, as a scan's summary would be proposed
        letter.summary = letter.text.splitlines()[0].split("。")[0][:60]
    letter.page_count = 0
    letter.ingest_state = "read"
    letter.ingest_error = None
    audit.record(session, actor, "write-down", "letter", letter.id, channel=letter.channel,
                 chars=len(letter.text))


def set_state(session: Session, letter: Letter, state: str, error: str | None = None) -> None:
    """Move a letter along intake (registered → stored → read → indexed, or failed)."""
    letter.ingest_state = state
    letter.ingest_error = error
    if state == "failed":
        audit.record(session, "system", "ingest-failed", "letter", letter.id, error=error)


def pages_done(session: Session, letter: Letter) -> int:
    """How many pages are already read, so a resumed ingest starts at the next one."""
    count = session.scalar(select(func.count()).where(Page.letter_id == letter.id))
    return int(count or 0)


def save_page(
    session: Session,
    letter: Letter,
    *,
    number: int,
    width: int,
    height: int,
    source: str,
    engine: str,
    lines: Sequence[dict[str, Any]],
) -> Page:
    """Keep one read page: its lines with boxes and scores, and the page text."""
    scores = [float(line["score"]) for line in lines if "score" in line]
    page = Page(
        letter_id=letter.id,
        number=number,
        width=width,
        height=height,
        source=source,
        engine=engine,
        text="\n".join(str(line["text"]) for line in lines),
        lines=list(lines),
        mean_score=sum(scores) / len(scores) if scores else None,
    )
    session.add(page)
    session.flush()
    return page


def finish_reading(session: Session, letter: Letter) -> None:
    """All pages read: the letter's text becomes its pages' text."""
    pages = session.scalars(
        select(Page).where(Page.letter_id == letter.id).order_by(Page.number)
    ).all()
    letter.page_count = len(pages)
    letter.text = "\n\n".join(page.text for page in pages)
    letter.ingest_state = "read"
    letter.ingest_error = None
    audit.record(session, "system", "read", "letter", letter.id, pages=len(pages),
                 chars=len(letter.text))


def propose_fields(letter: Letter, fields: dict[str, Any]) -> None:
    """Keep what was found in the text for the clerk to confirm; a summary fills an empty one."""
    letter.extracted = fields
    if not letter.summary:
        letter.summary = str(fields.get("summary") or "")[:255]


def unfinished(session: Session) -> list[Letter]:
    """Letters whose ingest was interrupted before they were indexed."""
    query = select(Letter).where(Letter.ingest_state.in_(("registered", "stored", "read")))
    return list(session.scalars(query.order_by(Letter.id)))


def attach_petitioner(
    session: Session,
    letter: Letter,
    *,
    name: str,
    id_number: str | None = None,
    phone: str | None = None,
    address: str = "",
    township: str = "",
    village: str = "",
    actor: str,
) -> Petitioner:
    """Link a person to a letter; the same ID number is the same person."""
    person = None
    if id_number:
        person = session.scalars(
            select(Petitioner).where(Petitioner.id_number == id_number)
        ).first()
    if person is None:
        person = Petitioner(name=name, id_number=id_number, phone=phone, address=address,
                            township=township, village=village)
        session.add(person)
        session.flush()
    if person not in letter.petitioners:
        letter.petitioners.append(person)
    audit.record(session, actor, "link-petitioner", "letter", letter.id, petitioner_id=person.id)
    return person


def petitioner_names(letter: Letter) -> list[str]:
    """Confirmed petitioners first; otherwise the name proposed from the text."""
    if letter.petitioners:
        return [p.name for p in letter.petitioners]
    proposed = letter.extracted.get("petitioner")
    return [proposed] if proposed else []
