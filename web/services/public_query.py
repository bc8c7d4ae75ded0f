"""The petitioner's own view (§18, §21 ¶2): the public query page, the evaluation, the code.

A petitioner types the query code of the 受理告知书 and sees the matter's number, its stage in
plain words, the running deadline (records' agenda, as on the case page) and the documents
already delivered, each with its verification link. Never the letter, never a person's name,
never another matter. After the 处理意见书 is delivered the same page takes one evaluation
(records.cases.rate_satisfaction). Wrong codes are limited per address (records.query_codes).

Exception tree::

    QueryRefused           a wrong code, a refused evaluation; the message is for the public
    └── TooManyTries       too many wrong codes from this address: `retry_at` says when
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import letters
from records import Case, RecordsError, Reply, audit, cases, query_codes
from records.models import utcnow
from records.workflow import Stage
from web.services import case_clock
from web.services.errors import ServiceError
from web.services.instance import Instance
from web.services.replies import query_url, verify_code

# The stage as a petitioner reads it (not the office's short labels).
PUBLIC_STAGES = {
    Stage.REGISTERED: "已登记，正在审查是否受理",
    Stage.ACCEPTED: "已受理，正在办理",
    Stage.NOT_ACCEPTED: "不予受理（已书面告知）",
    Stage.TRANSFERRED: "已转送有权处理的机关办理",
    Stage.ASSIGNED: "已交办承办单位",
    Stage.HANDLING: "正在办理",
    Stage.REPLIED: "已出具信访处理意见书",
    Stage.REVIEW_REQUESTED: "正在复查",
    Stage.REVIEW_REPLIED: "已出具复查意见书",
    Stage.RECHECK_REQUESTED: "正在复核",
    Stage.RECHECK_REPLIED: "已出具复核意见书（终结）",
    Stage.CLOSED: "已办结",
    Stage.WITHDRAWN: "已撤回",
}
PUBLIC_ACTOR = "信访人（查询页面）"
WRONG_CODE = ("查询码不正确，没有找到对应的信访事项。请核对受理告知书上的12位查询码"
              "（字母不分大小写，短横线可不输入）；仍有疑问，请致电本机关。")
MAX_NOTE = 500


class QueryRefused(ServiceError):
    """A query or an evaluation refused; the message is safe to show the public."""


class TooManyTries(QueryRefused):
    """Too many wrong codes from one address within the hour."""

    def __init__(self, message: str, *, retry_at: dt.datetime, now: dt.datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at
        self.seconds = max(int((retry_at - now).total_seconds()), 1)  # HTTP's Retry-After


def look_up(instance: Instance, code: str, remote_addr: str) -> dict[str, Any]:
    """What the public page shows for a query code (the try is kept; a read is audited)."""
    with instance.db.session() as session:
        case, limited = _case(instance, session, code, remote_addr)
        if case is not None:
            audit.record(session, PUBLIC_ACTOR, "read", "case", case.id, via="query")
            return _view(instance, session, case)
    raise limited or QueryRefused(WRONG_CODE)


def evaluate(instance: Instance, code: str, rating: str, note: str,
             remote_addr: str) -> dict[str, Any]:
    """The petitioner's one evaluation, given on the public page (way 网上); the matter's view
    comes back with ``refusal`` saying why when it was not taken (a second one, too early)."""
    with instance.db.session() as session:
        case, limited = _case(instance, session, code, remote_addr)
        if case is not None:
            refusal = None
            try:
                if len(note) > MAX_NOTE:
                    raise RecordsError(f"意见请不超过{MAX_NOTE}字")
                with session.begin_nested():  # a refused evaluation changes nothing
                    cases.rate_satisfaction(session, case, rating, actor=PUBLIC_ACTOR,
                                            way="网上", note=note, on=instance.today())
            except RecordsError as e:
                refusal = str(e)
            return {**_view(instance, session, case), "refusal": refusal}
    raise limited or QueryRefused(WRONG_CODE)


def office_code(instance: Instance, case_ref: str | int, *, actor: str,
                new: bool = False) -> dict[str, Any]:
    """A matter's query code for the office to read out (a new one with `new`, audited)."""
    with instance.db.session() as session:
        case = cases.get_case(session, case_ref)
        if new or case.query_code is None:
            query_codes.renew(session, case, actor=actor)
        assert case.query_code is not None
        return {"case_id": case.id, "case_no": case.case_no,
                "code": query_codes.shown(case.query_code), "url": query_url(instance)}


