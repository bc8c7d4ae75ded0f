"""Issue 21: what a clerk met every hour, each stumble with its own test.

Internal words and user names on the pages, UTC times, English error pages, the register's
pipeline states, lists without a text filter or an Excel export.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select, update

from records import Case, Letter, User
from records.routing import route_case, set_route
from tests.web.app.views.office_data import Office, build
from tests.web.signin import HANDLER_UNIT, sign_in
from web.app import create_app
from web.services.instance import Instance

NAMES = {"clerk1": "李娜", "handler1": "赵刚", "leader1": "王建军", "admin1": "陈静"}


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    """The small office, its people with display names, one case routed by the table."""
    office = build(tmp_path_factory.mktemp("day") / "instance")
    with Instance(office.home) as instance, instance.db.session() as session:
        for username, name in NAMES.items():
            session.execute(update(User).where(User.username == username)
                            .values(display_name=name))
        from records import Unit

        unit = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
        leader = session.scalars(select(User).where(User.username == "leader1")).one()
        set_route(session, township="城关镇", category="城乡建设", unit=unit, lead=leader,
                  actor="admin1")
        lift = session.get(Case, office.cases["lift"])
        assert lift is not None
        route_case(session, lift, actor="clerk1")
        letter = session.get(Letter, office.letters["han1"])
        assert letter is not None
        letter.reviewed_by = "clerk1"
        letter.reviewed_at = dt.datetime(2026, 11, 24, 6, 21)  # UTC: 14:21 in Shanghai
    return office


@pytest.fixture(scope="module")
def app(office: Office) -> Iterator[Flask]:
    app = create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})
    yield app
    app.extensions["huiyin"].close()


def client(app: Flask, username: str) -> FlaskClient:
    return sign_in(app.test_client(), username)


def text_of(html: str) -> str:
    """The words a page shows (tags, scripts and attribute values left out)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_case_timeline_names_people_and_actions_in_chinese(app: Flask,
                                                               office: Office) -> None:
    shown = text_of(client(app, "clerk1").get(f"/cases/{office.cases['lift']}")
                    .get_data(as_text=True))
    timeline = shown[shown.index("办理记录"):]
    for internal in ("routing table", "clerk1", "leader1", "assign-owner", "open-case"):
        assert internal not in timeline
    assert "李娜" in timeline and "包案领导：王建军" in timeline
    assert "按分办规则自动分办" in timeline


def test_the_letter_page_shows_the_office_s_time_and_the_reviewer_s_name(
        app: Flask, office: Office) -> None:
    shown = text_of(client(app, "clerk1").get(f"/letters/{office.letters['han1']}")
                    .get_data(as_text=True))
    assert "李娜，2026-11-24 14:21" in shown
    assert "UTC" not in shown and "06:21" not in shown


def test_the_header_shows_the_display_name(app: Flask) -> None:
    html = client(app, "leader1").get("/cases/").get_data(as_text=True)
    assert "王建军（领导）" in html and "leader1" not in text_of(html)


@pytest.mark.parametrize(("username", "path", "code", "words"), [
    ("handler1", "/admin/", 403, "没有查看或办理此项的权限"),
    ("clerk1", "/no-such-page", 404, "没有找到这个页面"),
    ("clerk1", "/letters/999999", 404, "没有找到这个页面"),
    ("clerk1", "/review/letters/999999/pages/1.png", 404, "或您无权查看"),
])
def test_error_pages_are_in_chinese(app: Flask, username: str, path: str, code: int,
                                    words: str) -> None:
    response = client(app, username).get(path)
    assert response.status_code == code
    shown = text_of(response.get_data(as_text=True))
    assert words in shown
    assert not re.search(r"Not Found|Forbidden|requested URL|permission|server", shown)


def test_the_register_filters_by_what_a_clerk_tells_apart(app: Flask) -> None:
    html = client(app, "clerk1").get("/").get_data(as_text=True)
    states = re.search(r'<select name="state">(.*?)</select>', html, re.S)
    assert states
    assert re.findall(r">([^<]+)</option>", states.group(1)) == ["全部", "识别中", "已识别",
                                                                 "识别失败"]
    for pipeline_word in ("已存档", "已入库"):
        assert pipeline_word not in html


def test_the_case_list_has_a_text_filter(app: Flask, office: Office) -> None:
    clerk = client(app, "clerk1")
    for query, expected in (("韩秋菊", {"land"}), ("电梯", {"lift"}), ("城关镇", {"wage", "lift"}),
                            ("韩秋菊 电梯", set()), ("XF-", {"land", "wage", "lift"})):
        html = clerk.get("/cases/", query_string={"q": query, "status": ""}).get_data(
            as_text=True)
        shown = {key for key, case_id in office.cases.items()
                 if f'href="/cases/{case_id}"' in html}
        assert shown == expected, query


def _sheet(response: object) -> list[tuple[object, ...]]:
    assert response.status_code == 200, response.status_code  # type: ignore[attr-defined]
    assert response.mimetype.endswith("spreadsheetml.sheet")  # type: ignore[attr-defined]
    book = load_workbook(io.BytesIO(response.data))  # type: ignore[attr-defined]
    return list(book.active.iter_rows(values_only=True))


def test_the_case_list_exports_to_excel_as_filtered_and_scoped(app: Flask,
                                                               office: Office) -> None:
    rows = _sheet(client(app, "clerk1").get("/cases/export.xlsx", query_string={"status": ""}))
    assert str(rows[0][0]).startswith("信访事项") and rows[1][0] == "事项编号"
    assert len(rows) - 2 == len(office.cases)
    only = _sheet(client(app, "clerk1").get("/cases/export.xlsx",
                                            query_string={"status": "", "q": "电梯"}))
    assert len(only) - 2 == 1 and only[2][5] == "王建军"  # the lead by display name
    handler = _sheet(client(app, "handler1").get("/cases/export.xlsx",
                                                 query_string={"status": ""}))
    assert {r[4] for r in handler[2:]} == {HANDLER_UNIT}  # a handler's own unit only


