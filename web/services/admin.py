"""系统管理 as plain functions: users, units, gazetteer, routing, templates, holidays, signing.

No Flask here: the admin pages and the JSON API call the same functions. Each change is audited
in the same unit of work; a refusal is an AdminError whose message is shown to the admin as is.
Files live in the instance folder: ``templates/`` (the office's versions of reply templates, every
upload kept under ``templates/versions/NAME/``), ``holidays.csv``, ``signing/`` (certificate, seal).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

import letters
from records import LEVELS, ROLES, Category, Place, Unit, User, audit, routing, units
from records.calendar import CalendarError, library_days, library_years, parse_rows
from records.models import Route, utcnow
from web.services import access
from web.services.errors import ServiceError
from web.services.instance import Instance
from web.services.labels import certificate_name
from web.services.replies import ensure_office_certificate, import_certificate

ROLE_NAMES = {"clerk": "登记员", "handler": "承办人", "leader": "领导", "admin": "管理员"}
LEVEL_NAMES = {"county": "县级", "township": "乡镇", "village": "村/社区", "group": "组"}
DAY_KINDS = {"holiday": "放假", "workday": "调休上班", "year": "全年安排已录入"}
NAME_MAX = 64
TEMPLATE_MAX = 10 << 20  # a reply template is a few hundred kB; 10 MB leaves room for images
SEAL_MAX = 2 << 20
SEAL_PIXELS = (300, 4000)  # smallest and largest side: 40 mm at 300 dpi is 472 px


class AdminError(ServiceError):
    """A refused change; the message (Chinese) says why and is safe to show."""


# ---------------------------------------------------------------- users

def list_users(session: Session) -> list[dict[str, Any]]:
    """Every user with role and unit names, active ones first."""
    names = dict(session.execute(select(Unit.id, Unit.name)).all())
    users = session.scalars(select(User).order_by(User.active.desc(), User.username)).all()
    return [{"id": u.id, "username": u.username, "display_name": u.display_name, "role": u.role,
             "role_name": ROLE_NAMES.get(u.role, u.role), "unit_id": u.unit_id,
             "unit": names.get(u.unit_id) if u.unit_id else None, "active": u.active,
             "can_sign_in": bool(u.password_hash)} for u in users]


def _user(session: Session, user_id: int) -> User:
    found = session.get(User, user_id)
    if found is None:
        raise AdminError("没有这个用户")
    return found


def _unit_or_none(session: Session, unit_id: int | None) -> Unit | None:
    if unit_id is None:
        return None
    found = session.get(Unit, unit_id)
    if found is None:
        raise AdminError("没有这个单位")
    return found


def _check_role(role: str, unit: Unit | None) -> None:
    if role not in ROLES:
        raise AdminError(f"角色必须是 {'、'.join(ROLE_NAMES.values())} 之一")
    if role == "handler" and unit is None:
        raise AdminError("承办人必须属于一个承办单位（承办人只看本单位的案件）")


def _needs_confirmation(session: Session, user: User, actor: str, *, console: bool) -> None:
    """Separation of duties: a letter-reading role set by an admin waits for a leader.

    The admin keeps the system and reads no letters; were it able to make (or become through a
    colleague's account) a clerk, handler or leader alone, it could read every letter. The
    console (`huiyin user add`) is the machine's operator, who holds the database anyway.
    """
    if console or user.role not in access.CAPABILITIES["read_letters"]:
        user.role_pending = False
        return
    user.role_pending = True
    audit.record(session, actor, "request-role", "user", user.id, role=user.role,
                 unit_id=user.unit_id)


def pending_users(session: Session) -> list[dict[str, Any]]:
    """Users whose letter-reading role an admin set and no leader has confirmed yet."""
    names = dict(session.execute(select(Unit.id, Unit.name)).all())
    rows = session.scalars(select(User).where(User.role_pending.is_(True))
                           .order_by(User.username)).all()
    return [{"id": u.id, "username": u.username, "display_name": u.display_name,
             "role_name": ROLE_NAMES.get(u.role, u.role),
             "unit": names.get(u.unit_id) if u.unit_id else None} for u in rows]


def confirm_role(session: Session, user_id: int, *, actor: str, actor_role: str) -> User:
    """A leader confirms the role an admin set: the user may sign in and read with it."""
    if actor_role != "leader":
        raise AdminError("只有领导可以确认读信角色")
    user = _user(session, user_id)
    if not user.role_pending:
        raise AdminError(f"{user.username} 没有待确认的角色")
    user.role_pending = False
    audit.record(session, actor, "confirm-role", "user", user.id, role=user.role,
                 unit_id=user.unit_id)
    return user


def add_user(session: Session, *, username: str, display_name: str, role: str,
             unit_id: int | None, password: str | None, actor: str,
             console: bool = False) -> User:
    """A new user who can sign in with the password set (None: not until one is); a
    letter-reading role set on the web waits for a leader's confirmation first."""
    username, display_name = username.strip(), display_name.strip()
    if not username or len(username) > NAME_MAX or any(c.isspace() for c in username):
        raise AdminError("用户名不能为空、不能含空格，最多 64 个字符")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise AdminError(f"用户名 {username} 已存在")
    unit = _unit_or_none(session, unit_id)
    _check_role(role, unit)
    if password is not None:
        try:
            access.check_password_strength(password, username)
        except ValueError as e:
            raise AdminError(f"初始密码不合格：{e}") from e
    user = units.add_user(session, username, role=role, display_name=display_name[:NAME_MAX],
                          unit=unit, actor=actor)
    if password is not None:
        user.password_hash = access.hash_password(password)
    _needs_confirmation(session, user, actor, console=console)
    return user


def change_user(session: Session, user_id: int, *, role: str, unit_id: int | None,
                actor: str, actor_id: int) -> User:
    """Change a user's role and unit; their open sessions end (access.session_token)."""
    user = _user(session, user_id)
    unit = _unit_or_none(session, unit_id)
    _check_role(role, unit)
    if user.id == actor_id and role != "admin":
        raise AdminError("不能取消自己的管理员角色（以免无人能管理系统）")
    before = {"role": user.role, "unit_id": user.unit_id}
    if before == {"role": role, "unit_id": unit_id}:
        return user
    user.role, user.unit_id = role, unit_id
    audit.record(session, actor, "change-user", "user", user.id, before=before,
                 after={"role": role, "unit_id": unit_id})
    _needs_confirmation(session, user, actor, console=False)
    return user


def set_active(session: Session, user_id: int, active: bool, *, actor: str,
               actor_id: int) -> User:
    """Disable (their sessions end, records stay) or enable a user."""
    user = _user(session, user_id)
    if user.id == actor_id and not active:
        raise AdminError("不能停用自己的账号（以免无人能管理系统）")
    if user.active != active:
        user.active = active
        audit.record(session, actor, "enable-user" if active else "disable-user", "user",
                     user.id)
    return user


def reset_password(session: Session, user_id: int, password: str, *, actor: str) -> User:
    """Set a new password chosen by the admin; the user's open sessions end."""
    user = _user(session, user_id)
    try:
        access.check_password_strength(password, user.username)
    except ValueError as e:
        raise AdminError(f"新密码不合格：{e}") from e
    user.password_hash = access.hash_password(password)
    audit.record(session, actor, "reset-password", "user", user.id)
    return user


# ---------------------------------------------------------------- units

def unit_tree(session: Session) -> list[tuple[Unit, int]]:
    """Units in tree order (each under its parent), with their depth."""
    every = units.list_units(session)
    children: dict[int | None, list[Unit]] = {}
    known = {u.id for u in every}
    for unit in every:
        parent = unit.parent_id if unit.parent_id in known else None
        children.setdefault(parent, []).append(unit)
    ordered: list[tuple[Unit, int]] = []
    seen: set[int] = set()
    todo: list[tuple[Unit, int]] = [(u, 0) for u in reversed(children.get(None, []))]
    while todo:  # depth first, without recursion: four levels, but thousands of groups
        unit, depth = todo.pop()
        if unit.id not in seen:
            seen.add(unit.id)
            ordered.append((unit, depth))
            todo.extend((child, depth + 1) for child in reversed(children.get(unit.id, [])))
    return ordered


def add_unit(session: Session, name: str, *, level: str, parent_id: int | None,
             actor: str) -> Unit:
    """A unit in the four-level network; a sub-unit sits at its parent's level or below."""
    name = name.strip()
    if not name or len(name) > 120:
        raise AdminError("单位名称不能为空，最多 120 个字符")
    if level not in LEVELS:
        raise AdminError("层级必须是 县级、乡镇、村/社区、组 之一")
    parent = _unit_or_none(session, parent_id)
    if session.scalars(select(Unit).where(Unit.name == name)).first() is not None:
        raise AdminError(f"单位 {name} 已存在")
    if parent is not None and LEVELS.index(level) < LEVELS.index(parent.level):
        raise AdminError(f"{LEVEL_NAMES[level]}单位不能隶属于{LEVEL_NAMES[parent.level]}单位 "
                         f"{parent.name}：下级单位的层级不高于上级")
    return units.add_unit(session, name, level=level, parent=parent, actor=actor)


def rename_unit(session: Session, unit_id: int, name: str, *, actor: str) -> Unit:
    """Rename a unit (cases, users and routes refer to it by id and follow)."""
    unit = _unit_or_none(session, unit_id)
    assert unit is not None
    name = name.strip()
    if not name or len(name) > 120:
        raise AdminError("单位名称不能为空，最多 120 个字符")
    if name != unit.name:
        if session.scalars(select(Unit).where(Unit.name == name)).first() is not None:
            raise AdminError(f"单位 {name} 已存在")
        audit.record(session, actor, "rename-unit", "unit", unit.id, before=unit.name, after=name)
        unit.name = name
    return unit


# ---------------------------------------------------------------- gazetteer and categories

def list_places(session: Session) -> list[dict[str, Any]]:
    """Townships, each with its township row id and its villages (id, name)."""
    rows = session.scalars(select(Place).order_by(Place.township, Place.village)).all()
    towns: dict[str, dict[str, Any]] = {}
    for place in rows:
        town = towns.setdefault(place.township, {"township": place.township, "id": None,
                                                 "villages": []})
        if place.village:
            town["villages"].append({"id": place.id, "village": place.village})
        else:
            town["id"] = place.id
    return list(towns.values())


def _check_place_name(text: str, what: str) -> str:
    text = text.strip()
    if len(text) > NAME_MAX:
        raise AdminError(f"{what}名称过长（最多 64 个字符）")
    if any(c in text for c in ",，;；\t\n"):
        raise AdminError(f"{what}名称不能含逗号、分号或换行")
    return text


def add_place(session: Session, township: str, village: str = "", *, actor: str) -> bool:
    """Add a township, or a village of one (its township is added too); False if present."""
    township = _check_place_name(township, "乡镇")
    village = _check_place_name(village, "村")
    if not township:
        raise AdminError("乡镇名称不能为空")
    added = False
    for name in ((township, ""), (township, village)) if village else ((township, ""),):
        exists = session.scalars(select(Place).where(Place.township == name[0],
                                                     Place.village == name[1])).first()
        if exists is None:
            place = Place(township=name[0], village=name[1])
            session.add(place)
            session.flush()
            audit.record(session, actor, "add-place", "place", place.id, township=name[0],
                         village=name[1])
            added = name[1] == village
    return added


def remove_place(session: Session, place_id: int, *, actor: str) -> int:
    """Remove a village, or a township with its villages; return how many rows went."""
    place = session.get(Place, place_id)
    if place is None:
        raise AdminError("地名表中没有这一条")
    doomed = [place] if place.village else list(
        session.scalars(select(Place).where(Place.township == place.township)))
    for row in doomed:
        audit.record(session, actor, "remove-place", "place", row.id, township=row.township,
                     village=row.village)
        session.delete(row)
    return len(doomed)


@dataclass
class ImportReport:
    """What a CSV import did: rows added, rows already present, and each bad row's reason."""

    added: int = 0
    present: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030: what Excel writes on a Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AdminError("文件既不是 UTF-8 也不是 GBK 编码的 CSV")


def import_places(session: Session, data: bytes, *, actor: str) -> ImportReport:
    """Add the rows of a CSV `township,village` (a header row is optional); bad rows are named."""
    report = ImportReport()
    text = _decode(data)
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower() in ("township", "乡镇", "乡镇名称"):
            continue
        if len(cells) > 2:
            report.errors.append((number, f"有 {len(cells)} 列，应为两列：乡镇,村"))
            continue
        township, village = cells[0], cells[1] if len(cells) > 1 else ""
        if not township:
            report.errors.append((number, "缺少乡镇名称"))
            continue
        try:  # add_place checks the names before it writes anything
            if add_place(session, township, village, actor=actor):
                report.added += 1
            else:
                report.present += 1
        except AdminError as e:
            report.errors.append((number, str(e)))
    audit.record(session, actor, "import-places", "place", None, added=report.added,
                 present=report.present, errors=len(report.errors))
    return report


def list_categories(session: Session) -> list[Category]:
    """Every category, active or not, in the order they were added."""
    return list(session.scalars(select(Category).order_by(Category.id)))


def add_category(session: Session, name: str, *, actor: str) -> Category:
    """A new matter category (a deactivated one of the same name comes back)."""
    name = _check_place_name(name, "分类")
    if not name:
        raise AdminError("分类名称不能为空")
    category = session.scalars(select(Category).where(Category.name == name)).first()
    if category is not None and category.active:
        raise AdminError(f"分类 {name} 已存在")
    if category is None:
        category = Category(name=name, active=True)
        session.add(category)
        session.flush()
    category.active = True
    audit.record(session, actor, "add-category", "category", category.id, name=name)
    return category


def set_category_active(session: Session, category_id: int, active: bool, *,
                        actor: str) -> Category:
    """Deactivate (no longer offered; old letters keep it) or reactivate a category."""
    category = session.get(Category, category_id)
    if category is None:
        raise AdminError("没有这个分类")
    if category.active != active:
        category.active = active
        audit.record(session, actor, "activate-category" if active else "deactivate-category",
                     "category", category.id, name=category.name)
    return category


# ---------------------------------------------------------------- routing

def list_routes(session: Session) -> list[dict[str, Any]]:
    """The routing table, most general rows last; "" is any township or category."""
    rows = session.execute(
        select(Route, Unit.name, User.display_name, User.username)
        .join(Unit, Route.unit_id == Unit.id)
        .outerjoin(User, Route.lead_id == User.id).order_by(Route.township, Route.category)
    ).all()
    return [{"id": r.id, "township": r.township, "category": r.category, "unit": unit,
             "unit_id": r.unit_id, "lead": name or username, "lead_username": username,
             "lead_id": r.lead_id} for r, unit, name, username in rows]


def set_route(session: Session, *, township: str, category: str, unit_id: int,
              lead_id: int | None, actor: str) -> Route:
    """Add or change one row: which unit (and leader) handle a township's category."""
    unit = _unit_or_none(session, unit_id)
    if unit is None:
        raise AdminError("请选择承办单位")
    lead = _user(session, lead_id) if lead_id else None
    if lead is not None and (lead.role != "leader" or not lead.active):
        raise AdminError(f"{lead.display_name} 不是在用的领导账号，不能作包案领导")
    return routing.set_route(session, township=township.strip(), category=category.strip(),
                             unit=unit, lead=lead, actor=actor)


def remove_route(session: Session, route_id: int, *, actor: str) -> None:
    """Remove one row of the routing table."""
    route = session.get(Route, route_id)
    if route is None:
        raise AdminError("路由表中没有这一行")
    audit.record(session, actor, "remove-route", "route", route.id, township=route.township,
                 category=route.category, unit_id=route.unit_id)
    session.delete(route)


# ---------------------------------------------------------------- reply templates

def templates_dir(instance: Instance) -> Path:
    """The office's own templates: a .docx here replaces the built-in one of the same name."""
    return instance.templates_dir


def list_templates(instance: Instance) -> list[dict[str, Any]]:
    """Each template: name, title, the version in use, where it comes from, earlier uploads."""
    folder = templates_dir(instance)
    found = []
    for name in letters.template_names(folder):
        version = letters.template_version(name, folder)
        kept = sorted((folder / "versions" / name).glob("*.docx"), reverse=True)
        found.append({"name": name, "title": letters.template_title(name), "version": version,
                      "office": version.startswith("office:"),
                      "uploads": [p.name for p in kept]})
    return found


def template_file(instance: Instance, name: str) -> Path:
    """The .docx a reply of this template is rendered from now."""
    if name not in letters.template_names(templates_dir(instance)):
        raise AdminError(f"没有名为 {name} 的模板")
    own = templates_dir(instance) / f"{name}.docx"
    return own if own.is_file() else Path(letters.__file__).parent / "templates" / f"{name}.docx"


def upload_template(instance: Instance, name: str, filename: str, data: bytes, *,
                    actor: str) -> str:
    """Check an uploaded .docx and make it the template's new version; return the version."""
    folder = templates_dir(instance)
    if name not in letters.template_names(folder):
        raise AdminError(f"没有名为 {name} 的模板")
    if not filename.lower().endswith(".docx"):
        raise AdminError("模板必须是 Word 文档（.docx）；"
                         ".doc、.wps、.pdf 等请先在 Word 中另存为 .docx")
    if not data:
        raise AdminError("上传的文件是空的")
    if len(data) > TEMPLATE_MAX:
        raise AdminError(f"模板文件过大（{len(data) >> 20} MB，最大 {TEMPLATE_MAX >> 20} MB）")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise AdminError("这不是有效的 Word 文档（.docx）：文件内容不是 Word 格式")
    needed = letters.required_fields(name)  # the built-in's: a bad office upload is replaceable
    with tempfile.TemporaryDirectory(dir=instance.home, prefix=".upload-") as tmp:
        candidate = Path(tmp) / f"{name}.docx"
        candidate.write_bytes(data)
        try:
            fields = letters.required_fields(candidate)
            extra = sorted(fields - needed)
            if extra:
                raise AdminError("模板中有系统不提供的字段：" + "、".join(extra)
                                 + "；可用的字段：" + "、".join(sorted(needed)))
            letters.render_docx(candidate, letters.sample_context(fields),
                                Path(tmp) / "sample.docx")
        except letters.LettersError as e:
            raise AdminError(f"模板无法使用：{e}") from e
    digest = hashlib.sha256(data).hexdigest()
    version = f"office:{digest[:16]}"
    if letters.template_version(name, folder) == version:
        raise AdminError("这个文件与当前使用的版本完全相同")
    kept = folder / "versions" / name
    kept.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    (kept / f"{stamp}-{digest[:16]}.docx").write_bytes(data)
    current = folder / f"{name}.docx"
    partial = folder / f".{name}.docx.part"
    partial.write_bytes(data)
    partial.replace(current)
    with instance.db.session() as session:
        audit.record(session, actor, "upload-template", "template", None, name=name,
                     version=version, filename=filename[:200])
    return version


# ---------------------------------------------------------------- holidays

def holidays_file(instance: Instance) -> Path:
    """The office's own rows, which add to or replace the shipped table."""
    return instance.home / "holidays.csv"


def _office_rows(instance: Instance) -> dict[dt.date, tuple[str, str]]:
    path = holidays_file(instance)
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as f:
        return {day: (kind, name) for day, kind, name in parse_rows(f, str(path))}


def effective_days(instance: Instance, year: int) -> list[dict[str, Any]]:
    """The year's holidays and make-up working days as in force, with where each comes from."""
    shipped = library_days(year) if year in library_years() else {}
    office = _office_rows(instance)
    # Only a year whose State Council notice the library carries is 国家规定; never an estimate.
    announced = year in library_years()
    rows = []
    for day in sorted(set(shipped) | set(office)):
        if day.year != year:
            continue
        kind, name = office.get(day) or shipped[day]
        rows.append({"date": day, "kind": kind, "kind_name": DAY_KINDS[kind], "name": name,
                     "office": day in office, "weekday": "一二三四五六日"[day.weekday()],
                     "overrides": day in office and day in shipped, "announced": announced})
    return rows


def estimate_year(instance: Instance, year: int, *, actor: str, note: str) -> None:
    """Enter a year the library has no State Council notice for from its statutory days alone,
    named as an estimate (``note``): for a demonstration, never in place of the notice."""
    rows = _office_rows(instance)
    if any(day.year == year and kind == "year" for day, (kind, _) in rows.items()):
        return
    for day, (kind, name) in library_days(year).items():
        rows.setdefault(day, (kind, f"{name}（估计）"))
    rows[dt.date(year, 1, 1)] = ("year", note)
    _write_office_rows(instance, rows)
    with instance.db.session() as session:
        audit.record(session, actor, "add-office-day", "calendar", None,
                     date=dt.date(year, 1, 1).isoformat(), kind="year", name=note)


def _write_office_rows(instance: Instance, rows: dict[dt.date, tuple[str, str]]) -> None:
    buffer = io.StringIO()
    buffer.write("# The office's own days off and working days (系统管理); they add to or replace"
                 " the shipped table.\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", "kind", "name"])
    for day in sorted(rows):
        writer.writerow([day.isoformat(), *rows[day]])
    path = holidays_file(instance)
    partial = path.with_name(".holidays.csv.part")
    partial.write_text(buffer.getvalue(), encoding="utf-8")
    partial.replace(path)  # Instance.calendar reads the new table at its next use


