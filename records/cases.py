"""Cases in the database: open, link letters, take workflow actions, read the clocks.

The rules live in records.workflow (pure); this module loads and stores a Case's clock and
writes one AuditEvent for every action, in the same unit of work.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.calendar import WorkCalendar
from records.flags import propose_flags
from records.intake import RecordsError, next_number
from records.models import MEETING_KINDS, Case, Hearing, Letter
from records.workflow import (
    TERMINAL,
    CaseClock,
    Deadline,
    IllegalTransition,
    Stage,
    apply,
    current_deadline,
    pause,
)

_CLOCK_FIELDS = [f.name for f in dataclasses.fields(CaseClock) if f.name not in ("stage",
                                                                                  "received_on")]
FLAGS = ("重复", "越级", "集体", "联名")


def clock_of(case: Case) -> CaseClock:
    """The workflow's view of a stored case."""
    return CaseClock(
        stage=Stage(case.status),
        received_on=case.opened_on,
        **{name: getattr(case, name) for name in _CLOCK_FIELDS},
    )


def get_case(session: Session, reference: str | int) -> Case:
    """A case by id or by case number (XF-2026-000017)."""
    text = str(reference).strip()
    case = (session.get(Case, int(text)) if text.isdigit()
            else session.scalars(select(Case).where(Case.case_no == text)).first())
    if case is None:
        raise RecordsError(f"no case {text!r}: give its id or its number (XF-2026-000017)")
    return case


def open_case(session: Session, letter: Letter, *, actor: str, title: str = "") -> Case:
    """A new matter, opened from its first letter; its clock starts on the letter's receipt."""
    if letter.case_id is not None:
        raise RecordsError(f"letter {letter.reg_no} already belongs to case {letter.case_id}")
    year = letter.received_on.year
    case = Case(
        case_no=f"XF-{year}-{next_number(session, 'case', year):06d}",
        title=(title or letter.summary or letter.reg_no)[:255],
        status=Stage.REGISTERED.value,
        opened_on=letter.received_on,
        township=letter.township,
        category=letter.category,
        flags=_letter_flags(letter),
    )
    session.add(case)
    session.flush()
    letter.case = case
    session.flush()
    audit.record(session, actor, "open-case", "case", case.id, letter_id=letter.id,
                 case_no=case.case_no, flags=case.flags, flag_reasons=_flag_reasons(letter))
    return case


def link_letter(session: Session, letter: Letter, case: Case, *, actor: str,
                reason: str = "") -> None:
    """Join a letter to an existing matter (a follow-up, or the same matter written again)."""
    if letter.case_id == case.id:
        return
    previous = letter.case_id
    letter.case = case
    added = sorted(set(_letter_flags(letter)) - set(case.flags))
    case.flags = sorted(set(case.flags) | set(added))
    session.flush()
    audit.record(session, actor, "link-letter", "case", case.id, letter_id=letter.id,
                 previous_case=previous, reason=reason, flags_added=added,
                 flag_reasons={k: v for k, v in _flag_reasons(letter).items() if k in added})


def transition(
    session: Session,
    case: Case,
    action: str,
    on: dt.date,
    *,
    actor: str,
    calendar: WorkCalendar,
    reason: str = "",
    decision: str | None = None,
    extension_days: int = 30,
) -> Case:
    """Take one workflow action; IllegalTransition leaves the case untouched."""
    before = clock_of(case)
    after = apply(before, action, on, calendar=calendar, decision=decision,
                  extension_days=extension_days)
    case.status = after.stage.value
    for name in _CLOCK_FIELDS:
        setattr(case, name, getattr(after, name))
    audit.record(session, actor, "transition", "case", case.id, step=action,
                 on=on.isoformat(), from_stage=before.stage.value, to_stage=after.stage.value,
                 reason=reason, decision=decision)
    return case


def deadline(case: Case, calendar: WorkCalendar) -> Deadline | None:
    """The clock a clerk should watch for this case now."""
    return current_deadline(clock_of(case), calendar)


def due(
    session: Session, calendar: WorkCalendar, today: dt.date, *, within_days: int | None = None,
    overdue_only: bool = False, unit_id: int | None = None, lead_id: int | None = None,
) -> list[tuple[Case, Deadline]]:
    """Open cases with an office duty running: overdue, or due within `within_days`.

    `unit_id` and `lead_id` narrow the list to one handling unit's or one leader's cases (督办).
    """
    query = select(Case).where(Case.status.not_in([s.value for s in TERMINAL]))
    if unit_id is not None:
        query = query.where(Case.unit_id == unit_id)
    if lead_id is not None:
        query = query.where(Case.lead_id == lead_id)
    open_cases = session.scalars(query.order_by(Case.id))
    rows = []
    for case in open_cases:
        clock = deadline(case, calendar)
        if clock is None or clock.kind != "duty":
            continue
        if overdue_only and not clock.overdue(today):
            continue
        if within_days is not None and clock.days_left(today) > within_days:
            continue
        rows.append((case, clock))
    return sorted(rows, key=lambda row: row[1].due)


