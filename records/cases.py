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

from records import audit, kinds, query_codes
from records.calendar import WorkCalendar
from records.flags import propose_flags
from records.intake import RecordsError, next_number
from records.models import MEETING_KINDS, RECEIPT_BASES, Case, Hearing, Letter, Reply
from records.workflow import (
    ANSWERS,
    DOCUMENT_LABELS,
    STEP_DOCUMENTS,
    TERMINAL,
    Agenda,
    CaseClock,
    Deadline,
    Evidence,
    IllegalTransition,
    Stage,
    agenda,
    apply,
    assignment_due,
    current_deadline,
    deliver,
    extension_terms,
    handling_due,
    pause,
)
from records.workflow import correct_receipt as correct_receipt_clock

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
        query_code=query_codes.new_query_code(),  # §21 ¶2: printed on the 受理告知书
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
    evidence: Evidence | None = None,
    approved_by: str = "",
) -> Case:
    """Take one workflow action; IllegalTransition leaves the case untouched.

    A step that a document makes (workflow.STEP_DOCUMENTS) needs ``evidence``: the signed
    document (document_signed gives it), or how the petitioner was told where the law allows.
    """
    before = clock_of(case)
    after = apply(before, action, on, calendar=calendar, decision=decision,
                  extension_days=extension_days, evidence=evidence, approved_by=approved_by)
    _store(case, after)
    how: dict[str, object] = {}
    if evidence is not None and action in STEP_DOCUMENTS:
        how = {k: v for k, v in dataclasses.asdict(evidence).items() if v}
        case.steps = {**(case.steps or {}), action: how}
    audit.record(session, actor, "transition", "case", case.id, step=action,
                 on=on.isoformat(), from_stage=before.stage.value, to_stage=after.stage.value,
                 reason=reason, decision=decision, evidence=how,
                 approved_by=approved_by or None,
                 extension_days=after.extension_asked_days if action == "ask_extension"
                 else None)
    return case


def _store(case: Case, clock: CaseClock) -> None:
    case.status = clock.stage.value
    for name in _CLOCK_FIELDS:
        setattr(case, name, getattr(clock, name))


def deadline(case: Case, calendar: WorkCalendar) -> Deadline | None:
    """The clock a clerk should watch for this case now."""
    return current_deadline(clock_of(case), calendar)


def agenda_of(case: Case, calendar: WorkCalendar, today: dt.date) -> Agenda:
    """What is due on this case, by when, and which actions are allowed today."""
    return agenda(clock_of(case), calendar, today)


# ---------------------------------------------------------------- 收信日期

def correct_receipt(session: Session, letter: Letter, on: dt.date, *, basis: str,
                    reason: str, actor: str, today: dt.date) -> None:
    """The clerk's receipt date (postmark, date stamp): every clock of its case recounts."""
    if basis not in RECEIPT_BASES:
        raise RecordsError(f"收信日期的依据须为{'、'.join(RECEIPT_BASES)}之一")
    if not reason.strip():
        raise RecordsError("更正收信日期须写明理由")
    if on > today:
        raise RecordsError(f"收信日期 {on} 晚于今天 {today}")
    before = letter.received_on
    case = letter.case
    if case is not None:
        others = [x.received_on for x in case.letters if x.id != letter.id]
        first = min([on, *others])
        try:
            clock = correct_receipt_clock(clock_of(case), first, today)
        except IllegalTransition as e:
            raise RecordsError(str(e)) from e
        case.opened_on = clock.received_on
    letter.received_on, letter.received_basis = on, basis
    audit.record(session, actor, "correct-receipt", "letter", letter.id,
                 before=before.isoformat(), after=on.isoformat(), basis=basis, reason=reason,
                 case_id=case.id if case is not None else None)


# ---------------------------------------------------------------- documents make the steps

# The step each signed document makes (service_receipt records a delivery, not a step).
DOCUMENT_STEPS = {document: step for step, document in STEP_DOCUMENTS.items()}
OUTSIDE = "outside"  # 流程外文书: signed while its step was not open


@dataclasses.dataclass(frozen=True)
class Signed:
    """What signing a document did to its case: the step it made, or why it is outside."""

    step: str  # a workflow action, OUTSIDE, or "" (a 送达回证)
    reason: str = ""

    @property
    def in_flow(self) -> bool:
        return self.step not in ("", OUTSIDE)


def document_dates(case: Case, template_key: str, calendar: WorkCalendar,
                   on: dt.date) -> dict[str, object]:
    """The dates a document states, from the same clock as the agenda (issued on `on`)."""
    clock = clock_of(case)
    if template_key == "assignment":
        return {"deadline_date": assignment_due(on, calendar)}
    if template_key == "acknowledgement":
        return {"due_date": handling_due(dataclasses.replace(clock, accepted_on=on), calendar)}
    if template_key == "extension_notice":
        if not clock.extension_days:
            return {}  # no approved extension: a notice printed outside the flow states none
        days, new_due = extension_terms(clock, calendar)
        return {"extension_days": days, "new_due_date": new_due,
                "original_due_date": handling_due(clock, calendar, with_extension=False),
                **({"accepted_date": clock.accepted_on} if clock.accepted_on else {})}
    return {}


