"""系统管理: users, units, gazetteer and categories, routing, templates, holidays, signing.

Each page lists its table and carries the forms that change it. A change is one call into
web.services.admin; a refusal re-renders the page with the reason (400), success redirects with a
note.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from records import LEVELS, ROLES, Category, Place, RecordsError, Unit, User, query_codes
from records.models import Route
from web.app.auth import requires, user
from web.app.views import instance
from web.services import access, admin, public_query

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The sections, in the order of the sub-navigation.
SECTIONS = (("users", "用户"), ("units", "承办单位"), ("places", "地名与分类"),
            ("routes", "分办路由"), ("templates", "文书模板"), ("holidays", "节假日"),
            ("signing", "证书与印章"), ("signins", "登录失败"), ("query_tries", "查询码错误"))
Page = str | Response | tuple[str, int]
QUERY_TRIES_DAYS = 7


def _int(name: str) -> int | None:
    value = request.form.get(name, "").strip()
    return int(value) if value.isdigit() else None


def _upload(name: str) -> tuple[str, bytes]:
    file = request.files.get(name)
    if file is None or not file.filename:
        return "", b""
    return file.filename, file.read()


def _render(section: str, *, error: str | None = None, status: int = 200,
            **extra: Any) -> tuple[str, int]:
    """The section's page with its data (and the reason a change was refused)."""
    data = PAGES[section]()
    return render_template(f"admin/{section}.html", sections=SECTIONS, section=section,
                           error=error, **data, **extra), status


def _change(section: str, action: Callable[[Session], str]) -> Page:
    """Run one change in a unit of work; a refusal shows the page again with the reason."""
    try:
        with instance().db.session() as session:
            note = action(session)
    except (admin.AdminError, RecordsError) as e:
        return _render(section, error=str(e), status=400)
    flash(note)
    return redirect(url_for(f"admin.{section}"))


def _file_change(section: str, action: Callable[[], str], **back: Any) -> Page:
    """The same for changes to the instance's files (templates, holidays, signing)."""
    try:
        note = action()
    except (admin.AdminError, RecordsError) as e:
        return _render(section, error=str(e), status=400)
    flash(note)
    return redirect(url_for(f"admin.{section}", **back))


# ---------------------------------------------------------------- overview

@bp.get("/")
@requires("admin")
def index() -> str:
    """The sections with what each holds."""
    with instance().db.session() as s:
        counts = {
            "users": s.scalar(select(func.count()).select_from(User).where(User.active)),
            "units": s.scalar(select(func.count()).select_from(Unit)),
            "places": s.scalar(select(func.count()).select_from(Place)),
            "categories": s.scalar(select(func.count()).select_from(Category)
                                   .where(Category.active)),
            "routes": s.scalar(select(func.count()).select_from(Route)),
        }
    return render_template("admin/index.html", sections=SECTIONS, section=None, counts=counts,
                           seal=admin.seal_file(instance()).is_file())


# ---------------------------------------------------------------- users

def _users_data() -> dict[str, Any]:
    with instance().db.session() as s:
        return {"users": admin.list_users(s), "units": [(u.id, u.name, depth) for u, depth
                                                        in admin.unit_tree(s)],
                "roles": [(r, admin.ROLE_NAMES[r]) for r in ROLES]}


@bp.get("/users")
@requires("admin")
def users() -> Page:
    """Who signs in, with what role and unit."""
    return _render("users")


@bp.post("/users")
@requires("admin")
def add_user() -> Page:
    """Add a user with an initial password the admin hands over."""
    form = request.form

    def act(s: Session) -> str:
        added = admin.add_user(s, username=form.get("username", ""),
                               display_name=form.get("display_name", ""),
                               role=form.get("role", ""), unit_id=_int("unit_id"),
                               password=form.get("password", ""), actor=user().username)
        if added.role_pending:
            return f"已添加用户 {added.username}；其读信角色须经领导在“待确认角色”页确认后才能登录"
        return f"已添加用户 {added.username}，可用初始密码登录"

    return _change("users", act)


@bp.post("/users/<int:user_id>")
@requires("admin")
def change_user(user_id: int) -> Page:
    """Change a user's role and unit (their open sessions end)."""
    me = user()

    def act(s: Session) -> str:
        changed = admin.change_user(s, user_id, role=request.form.get("role", ""),
                                    unit_id=_int("unit_id"), actor=me.username, actor_id=me.id)
        return f"已修改 {changed.username} 的角色和单位"

    return _change("users", act)


