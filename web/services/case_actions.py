"""Actions on one case, shared by the case pages and the JSON API.

Each action is checked three ways before anything changes: the role may take it
(ACTION_ROLES), the workflow allows it from the case's stage (records.workflow.TRANSITIONS),
and the caller saw the case's current version (optimistic locking: a stale version raises
StaleCase, which names what changed since). The rules themselves stay in records (workflow,
routing's §30 check, supervision); this module only parses a form and calls them, as the
CLI (web/cli_cases.py) does.

Exception tree::

    ActionError            the action was refused; str(e) says why, in Chinese
    ├── StaleCase          someone changed the case since the caller looked (HTTP 409)
    └── NotAllowed         this role may not take this action (HTTP 403)
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from records import (
    AuditEvent,
    Case,
    Letter,
    RecordsError,
    Reply,
    Unit,
    User,
    cases,
    intake,
    kinds,
    settlements,
    termination,
    urgency,
)
from records import supervision as supervising
from records.calendar import OutsideCalendar
from records.models import utcnow
from records.routing import AccusationConflict, assign_owner, mark_accusation, route_case
from records.workflow import (
    ACTION_LABELS,
    DECISIONS,
    STAGE_LABELS,
    STEP_DOCUMENTS,
    Evidence,
    IllegalTransition,
    Stage,
    allowed_actions,
)
from web.services.access import CONSOLE
from web.services.dates import DateError, optional_day, parse_day
from web.services.errors import ServiceError
from web.services.instance import Instance
from web.services.settlement import SignedCopyError, read_signed_copy

log = logging.getLogger("huiyin.cases")

# Workflow actions (records.workflow) and the case's other records, with the roles that take
# them: the office (clerk, leader) routes and supervises, the unit (handler) handles.
OFFICE, UNIT, ALL = ("clerk", "leader"), ("handler", "leader"), ("clerk", "handler", "leader")
# §34: a handler asks for an extension, the organ's 负责人 (a leader) approves it.
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "accept": OFFICE, "not_accept": OFFICE, "transfer": OFFICE, "assign": OFFICE,
    "receive_assignment": UNIT, "object": UNIT, "start": ALL, "ask_extension": UNIT,
    "extend": ("leader",), "notify_extension": ALL, "reply": UNIT,
    "request_review": OFFICE, "answer_review": OFFICE, "request_recheck": OFFICE,
    "answer_recheck": OFFICE, "waive": OFFICE, "close": OFFICE, "withdraw": OFFICE,
    "owner": OFFICE, "hearing": ALL, "supervise": OFFICE, "resolve": OFFICE,
    "instruct": ("leader",), "done": ALL, "flag": OFFICE, "accuse": OFFICE, "receipt": OFFICE,
    "rate": OFFICE, "classify": OFFICE, "not_accept_letter": OFFICE,
    "settle": ALL, "urgent": ALL,
}
OTHER_LABELS = {"owner": "指定承办单位、包案领导", "hearing": "听证、联席会议", "supervise": "督办",
                "resolve": "督办事项办结", "instruct": "领导批示", "done": "批示事项落实",
                "flag": "标记", "accuse": "记录被检举对象", "receipt": "更正收信日期",
                "rate": "登记信访人评价", "classify": "确定事项类别",
                "not_accept_letter": "再次来信不予受理", "settle": "调解、和解（协议书）",
                "urgent": "重大紧急：标记、报告"}
LABELS = {**ACTION_LABELS, "transfer": "转送", "assign": "交办", **OTHER_LABELS}
# How a petitioner's evaluation reaches the office ("网上" comes only through the query page).
OFFICE_RATING_WAYS = tuple(w for w in cases.SATISFACTION_WAYS if w != "网上")
# Workflow actions that send the case to a unit: the unit is chosen in the same form.
TO_UNIT = ("transfer", "assign")
# Actions that change what the search index holds for the case's letters (status, unit).
REINDEX = frozenset(ACTION_LABELS) | {"owner", "transfer", "assign"}


class ActionError(ServiceError):
    """An action refused; the message is for the user."""


class NotAllowed(ActionError):
    """The user's role does not take this action."""


