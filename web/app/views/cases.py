"""案件: the list of cases with their clocks, one case with its timeline, and its actions.

The actions themselves are web.services.case_actions (shared with the JSON API); here a form is
parsed,
the user's right to see the case checked (404 otherwise), and the outcome shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from records import AuditEvent, Case, Reply, Unit, User, cases, intake, query_codes, settlements
from records import supervision as supervising
from records.kinds import KINDS, SUB_KINDS
from records.models import RECEIPT_BASES
from records.privacy import mask_personal
from records.workflow import (
    ACTION_LABELS,
    DECISIONS,
    DOCUMENT_LABELS,
    STAGE_LABELS,
    STEP_DOCUMENTS,
    TELLS,
    TERMINAL,
    TOLD_WAYS,
    Stage,
)
from web.app.auth import requires, user
from web.app.files import xlsx_response
from web.app.views import instance
from web.services import (
    case_actions,
    case_clock,
    case_notes,
    case_view,
    labels,
    public_query,
    settlement,
)
from web.services import urgent as urgent_matters
from web.services.access import hidden_cases, may_see_case
from web.services.case_list import Entry, clock_cache, matching_text
from web.services.instance import Instance
from web.services.replies import query_url

bp = Blueprint("cases", __name__, url_prefix="/cases")
PER_PAGE = 50
DUE_SOON_DAYS = 7
STATUS_LABELS = {s.value: label for s, label in STAGE_LABELS.items()}
OPEN = [s.value for s in Stage if s not in TERMINAL]
SUPERVISION_LABELS = {"reminder": "催办", "note": "督办记录", "escalation": "挂牌督办"}
MEETING_LABELS = {"hearing": "听证", "joint_meeting": "联席会议"}


@bp.get("/")
@requires("read_letters")
def index() -> str:
    """Cases with their clock (days left), filtered, nearest deadline first."""
    chosen = _chosen()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    me = user()
    today = instance().today()
    with instance().db.session() as session:
        found, entries = _found(session, chosen)
        total = len(found)
        shown = _rows(session, [e.case_id for e in found[(page - 1) * PER_PAGE: page * PER_PAGE]])
        unit_query = select(Unit).order_by(Unit.name)
        if me.unit_ids is not None:
            unit_query = unit_query.where(Unit.id.in_(me.unit_ids))
        units = [(u.id, u.name) for u in session.scalars(unit_query)]
        townships = sorted({e.township for e in entries if e.township and (
            me.unit_ids is None or e.unit_id in me.unit_ids)})
    args: dict[str, Any] = {k: v for k, v in chosen.items() if v or k == "status"}
    return render_template(
        "cases/index.html", cases=shown, total=total, page=page,
        pages=max(1, -(-total // PER_PAGE)), chosen=chosen, statuses=STATUS_LABELS,
        units=units, townships=townships, flags=cases.FLAGS, today=today,
        soon_days=DUE_SOON_DAYS, args=args,
        export_url=url_for("cases.export", **args))


@bp.get("/export.xlsx")
@requires("read_letters")
def export() -> Response:
    """The list as filtered, every page of it, as an Excel workbook."""
    chosen = _chosen()
    with instance().db.session() as session:
        found, _ = _found(session, chosen)
        shown = _rows(session, [e.case_id for e in found])
    rows = [(c["case_no"], c["title"], c["township"], c["stage_label"], c["unit"] or "未指定",
             c["lead"], *((d["what"], d["due"], d["days_left"]) if (d := c["deadline"])
                          else ("", None, "")), "、".join(c["flags"])) for c in shown]
    today = instance().today()
    return xlsx_response(f"信访事项 {today}", EXPORT_HEADERS, rows, f"信访事项-{today}.xlsx")


EXPORT_HEADERS = ("事项编号", "事项", "乡镇", "状态", "承办单位", "包案领导", "当前期限",
                  "到期日", "剩余天数（负数为逾期）", "标记")


def _chosen() -> dict[str, str]:
    """The list's filters from the address; 未办结 when no status is given."""
    args = request.args
    chosen = {name: args.get(name, "").strip()[:64] for name in
              ("status", "unit", "township", "due", "flag", "q")}
    if "status" not in args:
        chosen["status"] = "open"
    return chosen


def _found(session: Any, chosen: dict[str, str]) -> tuple[list[Entry], list[Entry]]:
    """The cases the filters and the user's scope select, in the list's order; and all."""
    me, calendar, today = user(), instance().calendar, instance().today()
    entries = clock_cache(instance().database_url).entries(session, calendar, today)
    text = matching_text(session, chosen["q"]) if chosen["q"] else None
    hidden = hidden_cases(session, me)  # §30 ¶3: never a case that accuses the reader
    found = [e for e in entries if _matches(e, chosen, me.unit_ids, today)
             and (text is None or e.case_id in text) and e.case_id not in hidden]
    found.sort(key=Entry.sort_key)
    return found, entries