@bp.post("/users/<int:user_id>/active")
@requires("admin")
def set_user_active(user_id: int) -> Page:
    """Disable (their sessions end at once) or enable a user."""
    me, active = user(), request.form.get("active") == "1"

    def act(s: Session) -> str:
        changed = admin.set_active(s, user_id, active, actor=me.username, actor_id=me.id)
        return f"已{'启用' if active else '停用'}用户 {changed.username}"

    return _change("users", act)


@bp.post("/users/<int:user_id>/password")
@requires("admin")
def reset_password(user_id: int) -> Page:
    """Set a new password for a user who forgot theirs."""
    def act(s: Session) -> str:
        changed = admin.reset_password(s, user_id, request.form.get("password", ""),
                                       actor=user().username)
        return f"已重设 {changed.username} 的密码；其已登录的会话已结束"

    return _change("users", act)


# ---------------------------------------------------------------- units

def _units_data() -> dict[str, Any]:
    with instance().db.session() as s:
        tree = admin.unit_tree(s)
        people = dict(s.execute(select(User.unit_id, func.count()).where(User.active)
                                .group_by(User.unit_id)).all())
        return {"tree": [{"id": u.id, "name": u.name, "level": u.level, "depth": depth,
                          "level_name": admin.LEVEL_NAMES.get(u.level, u.level),
                          "people": people.get(u.id, 0)} for u, depth in tree],
                "levels": [(lv, admin.LEVEL_NAMES[lv]) for lv in LEVELS]}


@bp.get("/units")
@requires("admin")
def units() -> Page:
    """The four-level network as a tree."""
    return _render("units")


@bp.post("/units")
@requires("admin")
def add_unit() -> Page:
    """Add a unit under a parent (or at the top)."""
    def act(s: Session) -> str:
        unit = admin.add_unit(s, request.form.get("name", ""), level=request.form.get("level", ""),
                              parent_id=_int("parent_id"), actor=user().username)
        return f"已添加单位 {unit.name}"

    return _change("units", act)


@bp.post("/units/<int:unit_id>")
@requires("admin")
def rename_unit(unit_id: int) -> Page:
    """Rename a unit."""
    def act(s: Session) -> str:
        unit = admin.rename_unit(s, unit_id, request.form.get("name", ""), actor=user().username)
        return f"单位已更名为 {unit.name}"

    return _change("units", act)


# ---------------------------------------------------------------- gazetteer and categories

def _places_data() -> dict[str, Any]:
    with instance().db.session() as s:
        return {"towns": admin.list_places(s),
                "categories": [{"id": c.id, "name": c.name, "active": c.active}
                               for c in admin.list_categories(s)]}


@bp.get("/places")
@requires("admin")
def places() -> Page:
    """Townships and villages, and the matter categories."""
    return _render("places")


@bp.post("/places")
@requires("admin")
def add_place() -> Page:
    """Add a township, or a village of a township."""
    township, village = request.form.get("township", ""), request.form.get("village", "")

    def act(s: Session) -> str:
        added = admin.add_place(s, township, village, actor=user().username)
        what = f"{township.strip()} {village.strip()}".strip()
        return f"已添加 {what}" if added else f"{what} 已在地名表中"

    return _change("places", act)


@bp.post("/places/<int:place_id>/remove")
@requires("admin")
def remove_place(place_id: int) -> Page:
    """Remove a village, or a township with its villages."""
    def act(s: Session) -> str:
        return f"已删除 {admin.remove_place(s, place_id, actor=user().username)} 条地名"

    return _change("places", act)


@bp.post("/places/import")
@requires("admin")
def import_places() -> Page:
    """Add the rows of a CSV file (township,village); bad rows are listed by line."""
    filename, data = _upload("file")
    if not data:
        return _render("places", error="请选择要导入的 CSV 文件（每行：乡镇,村）", status=400)
    if not filename.lower().endswith((".csv", ".txt")):
        return _render("places", error="导入文件应为 CSV（.csv）：每行 乡镇,村", status=400)
    try:
        with instance().db.session() as s:
            report = admin.import_places(s, data, actor=user().username)
    except admin.AdminError as e:
        return _render("places", error=str(e), status=400)
    status = 400 if report.errors and not report.added else 200
    return _render("places", report=report, status=status)


@bp.post("/categories")
@requires("admin")
def add_category() -> Page:
    """Add a matter category."""
    def act(s: Session) -> str:
        category = admin.add_category(s, request.form.get("name", ""), actor=user().username)
        return f"已添加分类 {category.name}"

    return _change("places", act)