def _parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as e:
        raise AdminError(f"日期格式应为 YYYY-MM-DD（如 2026-10-09），不是 “{text[:20]}”") from e


def add_office_day(instance: Instance, day_text: str, kind: str, name: str, *,
                   actor: str) -> dt.date:
    """Declare a day off (holiday) or a working day (workday) for the office."""
    day = _parse_day(day_text)
    if kind not in DAY_KINDS:
        raise AdminError("类型必须是 放假 或 调休上班")
    name = name.strip()[:40] or ("本单位放假" if kind == "holiday" else "本单位调休上班")
    if any(c in name for c in ",\n\r\""):
        raise AdminError("说明中不能有逗号、引号或换行")
    try:
        rows = _office_rows(instance)
    except CalendarError as e:
        raise AdminError(f"本单位节假日表有误，请先修正：{e}") from e
    if day in rows:
        raise AdminError(f"{day} 已在本单位节假日表中（{DAY_KINDS[rows[day][0]]}），"
                         "如需修改请先删除")
    calendar = instance.calendar
    working = calendar.is_working_day(day) if calendar.covers(day) else day.weekday() < 5
    if kind == "holiday" and not working:
        raise AdminError(f"{day} 本来就不上班，无需再设为放假")
    if kind == "workday" and working and calendar.covers(day):
        raise AdminError(f"{day} 本来就是工作日，无需再设为上班")
    rows[day] = (kind, name)
    _write_office_rows(instance, rows)
    with instance.db.session() as session:
        audit.record(session, actor, "add-office-day", "calendar", None, date=day.isoformat(),
                     kind=kind, name=name)
    return day