def _rows(session: Any, case_ids: list[int]) -> list[dict[str, Any]]:
    """The list's rows of these cases, in this order, with their lead's display name."""
    calendar, today = instance().calendar, instance().today()
    loaded: dict[int, Case] = {}
    for start in range(0, len(case_ids), 500):
        loaded.update({c.id: c for c in session.scalars(
            select(Case).where(Case.id.in_(case_ids[start:start + 500]))
            .options(joinedload(Case.unit)))})
    shown = [case_view.case_row(loaded[i], calendar, today)
             for i in case_ids]
    leads = _names(session, {r["lead_id"] for r in shown if r["lead_id"]})
    for r in shown:
        r["lead"] = leads.get(r["lead_id"], "")
    return shown


@bp.get("/<int:case_id>")
@requires("read_letters")
def show(case_id: int) -> str:
    """One case: letters, clock, owner, replies, 督办, 批示, timeline and the actions open now."""
    return render_template("cases/show.html", **_case_page(case_id))


@bp.post("/<int:case_id>/notes")
@requires("act_on_cases")
def add_note(case_id: int) -> Response:
    """A progress note, an attached file, or both (audited, scoped like the case)."""
    file = request.files.get("file")
    try:
        case_notes.add_note(instance(), user(), case_id, request.form.get("text", ""),
                            file_name=file.filename if file and file.filename else None,
                            stream=file.stream if file and file.filename else None)
    except case_notes.NotFound:
        abort(404)
    except case_notes.NoteError as e:
        flash(f"未能记录：{e}")
    else:
        flash("已记录办理情况")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="notes"), code=303)


@bp.get("/<int:case_id>/attachments/<int:note_id>")
@requires("read_letters")
def attachment(case_id: int, note_id: int) -> Response:
    """A file attached to a case, as an attachment (never shown inline: not our content)."""
    try:
        path, name, media_type = case_notes.attachment(instance(), user(), case_id, note_id)
    except case_notes.NotFound:
        abort(404)
    response = send_file(path, mimetype=media_type, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<int:case_id>/query-code")
@requires("query_codes")
def renew_query_code(case_id: int) -> Response:
    """A new query code for the petitioner (the old one stops working; audited)."""
    done = public_query.office_code(instance(), case_id, actor=user().username, new=True)
    flash(f"已生成新的查询码 {done['code']}，原查询码已作废：请告知信访人")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="query-code"), code=303)


@bp.post("/<int:case_id>/actions/<action>")
@requires("act_on_cases")
def act(case_id: int, action: str) -> Response | tuple[str, int]:
    """Take one action; a stale form gets 409 with what changed, a refusal its reason."""
    me = user()
    with instance().db.session() as session:
        case = session.get(Case, case_id)
        if case is None or not may_see_case(me, case):
            abort(404)
    version = request.form.get("version", "")
    if not version.isdigit():
        abort(400, description="表单缺少事项版本号，请刷新页面后重试")
    seen = request.form.get("seen_event", "")
    file = request.files.get("file")  # the signed 协议书 of 调解/和解
    try:
        outcome = case_actions.act(instance(), case_id, action, request.form,
                                   actor=me.username, role=me.role,
                                   expected_version=int(version),
                                   seen_event=int(seen) if seen.isdigit() else None,
                                   upload=(file.filename, file.stream)
                                   if file and file.filename else None)
    except case_actions.StaleCase as e:
        page = _case_page(case_id)
        changes = [_event(ev, instance()) for ev in e.changes]
        return render_template("cases/show.html", **page, stale=str(e), changes=changes,
                               refused_action=action), 409
    except case_actions.NotAllowed as e:
        abort(403, description=str(e))
    except case_actions.ActionError as e:
        page = _case_page(case_id)
        return render_template("cases/show.html", **page, error=str(e),
                               refused_action=action), 422
    flash(outcome.message)
    return redirect(url_for("cases.show", case_id=case_id), code=303)


def _matches(entry: Entry, chosen: dict[str, str], unit_ids: frozenset[int] | None,
             today: dt.date) -> bool:
    """Whether a case passes the list's filters (and the user's scope)."""
    if unit_ids is not None and entry.unit_id not in unit_ids:
        return False
    status = chosen["status"]
    if status == "open" and entry.status not in OPEN:
        return False
    if status in STATUS_LABELS and entry.status != status:
        return False
    if chosen["unit"].isdigit() and entry.unit_id != int(chosen["unit"]):
        return False
    if chosen["unit"] == "none" and entry.unit_id is not None:
        return False
    if chosen["township"] and entry.township != chosen["township"]:
        return False
    if chosen["flag"] and chosen["flag"] not in entry.flags:
        return False
    clock = entry.clock
    duty = clock is not None and clock.kind == "duty"
    if chosen["due"] == "overdue":
        return duty and clock is not None and clock.overdue(today)
    if chosen["due"] == "soon":
        return duty and clock is not None and clock.days_left(today) <= DUE_SOON_DAYS
    return True


