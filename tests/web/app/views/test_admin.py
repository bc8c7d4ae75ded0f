"""系统管理 through the real app: who may enter, users and sessions, tables, files, signing."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

import docx
import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

import letters
from records import AuditEvent, Case, Category, Place, Unit, User, cases, routing
from tests.web.signin import PASSWORD, add_users, csrf_token, sign_in
from web.app import create_app
from web.services import admin as admin_service
from web.services import gazetteer
from web.services.instance import Instance

PAGES = ["/admin/", "/admin/users", "/admin/units", "/admin/places", "/admin/routes",
         "/admin/templates", "/admin/holidays", "/admin/signing", "/admin/signing/seal.png",
         "/admin/templates/acknowledgement.docx"]
NEW_PASSWORD = "another-pass-77"


@pytest.fixture
def app(instance: Instance, home: Path) -> Flask:
    add_users(home)
    return create_app({"HUIYIN_HOME": str(home), "TESTING": True})


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return sign_in(app.test_client(), "admin1")


def post(client: FlaskClient, path: str,
         data: Mapping[str, object] | None = None) -> TestResponse:
    """A form POST with the page's CSRF token, as the browser sends it."""
    form = {"csrf_token": csrf_token(client, "/admin/users"), **(data or {})}
    # Encoded in memory: the test client's own encoder spools big bodies to a file it never closes.
    boundary, body = encode_multipart(
        {k: FileStorage(v[0], filename=v[1]) if isinstance(v, tuple) else str(v)
         for k, v in form.items()})
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _text(response: TestResponse) -> str:
    return str(response.get_data(as_text=True))


def _user(home: Path, username: str) -> User:
    with Instance(home) as inst, inst.db.session() as s:
        found = s.scalars(select(User).where(User.username == username)).one()
        s.expunge(found)
        return found


def _actions(home: Path) -> list[str]:
    with Instance(home) as inst, inst.db.session() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# ---------------------------------------------------------------- who may enter

@pytest.mark.parametrize("username", ["clerk1", "handler1", "leader1"])
def test_only_the_admin_reaches_the_admin_pages(app: Flask, username: str) -> None:
    client = sign_in(app.test_client(), username)
    for page in PAGES:
        assert client.get(page).status_code == 403, page
    assert post(client, "/admin/users", {"username": "x"}).status_code == 403


def test_a_stranger_is_sent_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302 and "/login" in response.headers["Location"], page


def test_the_admin_sees_every_page(admin: FlaskClient) -> None:
    for page in PAGES:
        assert admin.get(page).status_code == 200, page


# ---------------------------------------------------------------- users and their sessions

