"""Separation of duties: an admin cannot make a letter reader alone (a leader confirms, and both
steps are in the audit log), and a drafter cannot change who issues a reply."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import AuditEvent, Reply, User
from tests.security.office import Office
from tests.web.signin import PASSWORD, csrf_token, sign_in
from web.services.replies import generate_reply

NEW_PASSWORD = "a-fresh-password-77"


def _user_id(app: Flask, username: str) -> int:
    with app.extensions["huiyin"].db.session() as session:
        return int(session.scalars(select(User.id).where(User.username == username)).one())


def _actions(app: Flask, user_id: int) -> list[tuple[str, str]]:
    with app.extensions["huiyin"].db.session() as session:
        return [(e.actor, e.action) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "user", AuditEvent.entity_id == user_id)
            .order_by(AuditEvent.id))]


def _can_sign_in(app: Flask, username: str, password: str) -> bool:
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": password,
                                         "csrf_token": csrf_token(client)})
    return answer.status_code == 302


def test_an_admin_made_clerk_reads_nothing_until_a_leader_confirms(
        app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    admin = signed_in("admin1")
    answer = admin.post("/admin/users", data={
        "username": "newclerk", "display_name": "新登记员", "role": "clerk", "unit_id": "",
        "password": NEW_PASSWORD, "csrf_token": csrf_token(admin, "/admin/users")})
    assert answer.status_code == 302
    assert not _can_sign_in(app, "newclerk", NEW_PASSWORD)
    user_id = _user_id(app, "newclerk")
    confirm = f"/admin/users/{user_id}/confirm"
    assert admin.post(confirm, data={"csrf_token": csrf_token(admin, "/admin/users")}) \
        .status_code == 403  # the admin cannot confirm its own grant
    leader = signed_in("leader1")
    assert "newclerk" in leader.get("/admin/pending").get_data(as_text=True)
    assert leader.post(confirm, data={"csrf_token": csrf_token(leader, "/admin/pending")}) \
        .status_code == 302
    assert _can_sign_in(app, "newclerk", NEW_PASSWORD)
    assert _actions(app, user_id) == [("admin1", "add-user"), ("admin1", "request-role"),
                                      ("admin1", "refused"), ("leader1", "confirm-role"),
                                      ("newclerk", "login")]


def test_an_admin_cannot_promote_an_admin_into_a_reader_alone(
        app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    admin = signed_in("admin1")
    token = csrf_token(admin, "/admin/users")
    assert admin.post("/admin/users", data={
        "username": "admin2", "display_name": "二号管理员", "role": "admin", "unit_id": "",
        "password": NEW_PASSWORD, "csrf_token": token}).status_code == 302
    assert _can_sign_in(app, "admin2", NEW_PASSWORD)  # keeping the system needs no leader
    user_id = _user_id(app, "admin2")
    assert admin.post(f"/admin/users/{user_id}", data={
        "role": "leader", "unit_id": "", "csrf_token": token}).status_code == 302
    assert not _can_sign_in(app, "admin2", NEW_PASSWORD)
    assert ("admin1", "request-role") in _actions(app, user_id)


def test_the_issuer_of_a_reply_is_not_the_drafters_to_change(app: Flask,
                                                             office: Office) -> None:
    instance = app.extensions["huiyin"]
    clerk = sign_in(app.test_client(), "clerk1", PASSWORD)
    form = clerk.get(f"/replies/new/{office.letters['written']}").get_data(as_text=True)
    for name in ("office_name", "doc_number", "issue_date"):
        assert not re.search(rf'name="{name}"', form), name
    outcome = generate_reply(instance, office.letters["written"], "acknowledgement",
                             out_dir=None, actor="clerk1", pdf=False, data={
                                 "office_name": "邻县信访局", "doc_number": "假〔2020〕1号",
                                 "issue_date": "2020-01-01", "summary": "征地补偿"})
    with instance.db.session() as session:
        reply = session.get(Reply, outcome.reply_id)
        assert reply is not None
        data = dict(reply.data)
        doc_number = reply.doc_number
    assert data["office_name"] == instance.settings["office_name"]
    assert data["issue_date"] == instance.today().isoformat()
    assert data["doc_number"] == doc_number and "假" not in doc_number
    assert data["summary"] == "征地补偿"  # the drafter's own fields are kept