def _case_page(case_id: int) -> dict[str, Any]:
    """Everything the case page shows, read in one session; 404 outside the user's scope."""
    me = user()
    inst = instance()
    today = inst.today()
    with inst.db.session() as session:
        case = session.get(Case, case_id)
        if case is None or not may_see_case(me, case):
            abort(404)
        row = case_view.case_row(case, inst.calendar, today)
        lead = session.get(User, case.lead_id) if case.lead_id else None
        accused = session.get(Unit, case.accused_unit_id) if case.accused_unit_id else None
        row.update(
            lead=(lead.display_name or lead.username) if lead else "",
            accused_unit=accused.name if accused else "", accused_person=case.accused_person,
            opened_on=case.opened_on, assigned_on=case.assigned_on,
            assignment_received_on=case.assignment_received_on,
            replied_delivered_on=case.replied_delivered_on,
            extension_approved_by=case.extension_approved_by,
            accepted_on=case.accepted_on, replied_on=case.replied_on, decision=case.decision,
            extension_days=case.extension_days, paused_days=case.paused_days,
            satisfaction=case.satisfaction, category=case.category, version=case.version,
        )
        row.update(  # §21 ¶2: the petitioner's code (read out by the office) and evaluation
            query_code=query_codes.shown(case.query_code)
            if case.query_code and me.can("query_codes") else None,
            satisfaction_way=case.satisfaction_way, satisfaction_note=case.satisfaction_note,
            satisfaction_on=case.satisfaction_on)
        agenda = case_clock.agenda_dict(inst, case, roles=case_actions.ACTION_ROLES,
                                        role=me.role)
        clocks = agenda["deadlines"]
        current = agenda["current"] or {}
        row.update(what=current.get("what", ""), due=current.get("due"),
                   kind=current.get("kind", ""), days_left=current.get("days_left"),
                   overdue=bool(current.get("overdue")))
        letters: list[dict[str, Any]] = [
            {"id": letter.id, "reg_no": letter.reg_no, "received_on": letter.received_on,
                    "petitioners": "、".join(intake.petitioner_names(letter)),
                    "summary": mask_personal(letter.summary),
             "channel": letter.channel}
                   for letter in sorted(case.letters, key=lambda x: (x.received_on, x.id))]
        letter_ids = [x["id"] for x in letters]
        replies = _replies(session, case.id, letter_ids)
        items, orders = supervising.of_case(session, case)
        supervision = [{"id": i.id, "kind": i.kind, "label": SUPERVISION_LABELS.get(i.kind, i.kind),
                        "text": i.text, "due_on": i.due_on, "by": i.by, "at": inst.local_time(i.at),
                        "resolved_on": i.resolved_on,
                        "overdue": i.due_on is not None and i.resolved_on is None
                        and i.due_on < today} for i in items]
        instructions = [{"id": o.id, "leader": o.leader, "text": o.text, "given_on": o.given_on,
                         "done_on": o.done_on, "actions": o.actions} for o in orders]
        hearings = [{"label": MEETING_LABELS.get(h.kind, h.kind), "start_on": h.start_on,
                     "end_on": h.end_on, "note": h.note, "paused_days": h.paused_days}
                    for h in cases.hearings(session, case)]
        events = case_actions.case_events(session, case, limit=200)
        reg_nos = {x["id"]: x["reg_no"] for x in letters}
        people = labels.display_names(session)
        timeline = [_event(e, inst, reg_nos, people) for e in events]
        seen_event = case_actions.last_event_id(session)
        matter_kind = case_actions.kind_view(case)
        not_again = case_actions.terminations(inst, session, case)
        settled = settlement.settlement_dict(session, case)  # §33
        urgent = urgent_matters.urgent_of(session, case, inst)  # §25
        actions = case_actions.available(case, me.role) if me.can("act_on_cases") else []
        units = [(u.id, u.name) for u in session.scalars(select(Unit).order_by(Unit.name))]
        leaders = [(u.id, u.display_name or u.username) for u in session.scalars(
            select(User).where(User.role == "leader", User.active.is_(True))
            .order_by(User.username))]
    notes = case_notes.notes_of(instance(), me, case_id)
    return {"case": row, "clocks": clocks, "letters": letters, "replies": replies,
            "notes": notes, "may_note": me.can("act_on_cases"),
            "supervision": supervision, "instructions": instructions, "hearings": hearings,
            "timeline": timeline, "seen_event": seen_event, "actions": actions,
            "labels": case_actions.LABELS, "units": units, "leaders": leaders,
            "decisions": DECISIONS, "flags": cases.FLAGS, "today": today,
            "workflow_actions": set(ACTION_LABELS), "to_unit": case_actions.TO_UNIT,
            "agenda": agenda, "told_ways": TOLD_WAYS, "tells": TELLS,
            "documents": {step: DOCUMENT_LABELS[doc] for step, doc in STEP_DOCUMENTS.items()},
            "receipt_bases": RECEIPT_BASES, "ratings": cases.SATISFACTION,
            "matter_kind": matter_kind, "not_again": not_again, "kinds": KINDS,
            "sub_kinds": SUB_KINDS,
            "rating_ways": case_actions.OFFICE_RATING_WAYS,
            "query_url": query_url(inst), "may_renew_code": me.can("query_codes"),
            "settlement": settled, "settlement_kinds": settlements.KINDS, "urgent": urgent,
            "urgent_recipients": urgent_matters.RECIPIENTS, "urgent_ways": urgent_matters.WAYS}


