"""What a user is shown of a case: one row for every list (pages, API, command line)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from records import Case, cases, kinds
from records.calendar import OutsideCalendar, WorkCalendar
from records.privacy import mask_personal
from records.workflow import STAGE_LABELS, TERMINAL, Deadline, Stage


def deadline_dict(clock: Deadline | None, today: dt.date) -> dict[str, Any] | None:
    """One running clock: what is due, by when, under which article, how many days are left."""
    if clock is None:
        return None
    return {"what": clock.what, "due": clock.due, "kind": clock.kind,
            "article": clock.article, "working_days": clock.working_days,
            "office": clock.office,
            "days_left": clock.days_left(today), "overdue": clock.overdue(today)}


def case_row(case: Case, calendar: WorkCalendar, today: dt.date) -> dict[str, Any]:
    """A case in a list: number, stage, owner, flags and the clock that matters now (dates as
    dates). A date past the holiday table is said (``deadline_error``), never guessed."""
    stage = Stage(case.status)
    error = None
    try:
        clock = cases.deadline(case, calendar)
    except OutsideCalendar as e:
        clock, error = None, str(e)
    return {
        "case_id": case.id, "id": case.id, "case_no": case.case_no,
        "title": mask_personal(case.title), "stage": case.status,
        "stage_label": STAGE_LABELS[stage], "terminal": stage in TERMINAL,
        "unit": case.unit.name if case.unit else None, "unit_id": case.unit_id,
        "lead_id": case.lead_id, "township": case.township, "category": case.category,
        "opened_on": case.opened_on, "received_on": case.opened_on,
        "flags": list(case.flags), "version": case.version,
        "matter_kind": case.kind, "sub_kind": case.sub_kind,
        "matter_kind_label": kinds.label(case.kind, case.sub_kind),
        "deadline": deadline_dict(clock, today), "deadline_error": error,
    }


def jsonable(value: Any) -> Any:
    """A row for JSON: dates as YYYY-MM-DD, other values JSON lacks as their text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)
