"""Keeping the search index in step with the records: the index is derived and rebuildable."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from records import Letter, intake
from search import LetterDoc
from web.instance import Instance

BATCH = 200


def letter_doc(letter: Letter) -> LetterDoc:
    """What the index needs to know of a letter: its text and the fields users filter on."""
    people = letter.petitioners
    extracted = letter.extracted or {}
    return LetterDoc(
        letter_id=letter.id,
        text=letter.text,
        reg_no=letter.reg_no,
        petitioners=tuple(intake.petitioner_names(letter)),
        id_numbers=tuple(
            {p.id_number for p in people if p.id_number} | set(extracted.get("id_numbers", []))
        ),
        phones=tuple({p.phone for p in people if p.phone} | set(extracted.get("phones", []))),
        township=letter.township,
        village=letter.village,
        category=letter.category,
        status=letter.case.status if letter.case else "",
        received=letter.received_on,
        case_id=letter.case_id,
    )


def index_letters(instance: Instance, letters: Iterable[Letter]) -> int:
    """Add or replace these letters in the index (one commit)."""
    return instance.index.add(letter_doc(letter) for letter in letters)


def reindex(instance: Instance, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild the whole index from the database, in batches so memory stays bounded."""
    instance.recreate_index()
    done = 0
    with instance.db.session() as session:
        total = session.scalar(
            select(func.count()).where(Letter.ingest_state.in_(("read", "indexed")))
        ) or 0
        last_id = 0
        while True:
            batch = session.scalars(
                select(Letter)
                .where(Letter.id > last_id, Letter.ingest_state.in_(("read", "indexed")))
                .options(selectinload(Letter.petitioners), selectinload(Letter.case))
                .order_by(Letter.id)
                .limit(BATCH)
            ).all()
            if not batch:
                break
            index_letters(instance, batch)
            for letter in batch:
                letter.ingest_state = "indexed"
            session.flush()
            done += len(batch)
            last_id = batch[-1].id
            if progress:
                progress(done, total)
    return done
