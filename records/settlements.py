"""调解 and 和解 (§33): an agreement reached while a 申诉求决 matter is being handled ends it.

§33: 各级机关、单位在处理申诉求决类事项过程中……经争议双方当事人同意进行调解；可以引导争议双方
当事人自愿和解。经调解、和解达成一致意见的，应当制作调解协议书或者和解协议书。

So an agreement is recorded only for a 申诉求决 matter (or one not yet classified) while it
is being handled (受理后至答复前, or while a 复查 or 复核 is being answered), needs both sides
(two parties at least), its terms and the signed document; the matter then ends as 已办结 on
the day it was signed. No 信访处理意见 is issued, so no §35 window for 复查 opens
(docs/regulation.md says what is text and what is practice here).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit, kinds
from records.errors import RecordsError
from records.models import Case, CaseNote, Settlement
from records.workflow import STAGE_LABELS, Stage

KINDS = ("调解", "和解")
DOCUMENTS = {"调解": "调解协议书", "和解": "和解协议书"}
# 在处理……过程中: after acceptance and before the answer, or while 复查 / 复核 is answered.
WHILE_HANDLING = frozenset({Stage.ACCEPTED, Stage.HANDLING, Stage.REVIEW_REQUESTED,
                            Stage.RECHECK_REQUESTED})


def refusal(case: Case) -> str:
    """Why the case cannot be ended by an agreement now ("" when it can)."""
    if case.kind is not None and case.kind != kinds.CLAIM:
        return (f"调解、和解用于申诉求决类事项（第三十三条）：本事项为"
                f"{kinds.label(case.kind, case.sub_kind)}")
    stage = Stage(case.status)
    if stage not in WHILE_HANDLING:
        return (f"事项“{STAGE_LABELS[stage]}”时不能登记调解、和解：调解、和解在处理事项过程中"
                "进行（受理后至答复前，或复查、复核期间，第三十三条）")
    return ""


def settle(session: Session, case: Case, *, kind: str, parties: list[str], terms: str,
           signed_on: dt.date, file_sha256: str, file_name: str, media_type: str,
           size: int, actor: str, today: dt.date) -> Settlement:
    """Record the signed agreement (its scan a case note's file) and end the matter on its day."""
    if kind not in KINDS:
        raise RecordsError(f"协议种类须为{'、'.join(KINDS)}之一")
    refused = refusal(case)
    if refused:
        raise RecordsError(refused)
    named = [p.strip() for p in parties if p.strip()]
    if len(named) < 2:
        raise RecordsError("请填写争议双方当事人（至少两方，第三十三条）")
    if not terms.strip():
        raise RecordsError(f"请填写{DOCUMENTS[kind]}的协议内容")
    earliest = case.last_action_on or case.opened_on
    if signed_on > today:
        raise RecordsError(f"签订日期 {signed_on} 晚于今天 {today}")
    if signed_on < earliest:
        raise RecordsError(f"签订日期 {signed_on} 早于上一步的日期 {earliest}")
    if session.scalar(select(Settlement.id).where(Settlement.case_id == case.id)):
        raise RecordsError("此事项已登记协议书")
    note = CaseNote(case_id=case.id, text=f"{DOCUMENTS[kind]}（签字件）", file_name=file_name,
                    file_sha256=file_sha256, media_type=media_type, size=size, by=actor)
    session.add(note)
    session.flush()
    item = Settlement(case_id=case.id, kind=kind, parties=named, terms=terms.strip(),
                      signed_on=signed_on, note_id=note.id, by=actor)
    session.add(item)
    before = case.status
    case.status, case.last_action_on = Stage.CLOSED.value, signed_on
    case.steps = {**(case.steps or {}), "settle": {"document": DOCUMENTS[kind],
                                                   "note_id": note.id}}
    session.flush()
    audit.record(session, actor, "transition", "case", case.id, step="settle",
                 on=signed_on.isoformat(), from_stage=before, to_stage=case.status,
                 reason=DOCUMENTS[kind], settlement_id=item.id, kind=kind, parties=named,
                 evidence={"document": DOCUMENTS[kind], "note_id": note.id})
    return item


def settlement_of(session: Session, case: Case) -> Settlement | None:
    """The agreement that ended the case, if one did."""
    return session.scalars(select(Settlement).where(Settlement.case_id == case.id)).first()
