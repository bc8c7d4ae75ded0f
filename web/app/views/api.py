"""The JSON API: the pages' operations for other programs, with the same roles and scopes.

Sign in with POST /api/v1/token, then send `Authorization: Bearer TOKEN`. Each route is
declared once with `route(...)`, which also writes its entry of the OpenAPI description.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
from collections.abc import Callable
from typing import Any, BinaryIO, cast

from flask import Blueprint, abort, render_template, request
from sqlalchemy import func, select
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

import letters as documents
import search
from records import Case, Letter, Page, RecordsError, audit
from records.privacy import mask_personal
from web.app import auth
from web.app.auth import requires, user
from web.app.files import reply_file_response
from web.app.views import instance
from web.services import (
    access,
    api_tokens,
    case_actions,
    case_clock,
    case_view,
    dashboard,
    letter_search,
    letter_view,
    public_query,
    receptions,
    registration,
    review,
    saved_filters,
    settlement,
    sign_confirmation,
)
from web.services import intake as intake_files
from web.services import urgent as urgent_matters
from web.services.access import case_scope, letter_scope, may_see_case
from web.services.dates import DateError, optional_day
from web.services.errors import ServiceError
from web.services.replies import generate_reply, sign_reply
from web.services.reply_preview import form_fields, read_form, shared_converter

bp = Blueprint("api", __name__, url_prefix="/api/v1")
SPEC_PATHS: dict[str, dict[str, Any]] = {}
PER_PAGE = 50


def route(rule: str, method: str, capability: str | None, summary: str, *,
          query: dict[str, str] | None = None, body: dict[str, str] | None = None,
          ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view on the API and describe it in the OpenAPI document."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        guarded = requires(capability)(view) if capability else view
        bp.add_url_rule(rule, view.__name__, guarded, methods=[method])
        path = "/api/v1" + rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        operation: dict[str, Any] = {
            "summary": summary, "operationId": view.__name__,
            "description": (view.__doc__ or "").strip(),
            "responses": {"200": {"description": "OK"}, "400": {"description": "输入有误"},
                          **({"401": {"description": "需要登录（Bearer 令牌）"},
                              "403": {"description": "角色无此权限"}} if capability else {}),
                          "404": {"description": "不存在或无权查看"}},
            "parameters": [
                {"name": name.split(">")[0].split(":")[-1], "in": "path", "required": True,
                 "schema": {"type": "integer" if "int:" in name else "string"}}
                for name in rule.split("<")[1:]
            ] + [{"name": k, "in": "query", "required": False, "description": v,
                  "schema": {"type": "string"}} for k, v in (query or {}).items()],
        }
        if capability:
            operation["security"] = [{"bearer": []}]
            operation["x-capability"] = capability
        if body:
            operation["requestBody"] = {"content": {"application/json": {"schema": {
                "type": "object", "properties": {k: {"description": v} for k, v in body.items()},
            }}}}
        SPEC_PATHS.setdefault(path, {})[method.lower()] = operation
        return guarded

    return decorate


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="请求体须为 JSON 对象")
    return data


@route("/token", "POST", None, "登录，取得令牌",
       body={"username": "用户名", "password": "密码"})
def token() -> Any:
    """A bearer token valid 8 hours; wrong credentials and delays as on the sign-in page."""
    data = _json()
    refused: tuple[str, int] | None = None
    try:
        who = access.sign_in(instance(), str(data.get("username", "")),
                             str(data.get("password", "")), request.remote_addr or "", via="api")
    except access.LoginRefused as e:
        refused = (str(e), 429 if "过多" in str(e) else 401)
    if refused:
        return {"error": refused[0], "status": refused[1]}, refused[1]
    return {"token": auth.api_token(who), "expires_in": auth.API_TOKEN_HOURS * 3600,
            "role": who.role}


@route("/logout", "POST", "dashboard", "注销：本令牌立即失效")
def logout() -> Any:
    """End the token this request carries (a copy of it is refused from now on)."""
    ended = api_tokens.revoke(instance(), auth.bearer(request.headers.get("Authorization", "")),
                              user().username)
    return {"revoked": ended}


@route("/me", "GET", "dashboard", "当前用户")
def me() -> Any:
    """Who the token belongs to and what the role may do."""
    me_ = user()
    return {"username": me_.username, "display_name": me_.display_name, "role": me_.role,
            "unit": me_.unit_name,
            "capabilities": sorted(c for c in access.CAPABILITIES if me_.can(c))}



@route("/letters", "GET", "read_letters", "来信列表（新的在前）",
       query={"page": "页码（每页 50 件）",
              "state": "处理状态：registered|stored|read|indexed|failed"})
def letters() -> Any:
    """The register, newest first, in pages of 50; only the letters the role may see."""
    where = [letter_scope(user())]
    if request.args.get("state"):
        where.append(Letter.ingest_state == request.args["state"])
    return _paged(Letter, where, "letters", _letter_row)


@route("/letters/<int:letter_id>", "GET", "read_letters", "一件来信")
def letter(letter_id: int) -> Any:
    """A letter with its petitioners, proposed fields and the text of each page (audited).

    The same record as the letter's page, masked the same way for the reader's role."""
    try:
        record = letter_view.letter_record(instance(), user(), letter_id, via="api")
    except letter_view.LetterNotFound:
        abort(404)
    record["petitioner_details"] = record.pop("people")
    return case_view.jsonable(record)


@route("/search", "GET", "read_letters", "全文检索",
       query={"q": "检索词", "township": "乡镇", "category": "事项分类", "status": "案件状态",
              "unit": "承办单位", "from": "收信日期起（YYYY-MM-DD）", "to": "收信日期止",
              "sort": "relevance|date", "limit": "最多条数（≤200）",
              "offset": "跳过前几条（翻页；offset + limit ≤ 2000）"})
def search_letters() -> Any:
    """Hits with highlighted snippets; a handler gets its unit's letters (and its sub-units')."""
    args = request.args
    count = min(args.get("limit", 50, type=int) or 50, 200)
    offset = min(max(args.get("offset", 0, type=int) or 0, 0), letter_search.DEEPEST - count)
    try:
        found = letter_search.search_letters(
            instance(), user(), args.get("q", ""), letter_search.parse_filters(args),
            sort=args.get("sort", "relevance"), offset=offset, limit=count, via="api")
    except search.QueryError as e:
        abort(400, description=str(e))
    return {"query": found.query, "total": found.total, "estimated": found.estimated,
            "facets": found.facets,
            "hits": [{"letter_id": h.letter_id, "score": h.score,
                      "snippet": mask_personal(h.snippet)} for h in found.hits]}


@route("/cases", "GET", "read_letters", "案件列表",
       query={"status": "案件状态", "page": "页码（每页 50 件）"})
def case_list() -> Any:
    """Cases the role may see, newest first, each with its current deadline."""
    where = [case_scope(user())]
    if request.args.get("status"):
        where.append(Case.status == request.args["status"])
    return _paged(Case, where, "cases", _case_row)


def _letter_row(letter: Letter) -> dict[str, Any]:
    return case_view.jsonable(letter_view.letter_row(letter))


def _paged(model: Any, where: list[Any], name: str,
           row: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """One page (?page=N, 50 to a page) of a model's rows, newest first, with the total."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    with instance().db.session() as db:
        total = db.scalar(select(func.count()).select_from(model).where(*where)) or 0
        rows = db.scalars(select(model).where(*where).order_by(model.id.desc())
                          .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
        return {"total": total, "page": page, name: [row(x) for x in rows]}


def _case_row(case: Case) -> dict[str, Any]:
    row = case_view.case_row(case, instance().calendar, instance().today())
    return case_view.jsonable(row)


@route("/cases/<int:case_id>", "GET", "read_letters", "一个案件")
def case(case_id: int) -> Any:
    """A case with its letters and the audit trail."""
    with instance().db.session() as db:
        found = db.get(Case, case_id)
        if found is None or not may_see_case(user(), found):
            abort(404)
        row = _case_row(found)
        row["agenda"] = case_clock.agenda_dict(instance(), found, roles=case_actions.ACTION_ROLES,
                                               role=user().role)
        row["letters"] = [_letter_row(x) for x in found.letters]
        row["settlement"] = case_view.jsonable(settlement.settlement_dict(db, found))
        row["urgent"] = case_view.jsonable(urgent_matters.urgent_of(
            db, found, instance()))
        row["events"] = [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action,
                          "detail": e.detail} for e in audit.history(db, "case", found.id)]
    letter_view.record_read(instance(), user(), "case", case_id, via="api")
    return row