def remove_office_day(instance: Instance, day_text: str, *, actor: str) -> dt.date:
    """Drop one of the office's own rows (the shipped table's row for the day, if any, returns)."""
    day = _parse_day(day_text)
    rows = _office_rows(instance)
    if day not in rows:
        raise AdminError(f"{day} 不在本单位节假日表中（国家规定的节假日不能在这里删除）")
    kind, _ = rows.pop(day)
    _write_office_rows(instance, rows)
    with instance.db.session() as session:
        audit.record(session, actor, "remove-office-day", "calendar", None,
                     date=day.isoformat(), kind=kind)
    return day


# ---------------------------------------------------------------- certificate and seal

def signing_dir(instance: Instance) -> Path:
    return instance.home / "signing"


def seal_file(instance: Instance) -> Path:
    """The scanned seal used on signed replies, when the office has uploaded one."""
    return signing_dir(instance) / "seal.png"


def certificate_info(instance: Instance) -> dict[str, Any]:
    """The signing certificate now in use: subject, issuer, validity, SHA-256 fingerprint."""
    p12 = ensure_office_certificate(instance)
    secret = p12.with_name(p12.name + ".pass")
    passphrase = secret.read_text().strip().encode() if secret.is_file() else b""
    cert = letters.certificate_of(p12, passphrase)
    validity = cert["tbs_certificate"]["validity"]
    not_after = validity["not_after"].native
    return {"subject": certificate_name(cert.subject.native),
            "issuer": certificate_name(cert.issuer.native),
            "not_before": validity["not_before"].native, "not_after": not_after,
            "expired": not_after < dt.datetime.now(dt.UTC),
            "fingerprint": cert.sha256_fingerprint, "self_signed": cert.self_signed != "no",
            "retired": len(list((signing_dir(instance) / "retired").glob("*.p12")))}