@dataclass(frozen=True)
class Change:
    """One audit event, detached from the database (what a stale form missed)."""

    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    detail: dict[str, Any]


class StaleCase(ActionError):
    """The case changed since the caller loaded it; `changes` lists what happened since."""

    def __init__(self, message: str, *, version: int, changes: list[Change]) -> None:
        super().__init__(message)
        self.version = version
        self.changes = changes


@dataclass
class Outcome:
    """What an action did: a message for the user and the case's new version."""

    case_id: int
    action: str
    message: str
    version: int
    stage: str
    details: dict[str, Any] = field(default_factory=dict)


def open_case(instance: Instance, letter_ref: str | int, *, actor: str,
              title: str = "") -> int:
    """Open a matter from a letter; the routing table gives it its owner; the index follows."""
    with instance.db.session() as session:
        letter = intake.find_letter(session, str(letter_ref))
        case = cases.open_case(session, letter, actor=actor, title=title)
        route_case(session, case, actor=actor)
        case_id = case.id
    reindex_case(instance, case_id, actor=actor)
    return case_id


def link_letter(instance: Instance, letter_ref: str | int, case_ref: str | int, *, actor: str,
                reason: str = "") -> int:
    """Link a letter to an existing matter (its status and unit in the index follow)."""
    with instance.db.session() as session:
        letter = intake.find_letter(session, str(letter_ref))
        case = cases.get_case(session, case_ref)
        cases.link_letter(session, letter, case, actor=actor, reason=reason)
        case_id = case.id
    reindex_case(instance, case_id, actor=actor)
    return case_id


def act_on(instance: Instance, case_ref: str | int, action: str, form: Mapping[str, str], *,
           actor: str, role: str, upload: tuple[str, IO[bytes]] | None = None) -> Outcome:
    """`act` on the case as it is now, by id or number (the command line has no stale form)."""
    with instance.db.session() as session:
        case = cases.get_case(session, case_ref)
        case_id, version = case.id, case.version
    return act(instance, case_id, action, form, actor=actor, role=role,
               expected_version=version, upload=upload)


def available(case: Case, role: str) -> list[str]:
    """The actions this role may take on the case now (workflow ones only when legal)."""
    stage = Stage(case.status)
    legal = set(allowed_actions(stage))
    terminal = stage in (Stage.NOT_ACCEPTED, Stage.TRANSFERRED, Stage.CLOSED, Stage.WITHDRAWN)
    shown = []
    for action, roles in ACTION_ROLES.items():
        if role not in roles:
            continue
        if action in ACTION_LABELS and action not in legal:
            continue
        # a letter to a matter ended after 复核 is not accepted again (§36 ¶3) after its end
        if action in OTHER_LABELS and terminal and action not in ("resolve", "done",
                                                                  "not_accept_letter"):
            if not (action == "rate" and case.replied_delivered_on):  # 办结 after the answer
                continue
        if action == "settle" and settlements.refusal(case):
            continue
        shown.append(action)
    return shown