@bp.post("/categories/<int:category_id>/active")
@requires("admin")
def set_category_active(category_id: int) -> Page:
    """Deactivate or reactivate a category."""
    active = request.form.get("active") == "1"

    def act(s: Session) -> str:
        category = admin.set_category_active(s, category_id, active, actor=user().username)
        return f"已{'恢复' if active else '停用'}分类 {category.name}"

    return _change("places", act)


# ---------------------------------------------------------------- routing

def _routes_data() -> dict[str, Any]:
    with instance().db.session() as s:
        leaders = s.execute(select(User.id, User.display_name).where(
            User.role == "leader", User.active).order_by(User.display_name)).all()
        towns = [t["township"] for t in admin.list_places(s)]
        return {"routes": admin.list_routes(s), "leaders": leaders, "towns": towns,
                "units": [(u.id, u.name, depth) for u, depth in admin.unit_tree(s)],
                "categories": [c.name for c in admin.list_categories(s) if c.active]}


@bp.get("/routes")
@requires("admin")
def routes() -> Page:
    """The routing table (属地管理): township × category → unit and leader."""
    return _render("routes")


@bp.post("/routes")
@requires("admin")
def set_route() -> Page:
    """Add or change one row."""
    def act(s: Session) -> str:
        unit_id = _int("unit_id")
        if unit_id is None:
            raise admin.AdminError("请选择承办单位")
        route = admin.set_route(s, township=request.form.get("township", ""),
                                category=request.form.get("category", ""), unit_id=unit_id,
                                lead_id=_int("lead_id"), actor=user().username)
        return f"已设置：{route.township or '任何乡镇'} · {route.category or '任何分类'}"

    return _change("routes", act)


@bp.post("/routes/<int:route_id>/remove")
@requires("admin")
def remove_route(route_id: int) -> Page:
    """Remove one row."""
    def act(s: Session) -> str:
        admin.remove_route(s, route_id, actor=user().username)
        return "已删除一条路由"

    return _change("routes", act)


# ---------------------------------------------------------------- templates

def _templates_data() -> dict[str, Any]:
    return {"templates": admin.list_templates(instance())}


@bp.get("/templates")
@requires("admin")
def templates() -> Page:
    """The reply templates, the version in use, earlier uploads."""
    return _render("templates")


@bp.get("/templates/<name>.docx")
@requires("admin")
def download_template(name: str) -> Response:
    """The .docx now in use, to edit in Word or WPS."""
    try:
        path = admin.template_file(instance(), name)
    except admin.AdminError:
        abort(404)
    return send_file(io.BytesIO(path.read_bytes()), as_attachment=True,
                     download_name=f"{name}.docx",
                     mimetype="application/vnd.openxmlformats-officedocument."
                              "wordprocessingml.document")


@bp.post("/templates/<name>")
@requires("admin")
def upload_template(name: str) -> Page:
    """Upload a new version of a template (checked; the old one is kept)."""
    filename, data = _upload("file")

    def act() -> str:
        if not filename:
            raise admin.AdminError("请选择要上传的 .docx 文件")
        version = admin.upload_template(instance(), name, filename, data,
                                        actor=user().username)
        return f"模板 {name} 的新版本已启用（{version}）"

    return _file_change("templates", act)


# ---------------------------------------------------------------- holidays

def _year() -> int:
    value = request.values.get("year", "")
    year = int(value) if value.isdigit() else instance().today().year
    return year if 2000 <= year <= 2100 else instance().today().year


def _holidays_data() -> dict[str, Any]:
    year = _year()
    calendar = instance().calendar
    return {"year": year, "days": admin.effective_days(instance(), year),
            "kinds": list(admin.DAY_KINDS.items()),
            # the years whose arrangement is known, and from where; others are refused
            "coverage": [row for row in calendar.coverage() if row["year"] >= year - 2],
            "covered": calendar.covers(dt.date(year, 1, 1))}


@bp.get("/holidays")
@requires("admin")
def holidays() -> Page:
    """The year's days off and make-up working days in force, and the office's own rows."""
    return _render("holidays")


@bp.post("/holidays")
@requires("admin")
def add_holiday() -> Page:
    """Add an office day off or working day."""
    form = request.form

    def act() -> str:
        day = admin.add_office_day(instance(), form.get("date", ""), form.get("kind", ""),
                                   form.get("name", ""), actor=user().username)
        return f"已将 {day} 设为{admin.DAY_KINDS[form.get('kind', '')]}；期限按新表计算"

    return _file_change("holidays", act, year=_year())


@bp.post("/holidays/remove")
@requires("admin")
def remove_holiday() -> Page:
    """Remove one of the office's own rows."""
    def act() -> str:
        day = admin.remove_office_day(instance(), request.form.get("date", ""),
                                      actor=user().username)
        return f"已删除本单位对 {day} 的设置"

    return _file_change("holidays", act, year=_year())