@route("/letters", "POST", "intake", "上传一份扫描件",
       query={"name": "原文件名（仅用于显示）"})
def upload() -> Any:
    """The scan as the raw request body; stored, queued for OCR, or refused with the reason."""
    name = request.args.get("name") or request.headers.get("X-File-Name", "")
    if request.mimetype == "multipart/form-data":
        return {"error": "请把扫描件作为原始请求体发送（Content-Type: application/octet-stream），"
                         "不要用 multipart/form-data", "status": 415}, 415
    try:
        received = intake_files.receive(instance(), name, lambda: cast(BinaryIO, request.stream),
                                        actor=user().username,
                                        declared_size=request.content_length)
    except RequestEntityTooLarge:  # a body without a declared length, cut off at the limit
        return {"error": intake_files.too_large(), "status": 413}, 413
    except BadRequest:  # the client went away mid-upload (the temporary file is gone)
        return {"error": "上传中断：请求体不完整，请重新上传", "status": 400}, 400
    return received.as_dict(), 422 if received.error else 201


@route("/intake/progress", "GET", "intake", "上传件的处理进度", query={"ids": "来信编号，逗号分隔"})
def intake_progress() -> Any:
    """Stored, OCR page n of m, indexed, or the error, for each letter named."""
    ids = [int(x) for x in request.args.get("ids", "").split(",") if x.strip().isdigit()][:200]
    return {"letters": intake_files.progress(instance(), ids)}