def act(instance: Instance, case_id: int, action: str, form: Mapping[str, str], *,
        actor: str, role: str, expected_version: int, seen_event: int | None = None,
        upload: tuple[str, IO[bytes]] | None = None) -> Outcome:
    """Take one action on a case for a user; raise ActionError (or a subclass) to refuse.

    The caller has already checked that the user may see the case. ``form`` holds the
    action's fields (date ``on``, ``reason``, ``unit``, ``lead``, ``decision``, ``days`` ...);
    ``upload`` the file an action takes (the signed 协议书 of ``settle``: name and stream).
    """
    if action not in ACTION_ROLES:
        raise ActionError(f"没有“{action}”这项操作")
    if role != CONSOLE and role not in ACTION_ROLES[action]:
        raise NotAllowed(f"您的角色不能{LABELS[action]}")
    try:
        with instance.db.session() as session:
            case = session.get(Case, case_id)
            if case is None:
                raise ActionError("没有这个信访事项")
            if case.version != expected_version:
                raise _stale(session, case, seen_event)
            message, details = _do(instance, session, case, action, form, actor, upload)
            case.updated_at = utcnow()  # every action bumps the version: the page is outdated
            session.flush()
            outcome = Outcome(case.id, action, message, case.version, case.status, details)
    except StaleDataError:
        with instance.db.session() as session:
            case = session.get(Case, case_id)
            assert case is not None
            raise _stale(session, case, seen_event) from None
    if action in REINDEX:
        reindex_case(instance, case_id, actor=actor)
    return outcome


def _stale(session: Session, case: Case, seen_event: int | None) -> StaleCase:
    """The refusal of a stale form, with the case's events since the page was shown."""
    events = [Change(e.id, e.at, e.actor, e.action, e.entity, e.entity_id, dict(e.detail or {}))
              for e in case_events(session, case, after=seen_event, limit=20)]
    return StaleCase(
        f"信访事项 {case.case_no} 在您打开页面后已被修改"
        f"（现为“{STAGE_LABELS[Stage(case.status)]}”），请查看变化后重新操作",
        version=case.version, changes=events)