def document_signed(session: Session, case: Case, template_key: str, *, on: dt.date,
                    actor: str, calendar: WorkCalendar, decision: str | None = None,
                    reply: Reply | None = None) -> Signed:
    """A reply was signed: the step it makes is taken, or it is named 流程外文书 with the reason.

    The reply service calls this when a document of a case is signed; ``decision`` is the
    处理意见书's own decision, which becomes the case's.
    """
    step = DOCUMENT_STEPS.get(template_key)
    if step is None:
        result = Signed("" if template_key == "service_receipt" else OUTSIDE,
                        "" if template_key == "service_receipt" else
                        f"{template_key} 不是流程中的文书")
    else:
        reason = agenda_of(case, calendar, on).refusal(step)
        if reason:
            result = Signed(OUTSIDE, reason)
        else:
            evidence = Evidence(document=template_key,
                                note=f"reply {reply.id}" if reply is not None else "")
            try:
                transition(session, case, step, on, actor=actor, calendar=calendar,
                           decision=decision, evidence=evidence,
                           reason=f"签发{DOCUMENT_LABELS[template_key]}")
            except IllegalTransition as e:
                raise RecordsError(str(e)) from e
            if reply is not None:
                case.steps = {**case.steps, step: {"document": template_key,
                                                   "reply_id": reply.id}}
            result = Signed(step)
    if reply is not None:
        reply.step = result.step
    audit.record(session, actor, "document-signed", "case", case.id, template=template_key,
                 step=result.step, reason=result.reason,
                 reply_id=reply.id if reply is not None else None)
    return result


def document_delivered(session: Session, case: Case, template_key: str, on: dt.date, *,
                       actor: str) -> None:
    """A written answer reached the petitioner: its date starts the §35/§36 window."""
    if template_key not in ANSWERS:
        return  # only the answers start a window; other deliveries stay on their reply
    try:
        after = deliver(clock_of(case), template_key, on)
    except IllegalTransition as e:
        raise RecordsError(str(e)) from e
    _store(case, after)
    audit.record(session, actor, "document-delivered", "case", case.id, template=template_key,
                 on=on.isoformat())


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
    """听证 or 联席会议; only a hearing during 复核 is outside a period (§36 ¶2), so only it
    moves a deadline; at other stages it is recorded and the clock runs on (§34 excludes none)."""
    if kind not in MEETING_KINDS:
        raise RecordsError(f"kind must be one of {', '.join(MEETING_KINDS)}, not {kind!r}")
    if end_on < start_on:
        raise RecordsError(f"the meeting ends ({end_on}) before it starts ({start_on})")
    if start_on < case.opened_on:
        raise RecordsError(f"the meeting starts ({start_on}) before the case was received "
                           f"({case.opened_on})")
    paused = 0
    if kind == "hearing" and Stage(case.status) is Stage.RECHECK_REQUESTED:
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
# How an evaluation reached the office: on the public page, or told to a clerk (§21 ¶2).
SATISFACTION_WAYS = ("网上", "电话", "当面")


def rate_satisfaction(session: Session, case: Case, rating: str, *, actor: str,
                      way: str = "当面", note: str = "", on: dt.date | None = None) -> None:
    """The petitioner's own rating of how the matter was handled (满意率), given once.

    It opens when the 处理意见书 has reached the petitioner (§35 counts from 收到书面答复之日):
    the petitioner judges the answer in hand, and 复查/复核 are their own remedy, not a second
    evaluation."""
    if rating not in SATISFACTION:
        raise RecordsError(f"评价须为{'、'.join(SATISFACTION)}之一")
    if way not in SATISFACTION_WAYS:
        raise RecordsError(f"评价方式须为{'、'.join(SATISFACTION_WAYS)}之一")
    if case.replied_delivered_on is None:
        raise RecordsError("信访处理意见书送达后才能评价（《信访工作条例》第二十一条第二款、"
                           "第三十五条：自收到书面答复之日起）")
    if case.satisfaction is not None:
        given = (f"（{case.satisfaction_way}，{case.satisfaction_on}）" if case.satisfaction_way
                 else "")
        raise RecordsError(f"该事项已有评价：{case.satisfaction}{given}，每件事项只评价一次")
    case.satisfaction, case.satisfaction_way = rating, way
    case.satisfaction_note = note.strip()[:500] or None
    case.satisfaction_on = on
    audit.record(session, actor, "rate", "case", case.id, rating=rating, way=way)


# ---------------------------------------------------------------- the kind of matter (§§29-31)

def kind_proposal(case: Case) -> kinds.KindProposal:
    """The kind the matter's letters suggest (records.kinds), its first letter weighing most."""
    letters = sorted(case.letters, key=lambda x: (x.received_on, x.id))
    text = "\n".join(x.text or x.summary or "" for x in letters) or case.title
    return kinds.propose_kind(text)


def classify(session: Session, case: Case, kind: str, sub_kind: int | None, *, actor: str,
             reason: str = "") -> None:
    """The clerk's word on the kind; a matter whose 复查 has begun keeps a kind that has it."""
    try:
        kinds.check(kind, sub_kind)
    except ValueError as e:
        raise RecordsError(str(e)) from e
    if case.review_requested_on is not None and not kinds.has_chain(kind, sub_kind):
        raise RecordsError(f"信访人已于 {case.review_requested_on} 请求复查：不能改为没有复查、"
                           f"复核的{kinds.label(kind, sub_kind)}（第三十五条）")
    before = kinds.label(case.kind, case.sub_kind)
    proposal = kind_proposal(case)
    case.kind, case.sub_kind = kind, sub_kind
    audit.record(session, actor, "classify", "case", case.id, kind=kind, sub_kind=sub_kind,
                 before=before, reason=reason,
                 proposed=kinds.label(proposal.kind, proposal.sub_kind),
                 proposed_reason=proposal.reason)
