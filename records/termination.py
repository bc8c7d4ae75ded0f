"""A letter on a matter that is not accepted again: ended after 复核 (§36 ¶3), or still being
handled within its period (§19 ¶3).

    §36 ¶3: 信访人对复核意见不服，仍然以同一事实和理由提出投诉请求的，……不再受理。
    §19 ¶3: 信访事项已经受理或者正在办理的，信访人在规定期限内向受理、办理机关、单位的
            上级机关、单位又提出同一信访事项的，上级机关、单位不予受理。

A letter linked to such a matter is proposed 不予受理 with the article and the earlier document
it rests on (the 复核意见书, or the 受理告知书 / 交办单); the clerk decides, and the decision is
kept on the letter (Letter.not_accepted_under), where records.stats counts it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.calendar import OutsideCalendar, WorkCalendar
from records.errors import RecordsError
from records.models import Case, Letter, Reply
from records.workflow import CaseClock, Stage, current_deadline

ENDED = "第三十六条第三款"
IN_HAND = "第十九条第三款"
ARTICLES = (ENDED, IN_HAND)
WORDS = {
    ENDED: "信访人对复核意见不服，仍然以同一事实和理由提出投诉请求的，各级党委和政府信访部门"
           "和其他机关、单位不再受理",
    IN_HAND: "信访事项已经受理或者正在办理的，信访人在规定期限内向受理、办理机关、单位的上级"
             "机关、单位又提出同一信访事项的，上级机关、单位不予受理",
}
# The stages in which a matter is being handled by its unit, with a period running.
_IN_HAND = frozenset({Stage.ASSIGNED, Stage.ACCEPTED, Stage.HANDLING, Stage.REVIEW_REQUESTED,
                      Stage.RECHECK_REQUESTED})


@dataclass(frozen=True)
class Termination:
    """Why a letter is proposed 不予受理: the article, its words, the earlier document."""

    article: str
    citing: str  # the earlier document's number (or the matter's, when none was signed)
    reason: str

    @property
    def words(self) -> str:
        return WORDS[self.article]


def propose(session: Session, case: Case, letter: Letter, clock: CaseClock,
            calendar: WorkCalendar) -> Termination | None:
    """Whether `letter`, linked to `case`, is not to be accepted again, and under which article.

    Only a later letter counts (never the matter's first): after the 复核意见 for §36 ¶3; on or
    before the day the running period ends, while a unit handles it, for §19 ¶3."""
    first = min((x.received_on, x.id) for x in case.letters)
    if (letter.received_on, letter.id) == first:
        return None
    if clock.recheck_replied_on is not None and letter.received_on > clock.recheck_replied_on:
        citing = _document(session, case, "re_review_opinion") or case.case_no
        return Termination(ENDED, citing,
                           f"事项已于 {clock.recheck_replied_on} 出具复核意见（{citing}），"
                           f"本件于 {letter.received_on} 来信")
    if clock.stage in _IN_HAND and case.unit is not None:
        try:
            running = current_deadline(clock, calendar)
        except OutsideCalendar:
            running = None
        if running is None or running.kind != "duty" or letter.received_on > running.due:
            return None
        step = "assign" if clock.assigned_on is not None else "accept"
        citing = (_step_document(session, case, step) or case.case_no)
        return Termination(IN_HAND, citing,
                           f"事项正由{case.unit.name}办理（{citing}），期限至 {running.due}，"
                           f"本件于 {letter.received_on} 又向本机关提出")
    return None


def decide(session: Session, letter: Letter, proposal: Termination, on: dt.date, *,
           actor: str) -> None:
    """The clerk's decision: the letter is not accepted, under the proposal's article."""
    if letter.not_accepted_under is not None:
        raise RecordsError(f"来信 {letter.reg_no} 已依{letter.not_accepted_under}不予受理")
    letter.not_accepted_under, letter.not_accepted_citing = proposal.article, proposal.citing
    audit.record(session, actor, "not-accept-letter", "letter", letter.id,
                 case_id=letter.case_id, article=proposal.article, citing=proposal.citing,
                 reason=proposal.reason, on=on.isoformat())


def _document(session: Session, case: Case, template: str) -> str | None:
    """The number of the case's newest signed document of this template."""
    return session.scalar(
        select(Reply.doc_number).where(Reply.case_id == case.id, Reply.template == template,
                                       Reply.signed_at.is_not(None),
                                       Reply.superseded_by_id.is_(None))
        .order_by(Reply.id.desc()).limit(1))


def _step_document(session: Session, case: Case, step: str) -> str | None:
    """The number of the document that made a step (Case.steps), if one did."""
    reply_id = (case.steps or {}).get(step, {}).get("reply_id")
    if reply_id is None:
        return None
    reply = session.get(Reply, reply_id)
    return reply.doc_number if reply is not None else None
