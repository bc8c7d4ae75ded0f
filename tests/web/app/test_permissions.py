"""The permission matrix: every route x every role (and a stranger) gets exactly what it should.

The expectations are written out here by hand, route by route, from DESIGN.md's roles — not
read from the code's capability table — so that a route that forgets its guard, or a guard
that names the wrong capability, fails this test. A new route fails it until it is added.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import Case, Category, Page, Place, Reply, Unit, User, cases, routing
from tests.web.conftest import draw
from tests.web.signin import HANDLER_UNIT, PASSWORD, add_users, sign_in
from web.app import create_app
from web.services.instance import Instance
from web.services.pipeline import ingest_file
from web.services.registration import register_written

ROLES = ("clerk", "handler", "leader", "admin")
READERS = {"clerk", "handler", "leader"}
EVERYONE = set(ROLES)
PUBLIC = "public"

# endpoint -> the roles that get through; PUBLIC: strangers too. Everyone else gets 403, a
# stranger the sign-in page (pages) or 401 (API).
EXPECTED: dict[str, set[str] | str] = {
    "auth.login": PUBLIC, "static": PUBLIC, "verify.by_code": PUBLIC, "verify.upload": PUBLIC,
    "api.token": PUBLIC, "api.openapi": PUBLIC, "api.docs": PUBLIC,
    "auth.logout": EVERYONE, "auth.password": EVERYONE,
    "letters.register": READERS, "letters.show": READERS, "letters.find": READERS,
    "letters.export": READERS, "cases.export": READERS, "replies.confirm_sign": {"leader"},
    "dashboard.export": EVERYONE, "cases.add_note": READERS, "cases.attachment": READERS,
    "letters.same_person": READERS, "letters.similar": READERS,
    "intake.index": {"clerk"}, "intake.upload": {"clerk"}, "intake.progress": {"clerk"},
    "review.queue": {"clerk"}, "review.letter": {"clerk"}, "review.edit_line": {"clerk"},
    "review.save": {"clerk"}, "review.page_image": READERS,
    "cases.index": READERS, "cases.show": READERS, "cases.act": READERS,
    "replies.index": READERS, "replies.new": READERS, "replies.preview": READERS,
    "replies.generate": READERS, "replies.show": READERS, "replies.page": READERS,
    "replies.deliver": READERS, "replies.download": READERS, "replies.sign": {"leader"},
    "replies.task": READERS,
    "dashboard.index": EVERYONE, "dashboard.rows": READERS,
    "api.me": EVERYONE, "api.letters": READERS, "api.letter": READERS,
    "api.search_letters": READERS, "api.case_list": READERS, "api.case": READERS,
    "api.upload": {"clerk"}, "api.intake_progress": {"clerk"}, "api.edit_line": {"clerk"},
    "api.review_letter": {"clerk"}, "api.generate": READERS, "api.reply": READERS,
    "api.reply_file": READERS, "api.sign": {"leader"}, "api.case_action": READERS,
    "api.dashboard_figures": EVERYONE, "api.rates": EVERYONE, "api.logout": EVERYONE,
    "admin.pending": {"leader"}, "admin.confirm_role": {"leader"},  # a leader confirms roles
    # registration of visits and calls, 领导接待日 (the office: clerk and leader); 重大紧急 list
    "channels.register": {"clerk", "leader"}, "channels.save": {"clerk", "leader"},
    "channels.reception_days": {"clerk", "leader"}, "channels.add_reception": {"clerk", "leader"},
    "channels.reception": {"clerk", "leader"}, "api.register_item": {"clerk", "leader"},
    "api.reception_list": {"clerk", "leader"}, "api.reception_add": {"clerk", "leader"},
    "api.reception_one": {"clerk", "leader"}, "urgent.index": READERS, "api.urgent_cases": READERS,
}
# §21 ¶2: the petitioner's query page is public; the office (clerk, leader) reads out and renews
# the code, never a handler (the unit) or the admin.
EXPECTED.update({"query.ask": PUBLIC, "query.evaluate": PUBLIC,
                 "cases.renew_query_code": {"clerk", "leader"},
                 "api.query_code": {"clerk", "leader"},
                 "api.renew_query_code": {"clerk", "leader"}})
# h-office: a reception day corrected / made joint (the office); saved filters (every role:
# each keeps its own); the query page's wrong codes (the admin, as the other security lists)
EXPECTED.update({"channels.edit_reception": {"clerk", "leader"},
                 "channels.assign_matter": {"clerk", "leader"},
                 "api.reception_edit": {"clerk", "leader"},
                 "api.reception_assign": {"clerk", "leader"},
                 "filters.save": EVERYONE, "filters.remove": EVERYONE, "api.filters": EVERYONE,
                 "api.filter_save": EVERYONE, "api.filter_remove": EVERYONE,
                 "api.query_tries": {"admin"}})
ADMIN_ONLY = "admin."  # every administration route is for the admin alone

# Values for the URL parameters: records made by the fixture (the handler's unit owns them).
PARAMETERS = {"letter_id": "1", "case_id": "1", "reply_id": "1", "number": "1", "line": "0",
              "task_id": "1", "unit_id": "1", "place_id": "1", "route_id": "1", "category_id": "1",
              "name": "acknowledgement", "kind": "pdf", "action": "accept", "code": "nothing",
              "filename": "huiyin.css", "note_id": "1", "reception_id": "1", "filter_id": "1"}


def _expected(endpoint: str) -> set[str] | str:
    if endpoint in EXPECTED:
        return EXPECTED[endpoint]
    if endpoint.startswith(ADMIN_ONLY):
        return {"admin"}
    assert endpoint in EXPECTED, f"{endpoint}: a new route — say in EXPECTED who may use it"
    return EXPECTED[endpoint]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    home = tmp_path_factory.mktemp("matrix") / "instance"
    with Instance(home) as instance:
        instance.create()
    add_users(home)
    with Instance(home) as instance:
        letter_id = register_written(
            instance, channel="visit", name="韩秋菊", phone="13839452176", id_number=None,
            township="石桥镇", received_on=instance.today(), actor="test",
            text="石桥镇枣树营村韩秋菊来访，反映征地补偿款没有发放。")
        with instance.db.session() as session:
            from records import intake

            letter = intake.get_letter(session, letter_id)
            case = cases.open_case(session, letter, actor="test")
            unit = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
            case.unit_id = unit.id
            session.add(Reply(letter_id=letter.id, case_id=case.id, template="acknowledgement",
                              created_by="test"))
            session.add_all([Place(township="石桥镇"), Category(name="征地拆迁")])
            routing.set_route(session, township="石桥镇", category="", unit=unit, lead=None,
                              actor="test")
            session.add(User(username="someone", role="clerk", display_name="someone"))
        scan = draw(home.parent, "卢振东", "15903967742", "城关镇南关社区",
                    "建筑公司拖欠农民工工资", fmt="png", seed=5)
        scanned = ingest_file(instance, scan, actor="test").letter_id
        with instance.db.session() as session:
            from records import intake

            letter = intake.get_letter(session, scanned)
            letter.case = session.scalars(select(Case)).one()  # the handler's unit's case
    return create_app({"HUIYIN_HOME": str(home), "TESTING": True})


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    """Every (endpoint, method, URL); a user route names a throwaway user, never a tester."""
    values = {**PARAMETERS, "user_id": _user_id(app, "someone")}
    found = []
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url))
    return sorted(found)


def _user_id(app: Flask, username: str) -> str:
    instance = app.extensions["huiyin"]
    with instance.db.session() as session:
        return str(session.scalars(select(User.id).where(User.username == username)).one())


def _call(client: FlaskClient, method: str, url: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if url.startswith("/api/"):
        with client.open(url, method=method, headers=headers, json={}) as response:
            return response.status_code
    form = {"csrf_token": _csrf(client)} if method != "GET" else None
    with client.open(url, method=method, data=form) as response:
        if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
            return 401
        return response.status_code


def _csrf(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "stranger"])
def test_every_route_for_every_role(app: Flask, role: str | None) -> None:
    client = app.test_client()
    token = None
    if role is not None:
        username = f"{role}1"
        sign_in(client, username)
        token = client.post("/api/v1/token", json={"username": username,
                                                   "password": PASSWORD}).get_json()["token"]
    wrong = []
    for endpoint, method, url in _routes(app):
        if endpoint in ("auth.logout", "api.logout"):
            continue  # would end this client's session or token: checked below
        allowed = _expected(endpoint)
        status = _call(client, method, url, token)
        if status >= 500:
            ok = False
        elif allowed == PUBLIC:
            ok = status != 403  # the sign-in routes answer 401 to the empty credentials sent
        elif role is not None and role in allowed:
            ok = status not in (401, 403)
        elif role is None:
            ok = status == 401
        else:
            ok = status == 403
        if not ok:
            wrong.append(f"{method} {url} ({endpoint}) -> {status}")
    assert not wrong, f"{role or 'stranger'}:\n" + "\n".join(wrong)
    if role is not None:
        assert _call(client, "POST", "/api/v1/logout", token) == 200
        assert _call(client, "GET", "/api/v1/me", token) == 401
        client.post("/logout", data={"csrf_token": _csrf(client)})
        assert _call(client, "GET", "/dashboard/", None) == 401
    else:
        assert _call(client, "POST", "/api/v1/logout", None) == 401


IMAGE_MASKING = {"clerk": "0", "leader": "0", "handler": "1"}  # "1": ID and phone covered


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "stranger"])
def test_page_images_by_role_with_masking(app: Flask, role: str | None) -> None:
    """The scan's page image: the original for clerks and leaders, the numbers covered for a
    handler, refused to the admin and to strangers."""
    client = app.test_client()
    if role is not None:
        sign_in(client, f"{role}1")
    with app.extensions["huiyin"].db.session() as session:
        scanned = session.scalars(select(Page.letter_id)).one()
    with client.get(f"/review/letters/{scanned}/pages/1.png") as response:
        if role is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        elif role not in IMAGE_MASKING:
            assert response.status_code == 403
        else:
            assert response.status_code == 200 and response.mimetype == "image/png"
            assert response.headers["X-Page-Masked"] == IMAGE_MASKING[role]


def test_the_matrix_names_only_routes_that_exist(app: Flask) -> None:
    served = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(EXPECTED) <= served, set(EXPECTED) - served