def _review_error(error: review.ReviewError) -> Any:
    if isinstance(error, review.ReviewConflict):
        return {"error": str(error), "status": 409, "current": error.current}, 409
    return {"error": str(error), "status": 400}, 400


@route("/letters/<int:letter_id>/pages/<int:number>/lines/<int:line>", "PUT", "review",
       "校正一行识别文字", body={"text": "校正后的文字", "version": "来信的版本号（乐观锁）"})
def edit_line(letter_id: int, number: int, line: int) -> Any:
    """Correct line `line` (0-based) of page `number`; the machine's reading is kept."""
    data = _json()
    with instance().db.session() as db:
        page = db.scalar(select(Page).where(Page.letter_id == letter_id, Page.number == number))
        if page is None:
            abort(404)
        page_id = page.id
    try:
        return review.edit_line(instance(), page_id, line, str(data.get("text", "")),
                                actor=user().username, expected_version=_version(data))
    except review.ReviewError as e:
        return _review_error(e)


@route("/letters/<int:letter_id>/review", "POST", "review", "确认来信信息并立案或并案",
       body={"petitioners": "[{name, id_number, phone, address}]", "township": "乡镇",
             "village": "村", "category": "事项分类", "summary": "事项摘要",
             "case": "\"new\" 新立案件，或已有案件编号（整数）", "version": "来信的版本号"})
def review_letter(letter_id: int) -> Any:
    """Confirm who wrote, from where, about what; open a new case or link to an existing one."""
    data = _json()
    people = data.get("petitioners", [])
    if not isinstance(people, list) or not all(isinstance(p, dict) for p in people):
        abort(400, description="petitioners 须为对象列表：[{name, id_number, phone, address}]")
    with instance().db.session() as db:
        if db.get(Letter, letter_id) is None:
            abort(404)
    case_choice = data.get("case")
    try:
        return review.save_metadata(instance(), letter_id, data, actor=user().username,
                                    expected_version=_version(data),
                                    case=case_choice if case_choice in (None, "new")
                                    or isinstance(case_choice, int) else str(case_choice))
    except review.ReviewError as e:
        return _review_error(e)