def _flag_reasons(letter: Letter) -> dict[str, str]:
    """The flags a letter suggests (联名, 越级, 集体), each with its reason."""
    people = len(letter.petitioners)
    reasons = {p.flag: p.reason for p in propose_flags(letter.text or "", people)}
    if people > 1:
        reasons["联名"] = f"{people} 名信访人联名"
    return reasons


def _letter_flags(letter: Letter) -> list[str]:
    return sorted(_flag_reasons(letter))


def flag(session: Session, case: Case, flags: Iterable[str], *, actor: str) -> None:
    """Mark a case 重复 / 越级 / 集体 / 联名 (the rates count them)."""
    set_flags(session, case, add=flags, actor=actor)


def set_flags(session: Session, case: Case, *, add: Iterable[str] = (),
              remove: Iterable[str] = (), actor: str, reason: str = "") -> None:
    """The clerk's word on the flags: add some, remove proposed ones that are wrong."""
    add, remove = set(add), set(remove)
    unknown = (add | remove) - set(FLAGS)
    if unknown:
        raise RecordsError(f"unknown flag(s) {', '.join(sorted(unknown))}; "
                           f"known: {'、'.join(FLAGS)}")
    if add & remove:
        raise RecordsError(f"flag(s) {', '.join(sorted(add & remove))} both added and removed")
    case.flags = sorted((set(case.flags) | add) - remove)
    audit.record(session, actor, "flag", "case", case.id, flags=case.flags,
                 added=sorted(add), removed=sorted(remove), reason=reason)


def record_hearing(session: Session, case: Case, kind: str, start_on: dt.date, end_on: dt.date,
                   *, note: str = "", actor: str, calendar: WorkCalendar) -> Hearing:
    """听证 or 联席会议; a hearing held while the case is handled moves its handling deadline."""
    if kind not in MEETING_KINDS:
        raise RecordsError(f"kind must be one of {', '.join(MEETING_KINDS)}, not {kind!r}")
    if end_on < start_on:
        raise RecordsError(f"the meeting ends ({end_on}) before it starts ({start_on})")
    if start_on < case.opened_on:
        raise RecordsError(f"the meeting starts ({start_on}) before the case was received "
                           f"({case.opened_on})")
    paused = 0
    if kind == "hearing":
        for other in session.scalars(select(Hearing).where(Hearing.case_id == case.id,
                                                           Hearing.paused_days > 0)):
            if start_on <= other.end_on and other.start_on <= end_on:
                raise RecordsError(f"this hearing overlaps hearing {other.id} "
                                   f"({other.start_on} to {other.end_on})")
        try:
            after = pause(clock_of(case), start_on, end_on, calendar=calendar)
        except IllegalTransition as e:
            raise RecordsError(str(e)) from e
        paused = after.paused_days - case.paused_days
        case.paused_days = after.paused_days
    item = Hearing(case_id=case.id, kind=kind, start_on=start_on, end_on=end_on, note=note,
                   paused_days=paused, by=actor)
    session.add(item)
    session.flush()
    audit.record(session, actor, kind.replace("_", "-"), "case", case.id, hearing_id=item.id,
                 start_on=start_on.isoformat(), end_on=end_on.isoformat(), paused_days=paused)
    return item


def hearings(session: Session, case: Case) -> list[Hearing]:
    """The hearings and joint meetings of a case, in date order."""
    query = select(Hearing).where(Hearing.case_id == case.id)
    return list(session.scalars(query.order_by(Hearing.start_on, Hearing.id)))


SATISFACTION = ("满意", "基本满意", "不满意")


def rate_satisfaction(session: Session, case: Case, rating: str, *, actor: str) -> None:
    """The petitioner's own rating of how the matter was handled (满意率)."""
    if rating not in SATISFACTION:
        raise RecordsError(f"rating must be one of {'、'.join(SATISFACTION)}")
    if Stage(case.status) not in (Stage.REPLIED, Stage.REVIEW_REPLIED, Stage.RECHECK_REPLIED,
                                  Stage.CLOSED):
        raise RecordsError("a case is rated only after it has been answered")
    case.satisfaction = rating
    audit.record(session, actor, "rate", "case", case.id, rating=rating)