def case_events(session: Session, case: Case, *, after: int | None = None,
                limit: int | None = None, reads: bool = False) -> list[AuditEvent]:
    """The audit events of a case, its letters and its replies, newest first."""
    letter_ids = select(Letter.id).where(Letter.case_id == case.id)
    reply_ids = select(Reply.id).where(Reply.case_id == case.id)
    query = select(AuditEvent).where(or_(
        (AuditEvent.entity == "case") & (AuditEvent.entity_id == case.id),
        (AuditEvent.entity == "letter") & AuditEvent.entity_id.in_(letter_ids),
        (AuditEvent.entity == "reply") & AuditEvent.entity_id.in_(reply_ids),
    ))
    if not reads:
        query = query.where(AuditEvent.action != "read")
    if after is not None:
        query = query.where(AuditEvent.id > after)
    query = query.order_by(AuditEvent.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def last_event_id(session: Session) -> int:
    """The newest audit event of all: a form remembers it, so that a stale one can be shown
    exactly what happened to its case after the page was drawn."""
    return session.scalar(select(func.max(AuditEvent.id))) or 0


def reindex_case(instance: Instance, case_id: int, *, actor: str = "") -> None:
    """Give the index the case's new status and unit for each of its letters.

    A few letters are indexed now; a case of many (web.services.indexing.IN_REQUEST), or any when
    the
    index is busy or unavailable, gets one "index" task per letter for the workers.
    """
    from web.services.indexing import IN_REQUEST, index_or_queue, queue_index

    searchable = (Letter.case_id == case_id) & Letter.ingest_state.in_(("read", "indexed"))
    with instance.db.session() as session:
        ids = list(session.scalars(select(Letter.id).where(searchable)))
        if len(ids) > IN_REQUEST:
            queued = queue_index(session, ids, actor=actor)
            log.info("case %s: %d letters queued for indexing (tasks %s to %s)", case_id,
                     len(ids), min(queued), max(queued))
        elif ids:
            letters = list(session.scalars(select(Letter).where(searchable)))
            index_or_queue(instance, session, letters, actor=actor, why=f"case {case_id}")


def _day(form: Mapping[str, str], name: str, instance: Instance, *,
         required: bool = False, future: bool = False) -> dt.date:
    """A date field (YYYY-MM-DD); blank means today unless required; not after today unless
    ``future`` (the last day of a hearing that has begun)."""
    text = (form.get(name) or "").strip()
    if not text:
        if required:
            raise ActionError(f"请填写日期（{name}）")
        return instance.today()
    try:
        return parse_day(text, not_after=None if future else instance.today())
    except DateError as e:
        raise ActionError(str(e)) from None


def _unit(session: Session, form: Mapping[str, str], *, required: bool) -> Unit | None:
    raw = (form.get("unit") or "").strip()
    if not raw:
        if required:
            raise ActionError("请选择承办单位")
        return None
    unit = session.get(Unit, int(raw)) if raw.isdigit() else session.scalars(
        select(Unit).where(Unit.name == raw)).first()
    if unit is None:
        raise ActionError(f"没有承办单位“{raw[:40]}”")
    return unit


def _lead(session: Session, form: Mapping[str, str]) -> User | None:
    raw = (form.get("lead") or "").strip()
    if not raw:
        return None
    lead = session.get(User, int(raw)) if raw.isdigit() else session.scalars(
        select(User).where(User.username == raw)).first()
    if lead is None or lead.role != "leader":
        raise ActionError(f"没有领导“{raw[:40]}”")
    return lead


def _text(form: Mapping[str, str], name: str, what: str, *, required: bool = True) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        raise ActionError(f"请填写{what}")
    return value[:2000]


def _do(instance: Instance, session: Session, case: Case, action: str,
        form: Mapping[str, str], actor: str,
        upload: tuple[str, IO[bytes]] | None = None) -> tuple[str, dict[str, Any]]:
    """Carry out one action inside the session; records' refusals become ActionError."""
    try:
        if action in ACTION_LABELS:
            return _transition(instance, session, case, action, form, actor)
        if action == "settle":
            return _settle(instance, session, case, form, actor, upload)
        if action == "urgent":
            return _urgent(instance, session, case, form, actor)
        return _other(instance, session, case, action, form, actor)
    except OutsideCalendar as e:
        raise ActionError(str(e)) from e
    except AccusationConflict as e:
        raise ActionError(str(e)) from e
    except IllegalTransition as e:
        raise ActionError(str(e)) from e
    except RecordsError as e:
        raise ActionError(str(e)) from e


def _transition(instance: Instance, session: Session, case: Case, action: str,
                form: Mapping[str, str], actor: str) -> tuple[str, dict[str, Any]]:
    """A workflow step; 转送/交办 first give the case its unit (§30 checked there).

    A step that a document makes is taken here only with how the petitioner was told
    (``told``: 当面告知, 电话告知 with ``note``, 信访人匿名); otherwise signing the document
    (web.services.replies) takes it. An extension is asked (``days``) by the handler and
    approved by the leader who presses 批准延期.
    """
    on = _day(form, "on", instance)
    refused = cases.agenda_of(case, instance.calendar, on).refusal(action)
    if refused:
        raise ActionError(refused)
    reason = _text(form, "reason", "理由", required=action in (
        "ask_extension", "not_accept", "withdraw", "object", "waive"))
    channel = kinds.channel(case.kind, case.sub_kind)
    if action == "not_accept" and channel and channel not in reason:
        reason = f"{reason}；告知途径：{channel}（第三十一条）"
    decision = None
    if action == "reply":
        decision = (form.get("decision") or "").strip()
        if decision not in DECISIONS:
            raise ActionError(f"请选择处理意见：{'、'.join(DECISIONS)}")
    days = 30
    if action == "ask_extension":
        raw = (form.get("days") or "30").strip()
        if not raw.isdigit():
            raise ActionError("延长天数须为 1 至 30 的整数")
        days = int(raw)
    evidence = None
    if action in STEP_DOCUMENTS:
        evidence = Evidence(told=(form.get("told") or "").strip() or None,
                            note=_text(form, "note", "说明", required=False))
    details: dict[str, Any] = {}
    if action in TO_UNIT:
        unit = _unit(session, form, required=action == "assign")
        if unit is not None:
            lead = _lead(session, form)
            assign_owner(session, case, unit, lead, actor=actor,
                         reason=reason or LABELS[action])
            details["unit"] = unit.name
    cases.transition(session, case, action, on, actor=actor, calendar=instance.calendar,
                     reason=reason, decision=decision, extension_days=days, evidence=evidence,
                     approved_by=(form.get("approved_by") or actor) if action == "extend"
                     else "")
    return f"已{LABELS[action]}，事项现为“{STAGE_LABELS[Stage(case.status)]}”", details


def _other(instance: Instance, session: Session, case: Case, action: str,
           form: Mapping[str, str], actor: str) -> tuple[str, dict[str, Any]]:
    """The case's records beside the workflow: owner, hearings, 督办, 批示, flags."""
    if action == "owner":
        unit = _unit(session, form, required=True)
        assert unit is not None
        lead = _lead(session, form)
        assign_owner(session, case, unit, lead, actor=actor,
                     reason=_text(form, "reason", "理由"))
        return f"承办单位已定为 {unit.name}", {"unit": unit.name}
    if action == "hearing":
        kind = (form.get("kind") or "hearing").strip()
        start = _day(form, "start", instance, required=True)
        end = (_day(form, "end", instance, future=True) if (form.get("end") or "").strip()
               else start)
        held = cases.record_hearing(session, case, kind, start, end,
                                    note=_text(form, "note", "说明", required=False),
                                    actor=actor, calendar=instance.calendar)
        paused = f"，复核期限顺延 {held.paused_days} 天" if held.paused_days else ""
        return (f"已记录{'听证' if kind == 'hearing' else '联席会议'}{paused}",
                {"hearing_id": held.id})
    if action == "supervise":
        kind = (form.get("kind") or "reminder").strip()
        try:
            due_on = optional_day(form.get("due"), what="答复期限")
        except DateError as e:
            raise ActionError(str(e)) from None
        if due_on is not None and due_on < instance.today():
            raise ActionError(f"答复期限 {due_on} 已经过去（今天是 {instance.today()}）")
        item = supervising.supervise(session, case, kind,
                                     _text(form, "text", "督办内容", required=kind != "reminder"),
                                     actor=actor, due_on=due_on)
        return f"已记录督办 #{item.id}", {"supervision_id": item.id}
    if action == "resolve":
        item = supervising.get_item(session, case, _number(form, "item"))
        supervising.resolve(session, item, _day(form, "on", instance), actor=actor)
        return f"督办 #{item.id} 已办结", {}
    if action == "instruct":
        actions = [a for a in (form.get("actions") or "").splitlines() if a.strip()]
        order = supervising.instruct(session, case, leader=_text(form, "leader", "批示领导"),
                                     text=_text(form, "text", "批示内容"),
                                     given_on=_day(form, "on", instance), actions=actions,
                                     actor=actor)
        return f"已记录批示 #{order.id}", {"instruction_id": order.id}
    if action == "done":
        order = supervising.get_instruction(session, case, _number(form, "instruction"))
        supervising.carry_out(session, order, _number(form, "number") - 1,
                              _day(form, "on", instance), actor=actor)
        return "批示事项已落实", {}
    if action == "receipt":
        from web.services.case_clock import correct_receipt

        letter = (form.get("letter") or "").strip() or str(
            min(case.letters, key=lambda x: x.received_on).id)
        done = correct_receipt(instance, session, letter, _day(form, "on", instance,
                                                               required=True),
                               basis=(form.get("basis") or "").strip(),
                               reason=_text(form, "reason", "理由"), actor=actor)
        return f"收信日期已更正为 {done['received_on']}（{done['basis']}）", done
    if action == "rate":  # the office records an evaluation given by phone or in person
        rating = (form.get("rating") or "").strip()
        way = (form.get("way") or "").strip()
        if way not in OFFICE_RATING_WAYS:
            raise ActionError(f"请选择信访人评价的方式：{'、'.join(OFFICE_RATING_WAYS)}"
                              "（网上评价由信访人在查询页面自行作出）")
        cases.rate_satisfaction(session, case, rating, actor=actor, way=way,
                                note=_text(form, "note", "评价意见", required=False),
                                on=instance.today())
        return f"已登记信访人评价：{rating}（{way}）", {"rating": rating, "way": way}
    if action == "flag":
        current = set(case.flags)
        if "add" in form or "remove" in form:  # the command line names the changes
            add = {f for f in (form.get("add") or "").split(",") if f}
            remove = {f for f in (form.get("remove") or "").split(",") if f}
        else:  # a form of check boxes gives the flags wanted
            wanted = {f for f in cases.FLAGS if form.get(f"flag_{f}")}
            add, remove = wanted - current, current - wanted
        cases.set_flags(session, case, add=sorted(add), remove=sorted(remove), actor=actor,
                        reason=_text(form, "reason", "理由", required=False))
        return f"标记：{'、'.join(case.flags) or '无'}", {"flags": list(case.flags)}
    if action == "classify":
        kind = (form.get("kind") or "").strip()
        sub_kind = sub_kind_of(form.get("sub") or "") if kind == kinds.CLAIM else None
        cases.classify(session, case, kind, sub_kind, actor=actor,
                       reason=_text(form, "reason", "理由", required=False))
        return f"事项类别：{kinds.label(kind, sub_kind)}", {"kind": kind, "sub_kind": sub_kind}
    if action == "not_accept_letter":
        refused, proposal = _termination(instance, session, case, form)
        termination.decide(session, refused, proposal, _day(form, "on", instance), actor=actor)
        return (f"来信 {refused.reg_no} 依{proposal.article}不予受理（{proposal.citing}）",
                {"letter_id": refused.id, "article": proposal.article,
                 "citing": proposal.citing})
    if action == "accuse":
        accused = _unit(session, form, required=False)
        person = _text(form, "person", "被检举人", required=False)
        if accused is None and not person:
            raise ActionError("请填写被检举的单位或个人")
        mark_accusation(session, case, accused_unit=accused, accused_person=person or None,
                        actor=actor)
        return "已记录被检举对象", {"unit": accused.name if accused else None, "person": person}
    raise ActionError(f"没有“{action}”这项操作")


def sub_kind_of(raw: str) -> int:
    """§31's item as typed: 6, 六, (六) or 第六项."""
    text = raw.strip().strip("（）()第项")
    if text in kinds.ITEMS:
        return kinds.ITEMS.index(text) + 1
    if text.isdigit() and int(text) in kinds.SUB_KINDS:
        return int(text)
    raise ActionError("申诉求决类事项须选择第三十一条的一项（1 至 6）")


def _termination(instance: Instance, session: Session, case: Case,
                 form: Mapping[str, str]) -> tuple[Letter, termination.Termination]:
    """The letter of the case named in the form, and why it is not accepted again."""
    raw = (form.get("letter") or "").strip()
    letter = next((x for x in case.letters if raw in (str(x.id), x.reg_no)), None)
    if letter is None:
        raise ActionError(f"事项 {case.case_no} 没有来信“{raw[:30]}”")
    proposal = termination.propose(session, case, letter, cases.clock_of(case),
                                   instance.calendar)
    if proposal is None:
        raise ActionError(f"来信 {letter.reg_no} 不属于复核终结后（第三十六条第三款）或办理期限内"
                          "向上级重复提出（第十九条第三款）的情形，应按新的来信办理")
    return letter, proposal


def terminations(instance: Instance, session: Session, case: Case) -> list[dict[str, Any]]:
    """The case's later letters not to be accepted again, with the article and the earlier
    document (decided or only proposed), for the case page, the API and the CLI."""
    clock = cases.clock_of(case)
    rows = []
    for letter in sorted(case.letters, key=lambda x: (x.received_on, x.id)):
        found = termination.propose(session, case, letter, clock, instance.calendar)
        article = letter.not_accepted_under or (found.article if found else None)
        if article is None:
            continue
        rows.append({"letter_id": letter.id, "reg_no": letter.reg_no,
                     "received_on": letter.received_on, "article": article,
                     "citing": letter.not_accepted_citing or (found.citing if found else ""),
                     "words": termination.WORDS[article],
                     "reason": found.reason if found else "",
                     "decided": letter.not_accepted_under is not None})
    return rows


def kind_view(case: Case) -> dict[str, Any]:
    """The matter's kind (or 未分类) and the kind its letters suggest, with the reason."""
    proposal = cases.kind_proposal(case)
    return {"kind": case.kind, "sub_kind": case.sub_kind,
            "label": kinds.label(case.kind, case.sub_kind),
            "chain": kinds.has_chain(case.kind, case.sub_kind),
            "channel": kinds.channel(case.kind, case.sub_kind),
            "proposed": {"kind": proposal.kind, "sub_kind": proposal.sub_kind,
                         "label": kinds.label(proposal.kind, proposal.sub_kind),
                         "reason": proposal.reason}}


def _number(form: Mapping[str, str], name: str) -> int:
    raw = (form.get(name) or "").strip()
    if not raw.isdigit():
        raise ActionError("编号须为正整数")
    return int(raw)


# ---------------------------------------------------------------- §33 调解/和解, §25 重大紧急

def _settle(instance: Instance, session: Session, case: Case, form: Mapping[str, str],
            actor: str, upload: tuple[str, IO[bytes]] | None) -> tuple[str, dict[str, Any]]:
    """kind, parties (one a line), terms, ``on`` (the day signed) and the signed scan."""
    refused = settlements.refusal(case)  # before the file is read and stored
    if refused:
        raise ActionError(refused)
    if upload is None or not upload[0]:
        raise ActionError("请上传双方签字的协议书扫描件（PDF、JPEG 或 PNG）")
    try:
        copy = read_signed_copy(upload[0], upload[1])
    except SignedCopyError as e:
        raise ActionError(str(e)) from None
    parties = (form.get("parties") or "").splitlines()  # one party a line
    item = settlements.settle(
        session, case, kind=(form.get("kind") or "").strip(), parties=parties,
        terms=_text(form, "terms", "协议内容", required=False),
        signed_on=_day(form, "on", instance), file_sha256=copy.sha256,
        file_name=copy.name, media_type=copy.media_type, size=copy.size, actor=actor,
        today=instance.today())
    copy.store(instance)  # a failure here rolls the record back with the session
    return (f"已登记{settlements.DOCUMENTS[item.kind]}，事项已办结",
            {"settlement_id": item.id, "note_id": item.note_id})


def _urgent(instance: Instance, session: Session, case: Case, form: Mapping[str, str],
            actor: str) -> tuple[str, dict[str, Any]]:
    """reason (when first marked), recipient, person, how, told_at (the office's time)."""
    recipient = (form.get("recipient") or "").strip()
    told_at = None
    if recipient:
        raw = (form.get("told_at") or "").strip().replace("T", " ")
        try:
            told_at = dt.datetime.strptime(raw[:16], "%Y-%m-%d %H:%M")
        except ValueError:
            raise ActionError(f"报告时间“{raw[:20]}”格式不对，应为 2026-01-31 09:30") from None
    row = urgency.report(session, case, reason=_text(form, "reason", "理由", required=False),
                         recipient=recipient, person=_text(form, "person", "", required=False),
                         how=(form.get("how") or "").strip(), told_at=told_at, actor=actor,
                         now=instance.now())
    told = f"，已报告{row.recipient}" if row.recipient else "，尚未报告（第二十五条：应当及时报告）"
    return f"重大紧急事项{told}", {"report_id": row.id}