def _case(instance: Instance, session: Session, code: str,
          remote_addr: str) -> tuple[Case | None, TooManyTries | None]:
    """The matter of a code, or the refusal past the limit; either way the try is kept."""
    now = utcnow()
    retry_at = query_codes.retry_at(session, remote_addr, now)
    if retry_at is not None:
        query_codes.record_try(session, remote_addr, now, None, limited=True)
        local = instance.local_time(retry_at)
        return None, TooManyTries(
            f"查询码输错次数过多（每小时最多{query_codes.WRONG_CODES_PER_HOUR}次），"
            f"请于{local:%Y-%m-%d %H:%M}以后再试；急事请致电本机关。", retry_at=retry_at,
            now=now)
    case = query_codes.case_of_code(session, code)
    query_codes.record_try(session, remote_addr, now, case)
    return case, None


def _view(instance: Instance, session: Session, case: Case) -> dict[str, Any]:
    """The public's view of one matter: no letter, no person, no other matter."""
    agenda = case_clock.agenda_dict(instance, case)
    current = agenda["current"]
    replies = session.scalars(select(Reply).where(
        Reply.case_id == case.id, Reply.delivered_on.is_not(None),
        Reply.signed_pdf_sha256.is_not(None), Reply.superseded_by_id.is_(None))
        .order_by(Reply.delivered_on, Reply.id))
    documents = [{"title": letters.template_title(r.template), "doc_number": r.doc_number,
                  "delivered_on": r.delivered_on.isoformat() if r.delivered_on else None,
                  "verify_code": verify_code(instance, r.id)} for r in replies]
    stage = Stage(case.status)
    return {
        "case_no": case.case_no, "stage": PUBLIC_STAGES[stage],
        "received_on": case.opened_on.isoformat(),
        "unit": case.unit.name if case.unit else None,
        "deadline": None if current is None else {
            "what": current["what"], "due": current["due"], "article": current["article"],
            "days_left": current["days_left"], "kind": current["kind"],
            "overdue": current["overdue"]},
        "deadline_error": agenda["error"],
        "documents": documents,
        "evaluation": None if case.satisfaction is None else {
            "rating": case.satisfaction, "way": case.satisfaction_way,
            "on": case.satisfaction_on.isoformat() if case.satisfaction_on else None},
        "may_evaluate": case.satisfaction is None and case.replied_delivered_on is not None,
        "ratings": list(cases.SATISFACTION),
        "today": instance.today().isoformat(),
    }


# -- wrong codes, for the admin ---------------------------------------------------------------

def mask_address(address: str) -> str:
    """A member of the public's address as the admin sees it: the network, not the machine
    (203.0.113.* , 2001:db8:85a3:*); enough to see one source guessing, not to name a home."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "（地址无法识别）"
    if isinstance(ip, ipaddress.IPv4Address):
        return ".".join(address.split(".")[:3]) + ".*"
    return ":".join(ip.exploded.split(":")[:3]) + ":*"


def refused_tries(instance: Instance, *, days: int = 7) -> list[dict[str, Any]]:
    """The wrong query codes of the last days per (masked) address, latest first: a guessing
    attack shows as many tries from one source. No code is kept, so none is shown."""
    since = utcnow() - dt.timedelta(days=days)
    with instance.db.session() as session:
        rows = query_codes.refused_tries(session, since)
    return [{"address": mask_address(addr), "wrong": wrong, "limited": limited,
             "first": instance.local_time(first).strftime("%Y-%m-%d %H:%M"),
             "last": instance.local_time(last).strftime("%Y-%m-%d %H:%M")}
            for addr, wrong, limited, first, last in rows]


def prune_tries(instance: Instance) -> int:
    """Forget the query page's tries older than query_codes.KEEP_TRIES (the worker, hourly)."""
    with instance.db.session() as session:
        return query_codes.prune_tries(session, utcnow())
