"""The JSON API: bearer tokens, the same scopes as the pages, and its OpenAPI description."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from records import Letter, cases, intake
from tests.web.signin import HANDLER_UNIT, PASSWORD, add_users, sign_in
from web.app import create_app
from web.services.indexing import index_letters
from web.services.instance import Instance


@pytest.fixture
def app(instance: Instance, home: Path) -> Flask:
    add_users(home)
    with instance.db.session() as session:
        for n, (text, unit) in enumerate((("石桥镇枣树营村征地补偿款没有发放", HANDLER_UNIT),
                                          ("城关镇小区电梯停运无人维修", None))):
            letter = intake.register_letter(
                session, sha256=f"{n:064d}", source_name=f"item-{n}", media_type="text/plain",
                size_bytes=0, received_on=instance.today(), actor="test")
            intake.record_text(session, letter, text, actor="test")
            intake.set_state(session, letter, "read")
            case = cases.open_case(session, letter, actor="test")
            if unit:
                from records import units
                case.unit_id = units.get_unit(session, unit).id
    with instance.db.session() as session:
        index_letters(instance, session.query(Letter).all())
    return create_app({"HUIYIN_HOME": str(home), "TESTING": True})


def _token(client: FlaskClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def test_token_then_the_same_scope_as_the_pages(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/api/v1/letters").status_code == 401
    clerk, handler = _token(client, "clerk1"), _token(client, "handler1")
    assert client.get("/api/v1/letters", headers=clerk).get_json()["total"] == 2
    assert client.get("/api/v1/letters", headers=handler).get_json()["total"] == 1
    found = client.get("/api/v1/search", query_string={"q": "电梯"}, headers=handler).get_json()
    assert found["hits"] == []
    found = client.get("/api/v1/search", query_string={"q": "电梯"}, headers=clerk).get_json()
    assert [h["letter_id"] for h in found["hits"]] == [2]
    assert client.get("/api/v1/letters/2", headers=handler).status_code == 404
    assert client.get("/api/v1/letters/1", headers=handler).get_json()["letter_id"] == 1
    admin = _token(client, "admin1")
    assert client.get("/api/v1/letters/1", headers=admin).status_code == 403
    assert client.get("/api/v1/me", headers=admin).get_json()["capabilities"] == [
        "admin", "dashboard"]


def test_case_actions_follow_role_version_and_workflow(app: Flask) -> None:
    client = app.test_client()
    clerk, handler = _token(client, "clerk1"), _token(client, "handler1")
    case = client.get("/api/v1/cases/1", headers=clerk).get_json()
    url = "/api/v1/cases/1/actions/accept"
    refused = client.post(url, json={"version": case["version"]}, headers=handler)
    assert refused.status_code == 403
    untold = client.post(url, json={"version": case["version"]}, headers=clerk)
    assert untold.status_code == 422 and "受理告知书" in untold.get_json()["error"]
    assert case["agenda"]["deadlines"][0]["article"] == "第二十二条、第二十三条第二款"
    done = client.post(url, json={"version": case["version"], "told": "当面告知"}, headers=clerk)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["version"] > case["version"]
    stale = client.post("/api/v1/cases/1/actions/flag", json={"version": case["version"]},
                        headers=clerk)
    assert stale.status_code == 409 and stale.get_json()["changes"]
    again = client.post(url, json={"version": done.get_json()["version"]}, headers=clerk)
    assert again.status_code == 422  # not a legal step from where the case is now
    assert client.post("/api/v1/cases/2/actions/accept", json={"version": 1},
                       headers=handler).status_code == 404
    events = client.get("/api/v1/cases/1", headers=clerk).get_json()["events"]
    assert any(e["detail"].get("step") == "accept" and e["actor"] == "clerk1" for e in events)
    figures = client.get("/api/v1/dashboard", headers=_token(client, "admin1")).get_json()
    assert figures["today"]
    rates = client.get("/api/v1/rates", headers=clerk).get_json()  # huiyin stats' service
    [whole] = rates["groups"].values()
    assert {r["key"]: r["source"] != "" for r in whole}["on_time"]


def test_a_session_cookie_does_not_open_the_api(app: Flask) -> None:
    client = sign_in(app.test_client(), "clerk1")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/letters").status_code == 401


def test_bad_tokens_and_bad_credentials(app: Flask) -> None:
    client = app.test_client()
    for header in ("Bearer nonsense", "Basic Y2xlcmsxOnRlc3Q=", "Bearer "):
        assert client.get("/api/v1/letters", headers={"Authorization": header}).status_code == 401
    wrong = client.post("/api/v1/token", json={"username": "clerk1", "password": "x"})
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "用户名或密码不正确"
    assert client.post("/api/v1/token", data="not json").status_code == 400
    hostile = client.get("/api/v1/search", query_string={"q": '"* OR ('},
                         headers=_token(client, "clerk1"))
    assert hostile.status_code in (200, 400)


def test_every_api_route_is_described(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    described = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in ("api.openapi", "api.docs"):
            path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == described
    assert "/api/v1/letters" in app.test_client().get("/api/v1/docs").get_data(as_text=True)


@pytest.mark.slow
def test_upload_read_correct_and_file_through_the_api(app: Flask, tmp_path: Path) -> None:
    from tests.web.conftest import draw
    from web.worker import Worker

    client = app.test_client()
    clerk = _token(client, "clerk1")
    scan = draw(tmp_path, "韩秋菊", "13839452176", "石桥镇枣树营村", "征地补偿款至今没有发放",
                fmt="jpg", seed=3)
    sent = client.post("/api/v1/letters?name=scan.jpg", data=scan.read_bytes(), headers=clerk)
    assert sent.status_code == 201, sent.get_json()
    letter_id = sent.get_json()["letter_id"]
    assert client.post("/api/v1/letters?name=x.jpg", data=b"", headers=clerk).status_code == 422
    Worker(app.extensions["huiyin"], "api-test").drain()
    progress = client.get(f"/api/v1/intake/progress?ids={letter_id}", headers=clerk).get_json()
    assert progress["letters"][0]["state"] == "indexed"

    letter = client.get(f"/api/v1/letters/{letter_id}", headers=clerk).get_json()
    version = letter["version"]
    line = f"/api/v1/letters/{letter_id}/pages/1/lines/0"
    edited = client.put(line, json={"text": "尊敬的县信访局领导同志：", "version": version},
                        headers=clerk)
    assert edited.status_code == 200, edited.get_json()
    stale = client.put(line, json={"text": "又一次", "version": version}, headers=clerk)
    assert stale.status_code == 409 and "current" in stale.get_json()
    fresh = client.get(f"/api/v1/letters/{letter_id}", headers=clerk).get_json()
    assert "领导同志" in fresh["text"] and fresh["version"] > version

    form = {"petitioners": [{"name": "韩秋菊", "phone": "13839452176"}], "township": "石桥镇",
            "village": "枣树营村", "category": "", "summary": "征地补偿款没有发放",
            "case": "new", "version": fresh["version"]}
    assert client.post(f"/api/v1/letters/{letter_id}/review", json={**form, "petitioners": "x"},
                       headers=clerk).status_code == 400
    filed = client.post(f"/api/v1/letters/{letter_id}/review", json=form, headers=clerk)
    assert filed.status_code == 200, filed.get_json()
    handler = _token(client, "handler1")
    assert client.put(line, json={"text": "x", "version": 1}, headers=handler).status_code == 403
    found = client.get("/api/v1/search", query_string={"q": "领导同志"}, headers=clerk).get_json()
    assert letter_id in [h["letter_id"] for h in found["hits"]]

    made = client.post(f"/api/v1/letters/{letter_id}/replies",
                       json={"template": "acknowledgement"}, headers=clerk)
    assert made.status_code == 201, made.get_json()
    reply = made.get_json()
    assert set(reply["files"]) == {"docx", "pdf"}
    assert client.post(f"/api/v1/replies/{reply['reply_id']}/sign",
                       headers=clerk).status_code == 403
    leader = _token(client, "leader1")
    signed = client.post(f"/api/v1/replies/{reply['reply_id']}/sign", json={"confirmed": True},
                         headers=leader)
    assert signed.status_code == 200 and signed.get_json()["signed_by"] == "leader1"
    pdf = client.get(signed.get_json()["files"]["signed"], headers=clerk)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    from web.services.replies import verify_document

    assert verify_document(app.extensions["huiyin"], pdf.data)["valid"]
    assert client.get(f"/api/v1/replies/{reply['reply_id']}/files/..%2Fsecret_key",
                      headers=clerk).status_code == 404


def test_search_pages_through_limit_and_offset(app: Flask) -> None:
    client = app.test_client()
    clerk = _token(client, "clerk1")

    def found(**args: object) -> list[int]:
        reply = client.get("/api/v1/search", query_string={"q": "镇", "sort": "date", **args},
                           headers=clerk)
        assert reply.status_code == 200, reply.get_json()
        return [h["letter_id"] for h in reply.get_json()["hits"]]

    both = found()
    assert sorted(both) == [1, 2]
    assert found(limit=1) == both[:1]
    assert found(limit=1, offset=1) == both[1:]
    assert found(offset=2) == []


def test_signing_through_the_api_asks_what_the_page_asks(app: Flask, instance: Instance) -> None:
    """The API signed with a bare token: no confirmation, no password however old the token."""
    from sqlalchemy import select

    from records import AuditEvent, LoginAttempt, Reply
    from web.services.replies import generate_reply

    client = app.test_client()
    with instance.db.session() as session:
        intake.attach_petitioner(session, intake.get_letter(session, 1), name="韩秋菊",
                                 actor="test")
    outcome = generate_reply(instance, 1, "transfer_notice", out_dir=None, actor="clerk1",
                             pdf=False)
    url = f"/api/v1/replies/{outcome.reply_id}/sign"
    leader = _token(client, "leader1")
    bare = client.post(url, headers=leader)
    assert bare.status_code == 428 and "请先核对文书" in bare.get_json()["error"]
    settings = app.extensions["huiyin"].settings
    before, settings["sign_again_minutes"] = settings["sign_again_minutes"], 0
    try:  # the token's sign-in no longer counts: the password is asked again
        stale = client.post(url, json={"confirmed": True}, headers=leader)
        assert stale.status_code == 428 and "再次输入您的登录密码" in stale.get_json()["error"]
        wrong = client.post(url, json={"confirmed": True, "password": "not-it-at-all"},
                            headers=leader)
        assert wrong.status_code == 428 and "密码未通过" in wrong.get_json()["error"]
        with instance.db.session() as session:
            assert session.get(Reply, outcome.reply_id).signed_by is None  # type: ignore[union-attr]
            refused = session.scalars(select(AuditEvent).where(
                AuditEvent.action == "sign-refused")).all()
            assert [(e.actor, e.detail["via"]) for e in refused] == [("leader1", "api")] * 3
            failed = session.scalars(select(LoginAttempt).where(
                LoginAttempt.username == "leader1", LoginAttempt.success.is_(False))).all()
            assert len(failed) == 1  # the wrong password counts toward the lock
        signed = client.post(url, json={"confirmed": True, "password": PASSWORD}, headers=leader)
    finally:
        settings["sign_again_minutes"] = before
    assert signed.status_code == 200 and signed.get_json()["signed_by"] == "leader1"
    with instance.db.session() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "sign-reply")).one()
        assert event.detail["via"] == "api" and event.detail["password_typed"] is True
