"""Masking at every door of a letter, and reads and refusals audited:
- a handler's API read of a letter has no whole ID number in any field;
- the page image a handler gets has the ID and mobile numbers covered (the real OCR reads the
  masked picture and finds no number), the original only for the roles that see them;
- reads of a reply's page images, of a petitioner's letters and of a case through the API are
  audited, and so is a refused attempt at another unit's letter or case."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

import ocr
from records import AuditEvent
from tests.security.office import ID_NUMBER, MASKED_ID, PHONE, Office


def _count(app: Flask, actor: str, action: str, entity: str, entity_id: int | None) -> int:
    with app.extensions["huiyin"].db.session() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.actor == actor, AuditEvent.action == action,
            AuditEvent.entity == entity, AuditEvent.entity_id == entity_id)) or 0)


def test_a_handlers_api_read_masks_every_field(office: Office, app: Flask,
                                               api_token: Callable[[str], dict[str, str]]) -> None:
    url = f"/api/v1/letters/{office.letters['written']}"
    handler = app.test_client().get(url, headers=api_token("handler1"))
    assert handler.status_code == 200
    seen = json.dumps(handler.get_json(), ensure_ascii=False)
    assert ID_NUMBER not in seen and MASKED_ID in seen
    clerk = app.test_client().get(url, headers=api_token("clerk1"))
    assert ID_NUMBER in json.dumps(clerk.get_json(), ensure_ascii=False)


def test_a_handlers_page_image_has_the_numbers_covered(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    url = f"/review/letters/{office.letters['scanned']}/pages/1.png"
    shown = {}
    for username in ("clerk1", "leader1", "handler1"):
        before = _count(app, username, "read", "letter", office.letters["scanned"])
        with signed_in(username).get(url) as answer:
            assert answer.status_code == 200, username
            shown[username] = (answer.headers["X-Page-Masked"], answer.get_data())
        assert _count(app, username, "read", "letter", office.letters["scanned"]) == before + 1
    assert shown["clerk1"][0] == shown["leader1"][0] == "0" and shown["handler1"][0] == "1"
    assert shown["clerk1"][1] == shown["leader1"][1] != shown["handler1"][1]
    assert signed_in("admin1").get(url).status_code == 403
    read = {name: "".join(line.text for line in ocr.ocr_image(
        Image.open(io.BytesIO(data))).lines) for name, (_, data) in shown.items()}
    assert PHONE in read["clerk1"].replace(" ", "")
    masked = read["handler1"].replace(" ", "")
    assert PHONE not in masked and "3945" not in masked  # the number is not in the picture
    assert "征地补偿款" in masked  # the rest of the letter is


def test_reads_of_reply_pages_people_and_cases_are_audited(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient],
        api_token: Callable[[str], dict[str, str]]) -> None:
    from web.services.replies import generate_reply

    reply_id = generate_reply(app.extensions["huiyin"], office.letters["written"],
                              "acknowledgement", out_dir=None, actor="leader1",
                              data={"summary": "征地补偿"}, pdf=True).reply_id
    leader = signed_in("leader1")
    reads = [
        (leader, f"/replies/{reply_id}/pages/1.png", {}, "reply", reply_id),
        (leader, f"/letters/{office.letters['written']}/person", {}, "letter",
         office.letters["written"]),
        (app.test_client(), f"/api/v1/cases/{office.cases['mine']}", api_token("leader1"),
         "case", office.cases["mine"]),
    ]
    for client, url, headers, entity, entity_id in reads:
        before = _count(app, "leader1", "read", entity, entity_id)
        with client.get(url, headers=headers) as answer:
            assert answer.status_code == 200, url
        assert _count(app, "leader1", "read", entity, entity_id) == before + 1, url


def test_refused_attempts_are_audited(office: Office, app: Flask,
                                      signed_in: Callable[[str], FlaskClient],
                                      api_token: Callable[[str], dict[str, str]]) -> None:
    other_letter, other_case = office.letters["other"], office.cases["other"]
    handler = signed_in("handler1")
    tries = [
        (handler, f"/letters/{other_letter}", {}, "letter", other_letter, 404),
        (handler, f"/review/letters/{other_letter}/pages/1.png", {}, "letter", other_letter,
         404),
        (signed_in("admin1"), f"/letters/{other_letter}", {}, "letter", other_letter, 403),
        (handler, f"/cases/{other_case}", {}, "case", other_case, 404),
        (app.test_client(), f"/api/v1/cases/{other_case}", api_token("handler1"), "case",
         other_case, 404),
    ]
    for client, url, headers, entity, entity_id, status in tries:
        who = "admin1" if status == 403 else "handler1"
        before = _count(app, who, "refused", entity, entity_id)
        with client.get(url, headers=headers) as answer:
            assert answer.status_code == status, url
        assert _count(app, who, "refused", entity, entity_id) == before + 1, url