def _version(data: dict[str, Any]) -> int | None:
    version = data.get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


@route("/letters/<int:letter_id>/replies", "POST", "draft_replies", "生成答复文书",
       body={"template": "文书模板（acknowledgement 受理告知书 等）",
             "fields": "模板字段的值（对象）；缺省取自来信和案件"})
def generate(letter_id: int) -> Any:
    """Render, number and record a reply (.docx and PDF); an earlier version is superseded."""
    data = _json()
    template = str(data.get("template", ""))
    if template not in documents.template_names():
        abort(400, description=f"没有名为 {template[:40]!r} 的模板")
    with instance().db.session() as db:
        try:
            letter_ = letter_view.visible_letter(db, user(), letter_id)
        except letter_view.LetterNotFound:
            abort(404)
        defaults = {f.name: f.value for f in form_fields(instance(), letter_, template)}
    given = data.get("fields") or {}
    if not isinstance(given, dict):
        abort(400, description="fields 须为对象")
    values, problems = read_form(template, {**defaults, **{k: str(v) for k, v in given.items()}})
    if problems:
        return {"error": "；".join(problems), "status": 400}, 400
    try:
        outcome = generate_reply(instance(), letter_id, template, out_dir=None,
                                 actor=user().username, data=values, converter=shared_converter())
    except (ServiceError, RecordsError, documents.LettersError) as e:
        return {"error": str(e), "status": 400}, 400
    return _reply_row(outcome.reply_id), 201


@route("/replies/<int:reply_id>", "GET", "draft_replies", "一份答复文书")
def reply(reply_id: int) -> Any:
    """A reply's number, template, signature, delivery and versions."""
    return _reply_row(reply_id)


@route("/replies/<int:reply_id>/sign", "POST", "sign_replies", "签章（领导）",
       body={"confirmed": "true：已核对文书（GET /replies/ID/files/pdf）",
             "password": "登录密码；令牌签发已超过 sign_again_minutes 分钟时必填"})
def sign(reply_id: int) -> Any:
    """Sign the current version of a reply with the office's certificate, seal and QR code.

    As on the page: the document confirmed, and the password typed within sign_again_minutes
    (the token's sign-in counts) or sent again; otherwise 428 (the precondition of a
    signature is missing, not the role: that is 403) and nothing is signed.
    """
    _reply_row(reply_id)  # 404 for a reply the user may not see
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    confirmation = sign_confirmation.Confirmation(
        confirmed=data.get("confirmed") is True,
        password=str(data["password"]) if data.get("password") else None,
        password_at=auth.password_typed_at(), remote_addr=request.remote_addr or "", via="api")
    try:
        sign_reply(instance(), reply_id, actor=user().username, confirmation=confirmation,
                   converter=shared_converter())
    except sign_confirmation.SignRefused as e:
        return {"error": str(e), "status": 428}, 428
    except (ServiceError, RecordsError, documents.LettersError) as e:
        return {"error": str(e), "status": 409}, 409
    return _reply_row(reply_id)


@route("/replies/<int:reply_id>/files/<kind>", "GET", "draft_replies",
       "下载文书（kind: docx | pdf | signed）")
def reply_file(reply_id: int, kind: str) -> Any:
    """The file itself, from the blob store by its recorded hash; audited."""
    return reply_file_response(reply_id, kind)


def _reply_row(reply_id: int) -> dict[str, Any]:
    with instance().db.session() as db:
        try:
            found, _ = letter_view.visible_reply(db, user(), reply_id)
        except letter_view.LetterNotFound:
            abort(404)
        return {"reply_id": found.id, "letter_id": found.letter_id, "case_id": found.case_id,
                "template": found.template, "doc_number": found.doc_number,
                "signed_by": found.signed_by,
                "signed_at": found.signed_at.isoformat() if found.signed_at else None,
                "superseded_by": found.superseded_by_id,
                "delivery_method": found.delivery_method,
                "delivered_on": found.delivered_on.isoformat() if found.delivered_on else None,
                "files": {kind: f"/api/v1/replies/{found.id}/files/{kind}"
                          for kind, (column, _, _) in letter_view.REPLY_FILES.items()
                          if getattr(found, column)}}


