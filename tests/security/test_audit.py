"""Every read of a letter leaves an audit event, whichever door it came through; and the audit
log is append-only — in the ORM, in SQL through the app's engine, and in the database file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from records import AuditEvent, audit
from records.audit import AuditLogIsAppendOnly
from tests.conftest import ON_POSTGRES
from tests.security.office import Office


def _events(app: Flask, actor: str, action: str, entity: str) -> list[AuditEvent]:
    instance = app.extensions["huiyin"]
    with instance.db.session() as session:
        return list(session.scalars(select(AuditEvent).where(
            AuditEvent.actor == actor, AuditEvent.action == action,
            AuditEvent.entity == entity).order_by(AuditEvent.id)))


def _page_reads(office: Office) -> list[tuple[str, str, str, str, int]]:
    """(user, URL, action, entity, entity id) for every page that shows a letter's content."""
    w, s, r = office.letters["written"], office.letters["scanned"], office.replies["mine"]
    return [
        ("leader1", f"/letters/{w}", "read", "letter", w),
        ("handler1", f"/letters/{s}", "read", "letter", s),
        ("clerk1", f"/review/letters/{s}", "read", "letter", s),
        ("handler1", f"/review/letters/{s}/pages/1.png", "read", "letter", s),
        ("leader1", f"/replies/new/{w}?template=acknowledgement", "read", "letter", w),
        ("leader1", f"/replies/{r}", "read", "reply", r),
        ("handler1", f"/replies/{r}/docx", "download", "reply", r),
    ]


def test_every_page_that_shows_a_letter_is_audited(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    clients: dict[str, FlaskClient] = {}
    for username, url, action, entity, entity_id in _page_reads(office):
        client = clients.setdefault(username, signed_in(username))
        before = len(_events(app, username, action, entity))
        with client.get(url) as response:
            assert response.status_code == 200, url
        after = _events(app, username, action, entity)
        assert len(after) == before + 1, f"{url}: no audit event for the read"
        assert after[-1].entity_id == entity_id, url


def test_the_api_reads_are_audited(office: Office, app: Flask,
                                   api_token: Callable[[str], dict[str, str]]) -> None:
    headers, client = api_token("handler1"), app.test_client()
    w, r = office.letters["written"], office.replies["mine"]
    for url, action, entity, entity_id in (
            (f"/api/v1/letters/{w}", "read", "letter", w),
            (f"/api/v1/replies/{r}/files/docx", "download", "reply", r)):
        before = len(_events(app, "handler1", action, entity))
        with client.get(url, headers=headers) as response:
            assert response.status_code == 200, url
        after = _events(app, "handler1", action, entity)
        assert len(after) == before + 1 and after[-1].entity_id == entity_id, url


def test_search_results_are_audited_with_the_letters_they_showed(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("clerk1")
    for url in ("/search?q=" + quote("征地补偿"), f"/letters/{office.letters['other']}/similar"):
        before = len(_events(app, "clerk1", "search", "letter"))
        assert client.get(url).status_code == 200
        after = _events(app, "clerk1", "search", "letter")
        assert len(after) == before + 1, f"{url}: the letters shown are not in the audit log"
    shown = _events(app, "clerk1", "search", "letter")[-2].detail
    assert office.letters["written"] in shown["letters"]
    assert shown["query"] == "征地补偿"


def test_the_api_search_is_audited(app: Flask,
                                   api_token: Callable[[str], dict[str, str]]) -> None:
    before = len(_events(app, "clerk1", "search", "letter"))
    answer = app.test_client().get("/api/v1/search?q=" + quote("征地补偿"),
                                   headers=api_token("clerk1"))
    assert answer.status_code == 200 and answer.get_json()["hits"]
    assert len(_events(app, "clerk1", "search", "letter")) == before + 1


def test_refused_and_missing_reads_leave_no_read_event(
        office: Office, app: Flask, signed_in: Callable[[str], FlaskClient]) -> None:
    client = signed_in("handler1")  # the other unit's letter is not this handler's
    before = len(_events(app, "handler1", "read", "letter"))
    assert client.get(f"/letters/{office.letters['other']}").status_code == 404
    assert client.get("/letters/999999").status_code == 404
    assert len(_events(app, "handler1", "read", "letter")) == before


@pytest.fixture
def logged(instance: object) -> tuple[object, int]:
    with instance.db.session() as session:  # type: ignore[attr-defined]
        event = audit.record(session, "clerk1", "read", "letter", 1, via="test")
        session.flush()
        event_id = event.id
    return instance, event_id


def _unchanged(instance: object, event_id: int) -> None:
    with instance.db.session() as session:  # type: ignore[attr-defined]
        event = session.get(AuditEvent, event_id)
        assert event is not None and event.action == "read" and event.actor == "clerk1"
        assert session.scalar(select(func.count()).select_from(AuditEvent)) >= 1


def test_the_orm_refuses_to_change_or_delete_an_event(logged: tuple[object, int]) -> None:
    instance, event_id = logged
    for change in (lambda e, s: setattr(e, "action", "nothing"), lambda e, s: s.delete(e)):
        with pytest.raises(AuditLogIsAppendOnly):
            with instance.db.session() as session:  # type: ignore[attr-defined]
                event = session.get(AuditEvent, event_id)
                change(event, session)
                session.flush()
        _unchanged(instance, event_id)


@pytest.mark.parametrize("statement", [
    update(AuditEvent).values(actor="nobody"), delete(AuditEvent),
    text("UPDATE audit_event SET actor = 'nobody'"), text("DELETE FROM audit_event"),
], ids=["orm-update", "orm-delete", "sql-update", "sql-delete"])
def test_the_database_refuses_updates_and_deletes(logged: tuple[object, int],
                                                  statement: object) -> None:
    """Bulk statements skip the ORM's checks: the database's triggers still refuse them."""
    instance, event_id = logged
    with pytest.raises(DBAPIError, match="append-only"):
        with instance.db.engine.begin() as connection:  # type: ignore[attr-defined]
            connection.execute(statement)
    _unchanged(instance, event_id)


@pytest.mark.skipif(ON_POSTGRES, reason="reads the SQLite file itself")
def test_the_sqlite_file_refuses_updates_and_deletes_from_any_program(
        logged: tuple[object, int]) -> None:
    instance, event_id = logged
    path = Path(instance.home) / "huiyin.db"  # type: ignore[attr-defined]
    connection = sqlite3.connect(path)
    try:
        for sql in ("UPDATE audit_event SET actor = 'nobody'", "DELETE FROM audit_event",
                    "UPDATE audit_event SET detail = '{}' WHERE id = 1"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                connection.execute(sql)
            connection.rollback()
    finally:
        connection.close()
    _unchanged(instance, event_id)