def import_p12(instance: Instance, filename: str, data: bytes, passphrase: bytes, *,
               actor: str) -> dict[str, str]:
    """Make a CA-issued PKCS#12 the signing certificate (the old one is kept for verifying)."""
    if not filename.lower().endswith((".p12", ".pfx")):
        raise AdminError("证书文件应为 PKCS#12 格式（.p12 或 .pfx）")
    if not data or len(data) > 1 << 20:
        raise AdminError("证书文件为空或过大")
    folder = signing_dir(instance)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".import-") as tmp:
        candidate = Path(tmp) / "incoming.p12"
        candidate.write_bytes(data)
        try:
            letters.certificate_of(candidate, passphrase)
        except (letters.LettersError, ValueError, TypeError) as e:
            raise AdminError("无法读取证书：文件不是 PKCS#12 证书，或口令不正确") from e
        return import_certificate(instance, candidate, passphrase, actor=actor)


def upload_seal(instance: Instance, filename: str, data: bytes, *, actor: str) -> None:
    """Check a scanned seal (PNG with transparency or JPEG) and use it on signed replies."""
    if not data:
        raise AdminError("上传的文件是空的")
    if len(data) > SEAL_MAX:
        raise AdminError(f"印章图片过大（{len(data) / 1048576:.1f} MB，最大 {SEAL_MAX >> 20} MB）："
                         "请以 300 dpi 扫描，裁去印章外的空白")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, size, mode, info = image.format, image.size, image.mode, dict(image.info)
                image.load()
    except (OSError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise AdminError("无法读取这张图片：请上传 PNG 或 JPEG 格式的印章扫描件") from e
    if kind not in ("PNG", "JPEG"):
        raise AdminError(f"印章图片须为 PNG（透明背景）或 JPEG，不是 {kind or filename}")
    if kind == "PNG" and mode not in ("RGBA", "LA", "PA") and "transparency" not in info:
        raise AdminError("PNG 印章须为透明背景；白底的扫描件请上传 JPEG")
    if min(size) < SEAL_PIXELS[0] or max(size) > SEAL_PIXELS[1]:
        raise AdminError(f"印章图片为 {size[0]}×{size[1]} 像素；应在 {SEAL_PIXELS[0]} 到 "
                         f"{SEAL_PIXELS[1]} 像素之间（40 毫米、300 dpi 约 472 像素）")
    folder = signing_dir(instance)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".seal-") as tmp:
        source = Path(tmp) / ("seal.png" if kind == "PNG" else "seal.jpg")
        source.write_bytes(data)
        try:
            stamp = letters.load_seal(source)
        except letters.LettersError as e:
            raise AdminError(f"无法使用这张印章图片：{e}") from e
        partial = Path(tmp) / "ready.png"
        stamp.save(partial, format="PNG")
        target = seal_file(instance)
        if target.is_file():
            retired = folder / "retired"
            retired.mkdir(mode=0o700, exist_ok=True)
            target.replace(retired / f"{utcnow().strftime('%Y%m%dT%H%M%S')}-seal.png")
        partial.replace(target)
    with instance.db.session() as session:
        audit.record(session, actor, "upload-seal", "seal", None,
                     sha256=hashlib.sha256(data).hexdigest(), filename=filename[:200])


def remove_seal(instance: Instance, *, actor: str) -> None:
    """Go back to the seal drawn from the office name (the scanned one is kept, retired)."""
    target = seal_file(instance)
    if not target.is_file():
        raise AdminError("当前没有上传的印章")
    retired = signing_dir(instance) / "retired"
    retired.mkdir(mode=0o700, exist_ok=True)
    target.replace(retired / f"{utcnow().strftime('%Y%m%dT%H%M%S')}-seal.png")
    with instance.db.session() as session:
        audit.record(session, actor, "remove-seal", "seal", None)


def seal_preview(instance: Instance) -> bytes:
    """The seal signed replies carry now, as PNG bytes."""
    target = seal_file(instance)
    image = letters.load_seal(target) if target.is_file() else letters.seal_image(
        instance.settings["office_name"])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