@route("/cases/<int:case_id>/actions/<action>", "POST", "act_on_cases", "对案件办理一项操作",
       body={"version": "案件的版本号（乐观锁）", "on": "日期 YYYY-MM-DD", "reason": "理由",
             "unit": "承办单位", "lead": "包案领导", "decision": "处理结论", "days": "延期天数",
             "kind": "classify：建议意见|检举控告|申诉求决；settle：调解 或 和解",
             "sub": "classify：第三十一条第几项（1-6）",
             "letter": "not_accept_letter：再次来信的编号",
             "parties": "settle：当事人，每行一方",
             "terms": "settle：协议内容", "file_base64": "settle：协议书签字件（Base64）",
             "file_name": "settle：文件名", "recipient": "urgent：报告对象",
             "person": "urgent：接报的领导或部门", "how": "urgent：方式",
             "told_at": "urgent：报告时间 YYYY-MM-DD HH:MM"})
def case_action(case_id: int, action: str) -> Any:
    """Accept, transfer, assign, extend ... as the workflow and the role allow now."""
    data = _json()
    with instance().db.session() as db:
        found = db.get(Case, case_id)
        if found is None or not may_see_case(user(), found):
            abort(404)
    version = _version(data)
    if version is None:
        abort(400, description="缺少案件版本号 version（整数）")
    form = {k: str(v) for k, v in data.items()
            if k not in ("version", "file_base64") and v is not None}
    upload = None
    if data.get("file_base64"):  # 调解/和解: the signed 协议书, base64 in the JSON body
        try:
            raw = base64.b64decode(str(data["file_base64"]), validate=True)
        except (binascii.Error, ValueError):
            return {"error": "file_base64 不是有效的 Base64", "status": 400}, 400
        upload = (str(data.get("file_name") or "协议书"), io.BytesIO(raw))
    try:
        outcome = case_actions.act(instance(), case_id, action, form, actor=user().username,
                                   role=user().role, expected_version=version, upload=upload)
    except case_actions.NotAllowed as e:
        return {"error": str(e), "status": 403}, 403
    except case_actions.StaleCase as e:
        return {"error": str(e), "status": 409, "version": e.version,
                "changes": [{"at": c.at.isoformat(), "actor": c.actor, "action": c.action}
                            for c in e.changes]}, 409
    except case_actions.ActionError as e:
        return {"error": str(e), "status": 422}, 422
    return {"case_id": outcome.case_id, "action": outcome.action, "message": outcome.message,
            "version": outcome.version, "stage": outcome.stage}


@route("/cases/<int:case_id>/query-code", "GET", "query_codes", "信访人查询码（办公室读给信访人）")
def query_code(case_id: int) -> Any:
    """The petitioner's query code of a matter and the public page's address (§21 ¶2)."""
    return _office_code(case_id, new=False)


@route("/cases/<int:case_id>/query-code", "POST", "query_codes", "重新生成查询码（原码作废）")
def renew_query_code(case_id: int) -> Any:
    """A new query code; the old one stops working at once (audited)."""
    return _office_code(case_id, new=True)


def _office_code(case_id: int, *, new: bool) -> Any:
    try:
        return public_query.office_code(instance(), case_id, actor=user().username, new=new)
    except RecordsError:
        abort(404)


@route("/filters", "GET", "dashboard", "我保存的筛选（list: register | cases）",
       query={"list": "register（来信登记簿）或 cases（信访事项）"})
def filters() -> Any:
    """The signed-in user's saved filters of a list; apply one as that list's query string."""
    try:
        found = saved_filters.filters_of(instance(), user(), request.args.get("list", ""))
    except ServiceError as e:
        return {"error": str(e), "status": 400}, 400
    return {"filters": found}