def _names(session: Any, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {u.id: u.display_name or u.username
            for u in session.scalars(select(User).where(User.id.in_(user_ids)))}


def _replies(session: Any, case_id: int, letter_ids: list[int]) -> list[dict[str, Any]]:
    """The case's reply documents, newest first; a superseded version says by which."""
    from letters import template_title

    query = select(Reply).where((Reply.case_id == case_id) | Reply.letter_id.in_(letter_ids))
    found = list(session.scalars(query.order_by(Reply.id.desc())))
    return [{"id": r.id, "title": template_title(r.template), "doc_number": r.doc_number,
             "letter_id": r.letter_id, "created_at": r.created_at, "created_by": r.created_by,
             "signed_by": r.signed_by, "delivered_on": r.delivered_on,
             "delivery_method": r.delivery_method, "superseded_by": r.superseded_by_id}
            for r in found]


def _event(event: AuditEvent | case_actions.Change, inst: Instance,
           reg_nos: dict[int, str] | None = None,
           names: dict[str, str] | None = None) -> dict[str, Any]:
    """One timeline entry: when, who, what (in Chinese), and the particulars."""
    d = dict(event.detail or {})
    label = labels.event_label(event.action)
    if event.action == "transition":
        label = case_actions.LABELS.get(d.get("step", ""), label)
    parts = []
    if event.action == "transition" and d.get("from_stage"):
        parts.append(f"{STATUS_LABELS.get(d['from_stage'], d['from_stage'])} → "
                     f"{STATUS_LABELS.get(d.get('to_stage', ''), d.get('to_stage', ''))}")
        if d.get("on"):
            parts.append(f"日期 {d['on']}")
        if d.get("decision"):
            parts.append(f"处理意见：{d['decision']}")
    if event.action == "assign-owner":
        parts.append(f"承办单位：{d.get('unit')}")
        if d.get("lead"):
            parts.append(f"包案领导：{labels.person(d['lead'], names or {})}")
    if event.action in ("open-case", "link-letter") and d.get("letter_id"):
        parts.append(f"来信 {(reg_nos or {}).get(d['letter_id'], d['letter_id'])}")
    if event.action == "flag":
        parts.append(f"标记：{'、'.join(d.get('flags') or []) or '无'}")
    if event.action in ("hearing", "joint-meeting"):
        parts.append(f"{d.get('start_on')} 至 {d.get('end_on')}")
        if d.get("paused_days"):
            parts.append(f"复核期限顺延 {d['paused_days']} 天")
    if event.action.startswith("supervise-") and d.get("due_on"):
        parts.append(f"限 {d['due_on']} 前答复")
    if event.action == "instruction" and d.get("leader"):
        parts.append(f"{d['leader']}")
    if event.action == "urgent" and d.get("recipient"):  # §25: to whom, how, when
        parts.append(f"报告{d['recipient']}{'（' + d['person'] + '）' if d.get('person') else ''}"
                     f"，{d.get('how') or ''} {d.get('told_at') or ''}".rstrip())
    if event.action == "mark-accusation":
        parts.append(" ".join(x for x in (d.get("accused_unit"), d.get("accused_person")) if x))
    if d.get("reason"):
        parts.append(f"理由：{labels.REASON_LABELS.get(d['reason'], d['reason'])}")
    entity = labels.ENTITY_LABELS.get(event.entity, "")
    if event.entity == "letter" and reg_nos is not None:
        entity = f"来信 {reg_nos.get(event.entity_id or 0, event.entity_id)}"
    actor = labels.person(event.actor, names) if names else event.actor
    return {"id": event.id, "at": inst.local_time(event.at), "actor": actor, "label": label,
            "entity": entity, "detail": "；".join(p for p in parts if p)}