def test_an_added_user_can_sign_in_and_the_change_is_audited(app: Flask, admin: FlaskClient,
                                                              home: Path) -> None:
    with Instance(home) as inst, inst.db.session() as s:
        unit_id = s.scalars(select(Unit.id)).first()
    response = post(admin, "/admin/users", {"username": "wangjj", "display_name": "王建军",
                                            "role": "handler", "unit_id": unit_id,
                                            "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert "已添加用户 wangjj" in _text(admin.get("/admin/users"))
    added = _user(home, "wangjj")
    assert added.role_pending  # a letter reader: a leader confirms first (separation of duties)
    leader = sign_in(app.test_client(), "leader1")
    assert leader.post(f"/admin/users/{added.id}/confirm", data={
        "csrf_token": csrf_token(leader, "/admin/pending")}).status_code == 302
    sign_in(app.test_client(), "wangjj", NEW_PASSWORD)
    added = _user(home, "wangjj")
    assert (added.role, added.unit_id, added.display_name) == ("handler", unit_id, "王建军")
    assert {"add-user", "request-role", "confirm-role"} <= set(_actions(home))


@pytest.mark.parametrize(("form", "message"), [
    ({"username": "h2", "role": "handler", "password": NEW_PASSWORD}, "承办人必须属于一个承办单位"),
    ({"username": "c2", "role": "clerk", "password": "short"}, "初始密码不合格"),
    ({"username": "c3", "role": "clerk", "password": "c3c3c3c3c3c3-x"}, "不能包含用户名"),
    ({"username": "clerk1", "role": "clerk", "password": NEW_PASSWORD}, "已存在"),
    ({"username": "a b", "role": "clerk", "password": NEW_PASSWORD}, "不能含空格"),
    ({"username": "c4", "role": "boss", "password": NEW_PASSWORD}, "角色必须是"),
])
def test_a_bad_user_is_refused_with_the_reason(admin: FlaskClient, form: dict[str, str],
                                               message: str) -> None:
    response = post(admin, "/admin/users", form)
    assert response.status_code == 400
    assert message in _text(response)


def test_disabling_a_user_ends_their_open_session(app: Flask, admin: FlaskClient,
                                                  home: Path) -> None:
    clerk = sign_in(app.test_client(), "clerk1")
    assert clerk.get("/").status_code in (200, 302)
    assert clerk.get("/dashboard/").status_code == 200
    clerk_id = _user(home, "clerk1").id
    assert post(admin, f"/admin/users/{clerk_id}/active", {"active": "0"}).status_code == 302
    after = clerk.get("/dashboard/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    stranger = app.test_client()
    refused = stranger.post("/login", data={
        "username": "clerk1", "password": PASSWORD, "csrf_token": csrf_token(stranger)})
    assert refused.status_code == 401
    assert post(admin, f"/admin/users/{clerk_id}/active", {"active": "1"}).status_code == 302
    sign_in(app.test_client(), "clerk1")
    assert {"disable-user", "enable-user"} <= set(_actions(home))


@pytest.mark.parametrize("change", ["role", "password"])
def test_changing_role_or_password_ends_the_users_sessions(app: Flask, admin: FlaskClient,
                                                          home: Path, change: str) -> None:
    leader = sign_in(app.test_client(), "leader1")
    assert leader.get("/dashboard/").status_code == 200
    leader_id = _user(home, "leader1").id
    if change == "role":
        response = post(admin, f"/admin/users/{leader_id}", {"role": "clerk", "unit_id": ""})
    else:
        response = post(admin, f"/admin/users/{leader_id}/password", {"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert leader.get("/dashboard/").status_code == 302  # the old session is gone
    if change == "role":  # a letter-reading role set by the admin: a leader confirms it
        with Instance(home) as inst, inst.db.session() as s:
            admin_service.confirm_role(s, leader_id, actor="leader2", actor_role="leader")
    sign_in(app.test_client(), "leader1", PASSWORD if change == "role" else NEW_PASSWORD)
    assert ("change-user" if change == "role" else "reset-password") in _actions(home)


def test_an_admin_cannot_disable_or_demote_themselves(admin: FlaskClient, home: Path) -> None:
    me = _user(home, "admin1").id
    refused = post(admin, f"/admin/users/{me}/active", {"active": "0"})
    assert refused.status_code == 400 and "不能停用自己" in _text(refused)
    demoted = post(admin, f"/admin/users/{me}", {"role": "leader", "unit_id": ""})
    assert demoted.status_code == 400 and "不能取消自己的管理员角色" in _text(demoted)
    still = _user(home, "admin1")
    assert still.active and still.role == "admin"
    assert admin.get("/admin/users").status_code == 200


# ---------------------------------------------------------------- units

def test_units_form_a_tree_and_can_be_renamed(admin: FlaskClient, home: Path) -> None:
    assert post(admin, "/admin/units", {"name": "石桥镇人民政府", "level": "township",
                                        "parent_id": ""}).status_code == 302
    with Instance(home) as inst, inst.db.session() as s:
        town = s.scalars(select(Unit).where(Unit.name == "石桥镇人民政府")).one().id
    assert post(admin, "/admin/units", {"name": "枣树营村委会", "level": "village",
                                        "parent_id": town}).status_code == 302
    upward = post(admin, "/admin/units", {"name": "县某局", "level": "county", "parent_id": town})
    assert upward.status_code == 400 and "下级单位的层级不高于上级" in _text(upward)
    page = _text(admin.get("/admin/units"))
    assert page.index("石桥镇人民政府") < page.index("枣树营村委会")
    assert post(admin, f"/admin/units/{town}", {"name": "石桥镇政府"}).status_code == 302
    with Instance(home) as inst, inst.db.session() as s:
        assert s.get(Unit, town).name == "石桥镇政府"  # type: ignore[union-attr]
    assert "rename-unit" in _actions(home)


# ---------------------------------------------------------------- gazetteer and categories

def test_csv_import_adds_good_rows_and_names_the_bad_ones(admin: FlaskClient,
                                                          app: Flask) -> None:
    csv_text = ("township,village\n石桥镇,枣树营村\n石桥镇,王庄村\n,孤村\n"
                "城关镇,南关社区,多余\n城关镇\n石桥镇,枣树营村\n")
    response = post(admin, "/admin/places/import",
                    {"file": (io.BytesIO(csv_text.encode("gb18030")), "places.csv")})
    page = _text(response)
    assert response.status_code == 200
    assert "新增 3 条" in page and "已存在 1 条" in page
    assert "第 4 行" in page and "缺少乡镇名称" in page
    assert "第 5 行" in page and "应为两列" in page
    found = gazetteer.gazetteer(app.extensions["huiyin"])
    assert set(found.townships) == {"石桥镇", "城关镇"}
    assert set(found.villages) == {"枣树营村", "王庄村"}
    not_csv = post(admin, "/admin/places/import", {"file": (io.BytesIO(b"x"), "places.xlsx")})
    assert not_csv.status_code == 400 and "CSV" in _text(not_csv)


def test_places_are_added_and_removed(admin: FlaskClient, home: Path) -> None:
    added = post(admin, "/admin/places", {"township": "河口乡", "village": "李村"})
    assert added.status_code == 302
    with Instance(home) as inst, inst.db.session() as s:
        rows = {(p.township, p.village): p.id for p in s.scalars(select(Place))}
    assert set(rows) == {("河口乡", ""), ("河口乡", "李村")}
    assert post(admin, f"/admin/places/{rows[('河口乡', '')]}/remove").status_code == 302
    with Instance(home) as inst, inst.db.session() as s:
        assert s.scalars(select(Place)).all() == []


def test_a_deactivated_category_is_no_longer_offered(admin: FlaskClient, app: Flask,
                                                    home: Path) -> None:
    for name in ("土地征收", "劳动保障"):
        assert post(admin, "/admin/categories", {"name": name}).status_code == 302
    again = post(admin, "/admin/categories", {"name": "土地征收"})
    assert again.status_code == 400 and "已存在" in _text(again)
    inst = app.extensions["huiyin"]
    assert gazetteer.categories(inst) == ["土地征收", "劳动保障"]
    with Instance(home) as other, other.db.session() as s:
        land = s.scalars(select(Category).where(Category.name == "土地征收")).one().id
    assert post(admin, f"/admin/categories/{land}/active", {"active": "0"}).status_code == 302
    assert gazetteer.categories(inst) == ["劳动保障"]
    assert post(admin, f"/admin/categories/{land}/active", {"active": "1"}).status_code == 302
    assert gazetteer.categories(inst) == ["土地征收", "劳动保障"]
    assert "deactivate-category" in _actions(home)


# ---------------------------------------------------------------- routing

def test_routes_are_set_listed_and_removed(admin: FlaskClient, home: Path) -> None:
    with Instance(home) as inst, inst.db.session() as s:
        unit = s.scalars(select(Unit)).first()
        leader = s.scalars(select(User).where(User.username == "leader1")).one()
        unit_id, unit_name, leader_id = unit.id, unit.name, leader.id  # type: ignore[union-attr]
    assert post(admin, "/admin/routes", {"township": "石桥镇", "category": "土地征收",
                                         "unit_id": unit_id, "lead_id": leader_id}
                ).status_code == 302
    assert post(admin, "/admin/routes", {"township": "", "category": "",
                                         "unit_id": unit_id}).status_code == 302
    page = _text(admin.get("/admin/routes"))
    assert "石桥镇" in page and "（任何乡镇）" in page and unit_name in page
    clerk_id = _user(home, "clerk1").id
    bad = post(admin, "/admin/routes", {"township": "", "category": "", "unit_id": unit_id,
                                        "lead_id": clerk_id})
    assert bad.status_code == 400 and "不是在用的领导账号" in _text(bad)
    with Instance(home) as inst, inst.db.session() as s:
        route = routing.route_for(s, "石桥镇", "土地征收")
        assert route is not None and route.lead_id == leader_id
        route_id = route.id
    assert post(admin, f"/admin/routes/{route_id}/remove").status_code == 302
    with Instance(home) as inst, inst.db.session() as s:
        fallback = routing.route_for(s, "石桥镇", "土地征收")
        assert fallback is not None and fallback.township == ""


# ---------------------------------------------------------------- templates

def _edited_template(tmp_path: Path, extra: str = "本单位补充说明。") -> bytes:
    path = tmp_path / "acknowledgement.docx"
    document = docx.Document(str(Path(letters.__file__).parent / "templates" /
                                 "acknowledgement.docx"))
    document.add_paragraph(extra)
    document.save(str(path))
    return path.read_bytes()


def test_a_new_template_version_is_checked_stored_and_served(admin: FlaskClient, home: Path,
                                                             tmp_path: Path) -> None:
    data = _edited_template(tmp_path)
    response = post(admin, "/admin/templates/acknowledgement",
                    {"file": (io.BytesIO(data), "受理告知书.docx")})
    assert response.status_code == 302
    assert admin.get("/admin/templates/acknowledgement.docx").data == data
    folder = home / "templates"
    assert letters.template_version("acknowledgement", folder).startswith("office:")
    assert len(list((folder / "versions" / "acknowledgement").glob("*.docx"))) == 1
    second = _edited_template(tmp_path, "第二版。")
    assert post(admin, "/admin/templates/acknowledgement",
                {"file": (io.BytesIO(second), "v2.docx")}).status_code == 302
    assert len(list((folder / "versions" / "acknowledgement").glob("*.docx"))) == 2
    page = _text(admin.get("/admin/templates"))
    assert "本单位版本" in page and "上传过 2 个版本" in page
    same = post(admin, "/admin/templates/acknowledgement", {"file": (io.BytesIO(second), "v.docx")})
    assert same.status_code == 400 and "完全相同" in _text(same)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("notes.txt", b"{{ petitioner_name }}", "必须是 Word 文档"),
    ("fake.docx", b"this is plain text renamed", "不是有效的 Word 文档"),
    ("empty.docx", b"", "上传的文件是空的"),
])
def test_a_file_that_is_not_a_word_template_is_refused(admin: FlaskClient, home: Path,
                                                        name: str, content: bytes,
                                                        message: str) -> None:
    response = post(admin, "/admin/templates/acknowledgement",
                    {"file": (io.BytesIO(content), name)})
    assert response.status_code == 400
    assert message in _text(response)
    assert not (home / "templates" / "acknowledgement.docx").exists()


def test_a_template_with_fields_the_records_cannot_fill_is_refused(admin: FlaskClient,
                                                                    tmp_path: Path) -> None:
    data = _edited_template(tmp_path, "{{ bribe_amount }}")
    response = post(admin, "/admin/templates/acknowledgement",
                    {"file": (io.BytesIO(data), "a.docx")})
    assert response.status_code == 400 and "bribe_amount" in _text(response)
    broken = _edited_template(tmp_path, "{% if %}")
    response = post(admin, "/admin/templates/acknowledgement",
                    {"file": (io.BytesIO(broken), "b.docx")})
    assert response.status_code == 400 and "模板无法使用" in _text(response)


# ---------------------------------------------------------------- holidays

def test_an_office_day_off_moves_a_deadline(admin: FlaskClient, app: Flask, home: Path) -> None:
    # Received Monday 2 March 2026: 15 days later is Tuesday 17 March, a working day.
    case = Case(case_no="XF-T", status="registered", opened_on=dt.date(2026, 3, 2))
    before = cases.deadline(case, Instance(home).calendar)
    assert before is not None and before.due == dt.date(2026, 3, 17)
    response = post(admin, "/admin/holidays", {"date": "2026-03-17", "kind": "holiday",
                                               "name": "县庆", "year": "2026"})
    assert response.status_code == 302
    for calendar in (Instance(home).calendar, app.extensions["huiyin"].calendar):
        after = cases.deadline(case, calendar)
        assert after is not None and after.due == dt.date(2026, 3, 18)
    page = _text(admin.get("/admin/holidays?year=2026"))
    assert "2026-03-17" in page and "县庆" in page and "本单位" in page
    assert post(admin, "/admin/holidays/remove", {"date": "2026-03-17"}).status_code == 302
    assert cases.deadline(case, Instance(home).calendar).due == dt.date(2026, 3, 17)  # type: ignore[union-attr]
    assert {"add-office-day", "remove-office-day"} <= set(_actions(home))


@pytest.mark.parametrize(("form", "message"), [
    ({"date": "2026/03/17", "kind": "holiday"}, "日期格式应为 YYYY-MM-DD"),
    ({"date": "2026-03-21", "kind": "holiday"}, "本来就不上班"),  # a Saturday
    ({"date": "2026-03-17", "kind": "workday"}, "本来就是工作日"),
    ({"date": "2026-03-17", "kind": "vacation"}, "类型必须是"),
])
def test_a_bad_office_day_is_refused(admin: FlaskClient, form: dict[str, str],
                                     message: str) -> None:
    response = post(admin, "/admin/holidays", form)
    assert response.status_code == 400 and message in _text(response)


def test_the_same_office_day_twice_is_refused(admin: FlaskClient) -> None:
    form = {"date": "2026-03-21", "kind": "workday", "name": "补班"}
    assert post(admin, "/admin/holidays", form).status_code == 302
    again = post(admin, "/admin/holidays", {**form, "kind": "holiday"})
    assert again.status_code == 400 and "已在本单位节假日表中" in _text(again)


# ---------------------------------------------------------------- certificate and seal

def _image(fmt: str, size: tuple[int, int], mode: str = "RGB", noise: bool = False) -> bytes:
    image = Image.new(mode, size, "white" if mode == "RGB" else (0, 0, 0, 0))
    if noise:
        image = Image.frombytes(mode, size, random.Random(7).randbytes(
            size[0] * size[1] * len(mode)))  # noise does not compress: a big file
    image.paste((220, 0, 20) if mode == "RGB" else (220, 0, 20, 255),
                (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_a_scanned_seal_replaces_the_drawn_one(admin: FlaskClient, home: Path) -> None:
    drawn = admin.get("/admin/signing/seal.png").data
    response = post(admin, "/admin/signing/seal",
                    {"file": (io.BytesIO(_image("JPEG", (600, 600))), "seal.jpg")})
    assert response.status_code == 302
    stored = home / "signing" / "seal.png"
    with Image.open(stored) as seal:
        alpha = seal.getchannel("A")
        assert seal.mode == "RGBA" and alpha.getpixel((5, 5)) == 0  # the white paper is gone
        assert cast(int, alpha.getpixel((seal.width // 2, seal.height // 2))) > 200  # ink stays
    assert admin.get("/admin/signing/seal.png").data != drawn
    assert "使用上传的印章" in _text(admin.get("/admin/signing"))
    assert post(admin, "/admin/signing/seal/remove").status_code == 302
    assert not stored.exists() and list((home / "signing" / "retired").glob("*-seal.png"))
    assert {"upload-seal", "remove-seal"} <= set(_actions(home))


@pytest.mark.parametrize(("image", "name", "message"), [
    (lambda: _image("PNG", (1500, 1500), "RGBA", noise=True), "big.png", "印章图片过大"),
    (lambda: _image("PNG", (600, 600)), "flat.png", "PNG 印章须为透明背景"),
    (lambda: _image("PNG", (100, 100), "RGBA"), "tiny.png", "像素"),
    (lambda: _image("GIF", (600, 600)), "seal.gif", "PNG（透明背景）或 JPEG"),
    (lambda: b"not an image at all", "seal.jpg", "无法读取这张图片"),
])
def test_a_bad_seal_is_refused_clearly(admin: FlaskClient, home: Path,
                                       image: Callable[[], bytes], name: str,
                                       message: str) -> None:
    response = post(admin, "/admin/signing/seal", {"file": (io.BytesIO(image()), name)})
    assert response.status_code == 400
    assert message in _text(response)
    assert not (home / "signing" / "seal.png").exists()


def test_the_certificate_is_shown_and_a_ca_one_imported(admin: FlaskClient, home: Path,
                                                        tmp_path: Path) -> None:
    page = _text(admin.get("/admin/signing"))
    assert "自签名证书" in page and "SHA-256 指纹" in page
    p12 = letters.make_certificate(tmp_path / "ca.p12", b"s3cret", "清河县信访局电子印章")
    wrong = post(admin, "/admin/signing/certificate",
                 {"file": (io.BytesIO(p12.read_bytes()), "ca.p12"), "passphrase": "nope"})
    assert wrong.status_code == 400 and "口令不正确" in _text(wrong)
    done = post(admin, "/admin/signing/certificate",
                {"file": (io.BytesIO(p12.read_bytes()), "ca.p12"), "passphrase": "s3cret"})
    assert done.status_code == 302
    page = _text(admin.get("/admin/signing"))
    assert "清河县信访局电子印章" in page and "1 个" in page
    assert "import-certificate" in _actions(home)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")
def test_a_signed_reply_carries_the_uploaded_seal_and_verifies(admin: FlaskClient, app: Flask,
                                                               home: Path) -> None:
    from web.services.registration import register_written
    from web.services.replies import generate_reply, verify_document
    from web.services.sign_confirmation import Confirmation

    seal = io.BytesIO()
    Image.new("RGB", (600, 600), (220, 0, 20)).save(seal, format="JPEG")  # a 40 mm red square
    assert post(admin, "/admin/signing/seal", {"file": (io.BytesIO(seal.getvalue()), "s.jpg")}
                ).status_code == 302
    inst = app.extensions["huiyin"]
    letter_id = register_written(inst, channel="visit", text="反映村道损坏。", name="韩秋菊",
                                 phone=None, id_number=None, township="", actor="test",
                                 received_on=dt.date(2026, 3, 2))
    outcome = generate_reply(inst, letter_id, "acknowledgement", out_dir=home / "out",
                             actor="leader1", sign=True, confirmation=Confirmation(
                                 confirmed=True, password_at=dt.datetime.now(dt.UTC)))
    signed = Path(str(outcome.files["signed_pdf"]))
    assert verify_document(inst, signed.read_bytes())["valid"] is True
    # 40 × 40 mm of red is ~6,200 pixels at 50 dpi; a page with the drawn seal has ~2,800.
    assert _red_pixels(signed) > 5000


def _red_pixels(pdf: Path) -> int:
    """Red pixels on the last page at 50 dpi, the seal's ink (poppler draws the stamp)."""
    stem = pdf.with_name("page")
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-singlefile", str(pdf), str(stem)],
                   check=True, capture_output=True)
    with Image.open(stem.with_suffix(".png")) as page:
        rgb = np.asarray(page.convert("RGB")).astype(int)
    return int(((rgb[..., 0] > 170) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)).sum())


def test_the_admin_sees_wrong_query_codes_per_masked_address(app: Flask, admin: FlaskClient,
                                                             instance: Instance) -> None:
    """The public page's wrong codes were not listed anywhere: guessing went unseen."""
    from web.services.public_query import QueryRefused, look_up

    guess = "K7QM-3XZ9-PT2D"
    for _ in range(3):
        with pytest.raises(QueryRefused):
            look_up(instance, guess, "203.0.113.7")
    page = admin.get("/admin/query-tries")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    row = re.search(r"<td data-raw>203\.0\.113\.\*</td>\s*<td>(\d+)</td>\s*<td>(\d+)</td>", text)
    assert row is not None and row.groups() == ("3", "0")
    assert "203.0.113.7" not in text and guess not in text and "K7QM" not in text
    assert sign_in(app.test_client(), "leader1").get("/admin/query-tries").status_code == 403