@route("/filters", "POST", "dashboard", "保存筛选",
       body={"list": "register | cases", "name": "名称（同名覆盖）", "query": "列表的查询串"})
def filter_save() -> Any:
    """Keep a list's filter under a name for the signed-in user (the same name replaces)."""
    data = _json()
    try:
        saved = saved_filters.save_filter(instance(), user(), str(data.get("list", "")),
                                          str(data.get("name", "")), str(data.get("query", "")))
    except ServiceError as e:
        return {"error": str(e), "status": 400}, 400
    return saved, 201


@route("/filters/<int:filter_id>", "DELETE", "dashboard", "删除保存的筛选")
def filter_remove(filter_id: int) -> Any:
    """Delete one of the signed-in user's saved filters (another user's: 404)."""
    try:
        saved_filters.remove_filter(instance(), user(), filter_id)
    except ServiceError as e:
        return {"error": str(e), "status": 404}, 404
    return {"removed": filter_id}


@route("/admin/query-tries", "GET", "admin", "查询页面输错的查询码（按来源网段汇总）",
       query={"days": "最近几天（默认 7，最多 30）"})
def query_tries() -> Any:
    """Wrong query codes per masked address, latest first (a guessing attack shows here)."""
    days = request.args.get("days", "7")
    if not days.isdigit() or not 1 <= int(days) <= 30:
        abort(400, description="days 须为 1 到 30 的整数")
    return {"days": int(days), "tries": public_query.refused_tries(instance(), days=int(days))}


@route("/dashboard", "GET", "dashboard", "工作台的数字（未答复、将到期、已超期、各项比率）")
def dashboard_figures() -> Any:
    """The same figures as the 工作台 page for this year, within the role's scope."""
    today = instance().today()
    return {"today": today.isoformat(),
            **case_view.jsonable(dashboard.summary(instance(), user(), today))}


@route("/rates", "GET", "dashboard", "各项比率（分子、分母及其口径和数据来源）",
       query={"from": "开始日期（默认今年 1 月 1 日）", "to": "结束日期（默认今天）",
              "by": "分组：month、township 或 unit"})
def rates() -> Any:
    """The office's rates over a period, counted by the same service as `huiyin stats`."""
    today = instance().today()
    try:
        first = optional_day(request.args.get("from")) or dt.date(today.year, 1, 1)
        last = optional_day(request.args.get("to")) or today
    except DateError as e:
        abort(400, description=str(e))
    by = request.args.get("by") or None
    if by not in (None, "month", "township", "unit"):
        abort(400, description="by 须为 month、township 或 unit")
    try:
        count, groups = case_clock.rates(instance(), first, last, by, user())
    except RecordsError as e:
        return {"error": str(e), "status": 422}, 422
    return {"from": first.isoformat(), "to": last.isoformat(), "by": by, "cases": count,
            "groups": {name: [r.as_dict() for r in rs] for name, rs in groups.items()}}



# ------------------------------------------------ 来访/来电/信箱/网上, 领导接待日, 重大紧急

@route("/registrations", "POST", "register_visits", "登记来访、来电、信箱、网上信访",
       body={"channel": "visit|phone|mailbox|online", "name": "信访人姓名", "text": "反映的内容",
             "id_number": "身份证号", "phone": "电话", "address": "住址", "township": "乡镇",
             "village": "村（社区）", "received_on": "收件日期", "received_basis": "日期依据",
             "addressed_level": "去往的层级", "people": "来访人数", "reception_id": "领导接待日"})
def register_item() -> Any:
    """The same fields and checks as the registration page; a refusal names its field."""
    data = _json()
    form = {k: str(v) for k, v in data.items() if v is not None}
    try:
        letter_id = registration.register_form(instance(), form, actor=user().username)
    except registration.RegistrationError as e:
        return {"error": str(e), "field": e.field, "status": 400}, 400
    with instance().db.session() as db:
        found = db.get(Letter, letter_id)
        assert found is not None
        return {"letter_id": letter_id, "reg_no": found.reg_no, "channel": found.channel,
                "received_on": found.received_on.isoformat(),
                "received_basis": found.received_basis}, 201


