"""Users of every role, and a test client signed in as one of them (through the real form)."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from records import Unit, User
from web.services.access import hash_password
from web.services.instance import Instance

PASSWORD = "test-password-42"
HANDLER_UNIT = "县自然资源局"
# username -> role; the handler works for HANDLER_UNIT, "other" for a unit that sees nothing.
USERS = {"clerk1": "clerk", "handler1": "handler", "leader1": "leader", "admin1": "admin"}


def add_users(home: Path) -> None:
    """One user per role (idempotent), each with PASSWORD."""
    with Instance(home) as instance, instance.db.session() as session:
        unit = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).first()
        if unit is None:
            unit = Unit(name=HANDLER_UNIT)
            session.add(unit)
            session.flush()
        password = hash_password(PASSWORD)
        for username, role in USERS.items():
            if session.scalars(select(User).where(User.username == username)).first() is None:
                session.add(User(username=username, display_name=username, role=role,
                                 unit_id=unit.id if role == "handler" else None,
                                 password_hash=password))


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page's form carries, as a browser would read it."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page) or re.search(
        r'name="csrf-token" content="([^"]+)"', page)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> FlaskClient:
    """Sign in through the login form; fail the test if it does not work."""
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