def test_the_register_exports_to_excel_without_id_numbers(app: Flask, office: Office) -> None:
    rows = _sheet(client(app, "clerk1").get("/register.xlsx"))
    assert rows[1][:3] == ("登记编号", "收信日期", "信访人")
    assert len(rows) - 2 == len(office.letters)
    assert not any(re.search(r"\d{17}[\dX]", str(v)) for r in rows for v in r)
    filtered = _sheet(client(app, "clerk1").get("/register.xlsx",
                                                query_string={"township": "石桥镇"}))
    assert {r[3] for r in filtered[2:]} == {"石桥镇"}


def test_the_statistics_export_to_excel(app: Flask) -> None:
    rows = _sheet(client(app, "leader1").get("/dashboard/export.xlsx"))
    assert str(rows[0][0]).startswith("信访工作统计") and rows[1][:3] == ("分组", "名称",
                                                                       "事项（件）")
    assert {r[0] for r in rows[2:]} == {"按乡镇", "按承办单位"}


def test_lists_offer_export_print_and_saved_filters(app: Flask) -> None:
    clerk = client(app, "clerk1")
    # saved filters are each user's own (kept on the server): not in the dashboard's body,
    # which is kept once for every user of a scope
    for path, export, saved in (("/", "/register.xlsx", True),
                                ("/cases/", "/cases/export.xlsx", True),
                                ("/dashboard/", "/dashboard/export.xlsx", False)):
        html = clerk.get(path).get_data(as_text=True)
        assert export in html and "data-print" in html, path
        assert ("data-saved-filters" in html) is saved, path
    static = Path(__file__).resolve().parents[4] / "web/app/static"
    css = (static / "huiyin.css").read_text()
    assert "@media print" in css and "max-width: 70rem" not in css


def test_handlers_record_notes_and_attach_files_scoped_and_audited(app: Flask,
                                                                   office: Office) -> None:
    from records import AuditEvent
    from tests.web.signin import csrf_token

    handler = client(app, "handler1")
    land, wage = office.cases["land"], office.cases["wage"]  # own unit's, another unit's
    token = csrf_token(handler, f"/cases/{land}")
    photo = b"\xff\xd8\xff\xe0" + b"survey photo" * 100
    posted = handler.post(f"/cases/{land}/notes", data={
        "csrf_token": token, "text": "已到现场核实，补偿款尚欠两万八千元",
        "file": (io.BytesIO(photo), "现场照片.jpg")}, content_type="multipart/form-data")
    assert posted.status_code == 303
    page = handler.get(f"/cases/{land}").get_data(as_text=True)
    assert "已到现场核实" in page and "现场照片.jpg" in page and "赵刚" in page
    link = re.search(rf'href="(/cases/{land}/attachments/\d+)"', page)
    assert link
    download = handler.get(link.group(1))
    assert download.status_code == 200 and download.data == photo
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()
    # scoped like the case: not on another unit's case, not for a stranger to the case
    other = handler.post(f"/cases/{wage}/notes", data={"csrf_token": token, "text": "x"})
    assert other.status_code == 404
    refused = handler.post(f"/cases/{land}/notes", data={
        "csrf_token": token, "file": (io.BytesIO(b"<script>"), "page.html")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "附件只能是" in refused.get_data(as_text=True)
    with Instance(office.home) as instance, instance.db.session() as session:
        actions = [e.action for e in session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "case", AuditEvent.entity_id == land,
                                     AuditEvent.actor == "handler1"))]
    assert {"case-note", "case-attachment", "download"} <= set(actions)
    timeline = text_of(page)[text_of(page).index("办理记录"):]
    assert "办理情况记录" in timeline and "上传附件" in timeline


def test_until_public_url_and_phone_are_set_the_admin_is_warned_and_nothing_goes_out(
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    """The QR code encoded http://localhost:5000 and every reply said 0000-0000000."""
    from records import RecordsError
    from web.services.replies import generate_reply, verify_url

    monkeypatch.delenv("HUIYIN_DEMO", raising=False)
    unset = create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})
    try:
        html = client(unset, "admin1").get("/admin/").get_data(as_text=True)
        assert "需要设置" in html and "public_url" in html and "office_phone" in html
    finally:
        unset.extensions["huiyin"].close()
    with Instance(office.home, {"public_url": "http://localhost:5000"}) as instance:
        with pytest.raises(RecordsError, match="群众的手机打不开"):
            verify_url(instance, 1)
        with pytest.raises(RecordsError, match="联系电话"):
            generate_reply(instance, office.letters["han1"], "acknowledgement", out_dir=None,
                           actor="clerk1", pdf=False)
    ready = {"public_url": "https://xf.qinghe.gov.cn", "office_phone": "0371-1234567"}
    with Instance(office.home, ready) as instance:
        assert verify_url(instance, 1).startswith("https://xf.qinghe.gov.cn/verify/1-")


def test_holidays_not_yet_announced_are_marked_as_an_estimate(app: Flask) -> None:
    """The 2027 holidays were labelled 国家规定 though the State Council had not announced them."""
    admin = client(app, "admin1")
    estimate = admin.get("/admin/holidays?year=2027").get_data(as_text=True)
    assert "<td>国家规定</td>" not in estimate
    assert "按法定节日推算（待国务院通知）" in estimate or "2027 年没有节假日记录" in estimate
    announced = admin.get("/admin/holidays?year=2026").get_data(as_text=True)
    assert "<td>国家规定</td>" in announced and "按法定节日推算" not in announced