# ---------------------------------------------------------------- certificate and seal

def _signing_data() -> dict[str, Any]:
    try:
        certificate: dict[str, Any] | None = admin.certificate_info(instance())
        problem = None
    except Exception as e:  # noqa: BLE001 - a broken certificate file must not hide the page
        certificate, problem = None, f"无法读取当前证书：{e}"
    return {"certificate": certificate, "problem": problem,
            "seal": admin.seal_file(instance()).is_file(), "seal_max": admin.SEAL_MAX >> 20,
            "stamp": dt.datetime.now(dt.UTC).timestamp()}


@bp.get("/signing")
@requires("admin")
def signing() -> Page:
    """The signing certificate and the seal on signed replies."""
    return _render("signing")


@bp.get("/signing/seal.png")
@requires("admin")
def seal_image() -> Response:
    """The seal signed replies carry now (scanned, or drawn from the office name)."""
    return Response(admin.seal_preview(instance()), mimetype="image/png")


@bp.post("/signing/certificate")
@requires("admin")
def import_certificate() -> Page:
    """Import a CA-issued PKCS#12 with its passphrase."""
    filename, data = _upload("file")

    def act() -> str:
        if not data:
            raise admin.AdminError("请选择证书文件（.p12 或 .pfx）")
        done = admin.import_p12(instance(), filename, data,
                                request.form.get("passphrase", "").encode(),
                                actor=user().username)
        return f"已启用新证书：{done['subject']}；以前签发的答复仍可验证"

    return _file_change("signing", act)


@bp.post("/signing/seal")
@requires("admin")
def upload_seal() -> Page:
    """Upload a scanned seal image."""
    filename, data = _upload("file")

    def act() -> str:
        admin.upload_seal(instance(), filename, data, actor=user().username)
        return "印章已更新：此后签发的答复使用上传的印章"

    return _file_change("signing", act)


@bp.post("/signing/seal/remove")
@requires("admin")
def remove_seal() -> Page:
    """Go back to the drawn seal."""
    def act() -> str:
        admin.remove_seal(instance(), actor=user().username)
        return "已改回按单位名称生成的印章"

    return _file_change("signing", act)


# ---------------------------------------------------------------- roles a leader confirms

@bp.get("/pending")
@requires("confirm_roles")
def pending() -> str:
    """The letter-reading roles an admin set, waiting for a leader (separation of duties)."""
    with instance().db.session() as s:
        waiting = admin.pending_users(s)
    return render_template("admin/pending.html", waiting=waiting)


@bp.post("/users/<int:user_id>/confirm")
@requires("confirm_roles")
def confirm_role(user_id: int) -> Page:
    """A leader confirms the role: the user may sign in with it from now on."""
    me = user()
    try:
        with instance().db.session() as s:
            confirmed = admin.confirm_role(s, user_id, actor=me.username, actor_role=me.role)
            note = f"已确认 {confirmed.username} 的角色"
    except admin.AdminError as e:
        abort(400, description=str(e))
    flash(note)
    return redirect(url_for("admin.pending"))


# ---------------------------------------------------------------- failed sign-ins

def _signins_data() -> dict[str, Any]:
    with instance().db.session() as s:
        return {"failures": [
            {"at": a.at, "username": a.username, "remote_addr": a.remote_addr,
             "delayed": a.delayed} for a in access.recent_failures(s)],
            "free": access.FREE_FAILURES_PER_NAME, "most": int(access.MAX_DELAY.total_seconds())}


@bp.get("/signins")
@requires("admin")
def signins() -> Page:
    """The newest failed sign-ins: who was tried, from where, and which tries had to wait."""
    return _render("signins")


# ---------------------------------------------------------------- wrong query codes

def _query_tries_data() -> dict[str, Any]:
    return {"tries": public_query.refused_tries(instance(), days=QUERY_TRIES_DAYS),
            "days": QUERY_TRIES_DAYS, "per_hour": query_codes.WRONG_CODES_PER_HOUR,
            "keep_days": query_codes.KEEP_TRIES.days}


@bp.get("/query-tries")
@requires("admin")
def query_tries() -> Page:
    """The public query page's wrong codes per (masked) address: guessing shows here."""
    return _render("query_tries")


PAGES: dict[str, Callable[[], dict[str, Any]]] = {
    "users": _users_data, "units": _units_data, "places": _places_data,
    "routes": _routes_data, "templates": _templates_data, "holidays": _holidays_data,
    "signing": _signing_data, "signins": _signins_data, "query_tries": _query_tries_data,
}
