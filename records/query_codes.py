"""The petitioner's query code (§18, §21 ¶2): one per matter, printed on the 受理告知书.

A code is 12 symbols of Crockford's base32 (no I, L, O, U), 60 bits from `secrets`, shown in
groups of four (K7QM-3XZ9-PT2D) so a clerk can read it out by phone. It is kept as it is, not
hashed: the office must be able to show it again, and the database already holds far more than
the public page shows. Typing is forgiving: case, spaces, dashes, and O/I/L for 0/1/1.

Wrong codes are counted per client address in a table (not in one process's memory), so the
limit holds across the server's processes: WRONG_CODES_PER_HOUR, then a refusal until the
oldest counted wrong code is an hour old. The tries are kept KEEP_TRIES (30 days) so the
admin can see a guessing attack (`refused_tries`), then `prune_tries` deletes them (the worker
does, hourly: never on the public page's request).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from records import audit
from records.models import Case, PublicQuery

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 12 symbols x 5 bits = 60 bits
GROUP = 4
WRONG_CODES_PER_HOUR = 10
WINDOW = dt.timedelta(hours=1)
KEEP_TRIES = dt.timedelta(days=30)  # how long the tries stay visible to the admin
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_query_code() -> str:
    """A fresh random code (stored without dashes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(typed: str) -> str | None:
    """The stored form of what someone typed, or None when it cannot be a code at all."""
    code = "".join(typed.split()).replace("-", "").upper().translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def shown(code: str) -> str:
    """A code as printed and read out: groups of four joined by dashes."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def renew(session: Session, case: Case, *, actor: str) -> str:
    """Give a matter a new code (the old one stops working); the audit log says who did it."""
    had = case.query_code is not None
    case.query_code = new_query_code()
    session.flush()
    audit.record(session, actor, "query-code", "case", case.id, replaced=had)
    return case.query_code


def case_of_code(session: Session, typed: str) -> Case | None:
    """The matter a typed code opens, or None."""
    code = normalize(typed)
    if code is None:
        return None
    return session.scalars(select(Case).where(Case.query_code == code)).first()


def record_try(session: Session, remote_addr: str, at: dt.datetime, case: Case | None, *,
               limited: bool = False) -> None:
    """Keep one try: a found matter, a wrong code, or one refused unchecked while limited."""
    session.add(PublicQuery(remote_addr=remote_addr[:64], at=at,
                            case_id=case.id if case else None, limited=limited))
    session.flush()


def retry_at(session: Session, remote_addr: str, now: dt.datetime) -> dt.datetime | None:
    """When this address may try again, or None while it is under the limit."""
    counted = (select(PublicQuery.at).where(
        PublicQuery.remote_addr == remote_addr[:64], PublicQuery.case_id.is_(None),
        PublicQuery.limited.is_(False), PublicQuery.at > now - WINDOW)
        .order_by(PublicQuery.at.desc()).limit(WRONG_CODES_PER_HOUR))
    recent = list(session.scalars(counted))
    if len(recent) < WRONG_CODES_PER_HOUR:
        return None
    return min(recent) + WINDOW



def prune_tries(session: Session, now: dt.datetime, keep: dt.timedelta = KEEP_TRIES) -> int:
    """Delete the tries older than ``keep`` (never those the hour's limit still counts)."""
    cutoff = now - max(keep, WINDOW)
    gone = session.execute(delete(PublicQuery).where(PublicQuery.at < cutoff)
                           .execution_options(synchronize_session=False))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def refused_tries(session: Session, since: dt.datetime,
                  limit: int = 100) -> list[tuple[str, int, int, dt.datetime, dt.datetime]]:
    """The wrong codes since a moment, per address: (address, wrong codes, tries refused
    unchecked past the limit, first, last), the latest first."""
    limited = func.count().filter(PublicQuery.limited.is_(True))
    query = (select(PublicQuery.remote_addr, func.count(), limited, func.min(PublicQuery.at),
                    func.max(PublicQuery.at))
             .where(PublicQuery.case_id.is_(None), PublicQuery.at >= since)
             .group_by(PublicQuery.remote_addr)
             .order_by(func.max(PublicQuery.at).desc()).limit(limit))
    return [(addr, int(n) - int(held), int(held), first, last)
            for addr, n, held, first, last in session.execute(query)]
