"""重大、紧急 (§25): a matter marked so, and each report of it, to whom, when and how.

§25: 对可能造成社会影响的重大、紧急信访事项和信访信息，应当及时报告本级党委和政府，通报相关
主管部门和本级信访工作联席会议办公室……地方各级党委和政府信访部门接到重大、紧急信访事项和信访
信息，应当向上一级信访部门报告，同时报告国家信访局。

RECIPIENTS are those the article names; a case is urgent from its first row, and the list shows
which recipients have not been told yet (§46(四): 隐瞒、谎报、缓报 is a fault).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import Session

from records import audit
from records.errors import RecordsError
from records.models import Case, UrgentReport
from records.workflow import TERMINAL

RECIPIENTS = ("本级党委和政府", "相关主管部门", "信访工作联席会议办公室", "上一级信访部门",
              "国家信访局")
WAYS = ("电话", "书面", "当面", "信息系统")


def report(session: Session, case: Case, *, reason: str = "", recipient: str = "",
           person: str = "", how: str = "", told_at: dt.datetime | None = None,
           actor: str, now: dt.datetime) -> UrgentReport:
    """Mark the case urgent (the first row needs the reason) and/or record one report of it."""
    first = not is_urgent(session, case)
    if first and not reason.strip():
        raise RecordsError("请写明为何属于重大、紧急信访事项（可能造成的社会影响）")
    if recipient:
        if recipient not in RECIPIENTS:
            raise RecordsError(f"报告对象须为{'、'.join(RECIPIENTS)}之一（第二十五条）")
        if how not in WAYS:
            raise RecordsError(f"请选择报告方式：{'、'.join(WAYS)}")
        if told_at is None:
            raise RecordsError("请填写报告时间")
        if told_at > now:
            raise RecordsError(f"报告时间 {told_at:%Y-%m-%d %H:%M} 晚于现在")
    elif not first:
        raise RecordsError("请选择报告对象（第二十五条）")
    item = UrgentReport(case_id=case.id, reason=reason.strip(), recipient=recipient,
                        person=person.strip()[:64], how=how if recipient else "",
                        told_at=told_at if recipient else None, by=actor)
    session.add(item)
    session.flush()
    audit.record(session, actor, "urgent", "case", case.id, report_id=item.id,
                 recipient=recipient or None, person=item.person or None, how=item.how or None,
                 told_at=told_at.isoformat(timespec="minutes") if recipient and told_at
                 else None, reason=item.reason or None)
    return item


def is_urgent(session: Session, case: Case) -> bool:
    """Whether the case has been marked 重大、紧急."""
    return bool(session.scalar(select(exists().where(UrgentReport.case_id == case.id))))


def reports(session: Session, case: Case) -> list[UrgentReport]:
    """The marking and every report of the case, oldest first."""
    query = select(UrgentReport).where(UrgentReport.case_id == case.id)
    return list(session.scalars(query.order_by(UrgentReport.id)))


def untold(rows: Iterable[UrgentReport]) -> list[str]:
    """The recipients §25 names that no report reached yet."""
    told = {r.recipient for r in rows if r.recipient}
    return [r for r in RECIPIENTS if r not in told]


def urgent_clause() -> ColumnElement[bool]:
    """Case is marked 重大、紧急 (for a WHERE on Case)."""
    return exists().where(UrgentReport.case_id == Case.id)


def urgent_cases(session: Session, *, scope: ColumnElement[bool] | None = None,
                 open_only: bool = True) -> list[Case]:
    """Cases marked 重大、紧急, newest mark first; open ones only unless asked."""
    query = select(Case).where(urgent_clause(), scope if scope is not None else true())
    if open_only:
        query = query.where(Case.status.not_in([s.value for s in TERMINAL]))
    return list(session.scalars(query.order_by(Case.id.desc())))