@route("/receptions", "GET", "register_visits", "领导接待日列表")
def reception_list() -> Any:
    """Every reception day, newest first, with its numbers of visits and matters."""
    return {"receptions": case_view.jsonable(receptions.reception_list(instance()))}


@route("/receptions", "POST", "register_visits", "记录领导接待日",
       body={"held_on": "日期", "leader": "领导（用户编号或用户名）", "place": "地点",
             "note": "说明", "units": "联合接访单位（编号或名称的列表，§18 ¶3）"})
def reception_add() -> Any:
    """A reception day; one per leader and day; with units, a joint reception."""
    data = _json()
    form = {k: str(v) for k, v in data.items() if v is not None and k != "units"}
    try:
        reception_id = receptions.add_reception(instance(), form, actor=user().username,
                                                units=_unit_refs(data))
    except receptions.ReceptionError as e:
        return {"error": str(e), "field": e.field, "status": 400}, 400
    return case_view.jsonable(receptions.reception_detail(instance(), reception_id)), 201


@route("/receptions/<int:reception_id>", "GET", "register_visits", "一个领导接待日")
def reception_one(reception_id: int) -> Any:
    """The leader, place, the visits received (letters) and the matters they opened."""
    try:
        return case_view.jsonable(receptions.reception_detail(instance(), reception_id))
    except receptions.ReceptionError:
        abort(404)


def _unit_refs(data: dict[str, Any]) -> list[str]:
    units = data.get("units") or []
    if not isinstance(units, list):
        abort(400, description="units 须为单位编号或名称的列表")
    return [str(u) for u in units]


@route("/receptions/<int:reception_id>", "PATCH", "register_visits", "修改领导接待日",
       body={"place": "地点", "note": "说明", "units": "联合接访单位（列表；空列表为单独接待）"})
def reception_edit(reception_id: int) -> Any:
    """Correct a day's place and note, set its joint units; who and when are kept (audited)."""
    data = _json()
    form = {k: str(data[k]) for k in ("place", "note") if data.get(k) is not None}
    try:
        receptions.edit_reception(instance(), reception_id, form, actor=user().username,
                                  units=_unit_refs(data) if "units" in data else None)
    except receptions.ReceptionError as e:
        status = 404 if "没有编号为" in str(e) else 400
        return {"error": str(e), "field": e.field, "status": status}, status
    return case_view.jsonable(receptions.reception_detail(instance(), reception_id))


@route("/receptions/<int:reception_id>/matters/<int:case_id>", "POST", "register_visits",
       "联合接访的事项交由参加单位承办", body={"unit": "单位编号或名称"})
def reception_assign(reception_id: int, case_id: int) -> Any:
    """Give a matter opened on a joint reception to one of the units taking part (§18 ¶3)."""
    try:
        unit = receptions.assign_matter(instance(), reception_id, case_id,
                                        str(_json().get("unit", "")), actor=user().username)
    except receptions.ReceptionError as e:
        return {"error": str(e), "status": 400}, 400
    return {"case_id": case_id, "unit": unit}


@route("/urgent", "GET", "read_letters", "重大紧急事项（未办结）")
def urgent_cases() -> Any:
    """Open matters marked 重大、紧急 the role may see, with whom §25 says have been told."""
    return {"cases": case_view.jsonable(urgent_matters.urgent_list(instance(), user()))}


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description of every route above."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "回音 Huiyin API", "version": "1",
                 "description": "信访件登记、检索、案件与答复文书。先 POST /api/v1/token 取得令牌，"
                                "再以 Authorization: Bearer 令牌 调用；权限与网页相同。"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": SPEC_PATHS,
    }


@bp.get("/docs")
def docs() -> str:
    """The API described for people, from the same OpenAPI document."""
    return render_template("api/docs.html", spec=openapi())
