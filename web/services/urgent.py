"""重大、紧急 (§25): the list for leaders (page, API, `huiyin cases --urgent`) and a case's
reports, read once here so that every door shows the same thing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from records import Case, UrgentReport, urgency
from web.services.access import SignedIn, case_scope
from web.services.case_view import case_row
from web.services.instance import Instance

RECIPIENTS, WAYS = urgency.RECIPIENTS, urgency.WAYS


def _local(instance: Instance, at: dt.datetime) -> str:
    """A stored UTC time in the office's time zone (the report times are entered local)."""
    return instance.local_time(at).strftime("%Y-%m-%d %H:%M")


def report_dict(row: UrgentReport, instance: Instance) -> dict[str, Any]:
    """One row: the marking (its reason) or a report (to whom, who, when, how)."""
    return {"id": row.id, "reason": row.reason, "recipient": row.recipient,
            "person": row.person, "how": row.how,
            "told_at": row.told_at.strftime("%Y-%m-%d %H:%M") if row.told_at else None,
            "by": row.by, "at": _local(instance, row.at)}


def urgent_of(session: Session, case: Case, instance: Instance) -> dict[str, Any] | None:
    """The case's 重大紧急 record: why, its reports, who is not told yet; None if unmarked.
    Times are the office's local time."""
    rows = urgency.reports(session, case)
    if not rows:
        return None
    reasons = [r.reason for r in rows if r.reason]
    told = [r for r in rows if r.recipient]
    return {"reason": "；".join(reasons), "marked_at": _local(instance, rows[0].at),
            "marked_by": rows[0].by,
            "reports": [report_dict(r, instance) for r in told], "untold": urgency.untold(rows),
        "first_told_at": min((r.told_at for r in told if r.told_at), default=None)}


def urgent_list(instance: Instance, user: SignedIn, *, open_only: bool = True,
                today: dt.date | None = None) -> list[dict[str, Any]]:
    """Open matters marked 重大、紧急 that the user may see, newest mark first."""
    today = today or instance.today()
    with instance.db.session() as session:
        found = urgency.urgent_cases(session, scope=case_scope(user), open_only=open_only)
        return [{**case_row(case, instance.calendar, today),
                 "urgent": urgent_of(session, case, instance)} for case in found]
