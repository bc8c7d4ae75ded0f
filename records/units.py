"""Units in the four-level network (县、乡镇、村/社区、组) and the people who sign in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.intake import RecordsError
from records.models import LEVELS, ROLES, Unit, User

KINDS = {"county": "department", "township": "township", "village": "village", "group": "group"}


def get_unit(session: Session, name: str) -> Unit:
    """A unit by its name, or a message that says how to add it."""
    unit = session.scalars(select(Unit).where(Unit.name == name.strip())).first()
    if unit is None:
        raise RecordsError(f"no unit {name!r}: add it with `huiyin unit add {name.strip()}`")
    return unit


def get_user(session: Session, username: str) -> User:
    """A user by username, or a message that says how to add one."""
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise RecordsError(f"no user {username!r}: add one with "
                           f"`huiyin user add {username.strip()} --role leader`")
    return user


def add_unit(session: Session, name: str, *, level: str = "county", parent: Unit | None = None,
             actor: str) -> Unit:
    """A new handling unit; a sub-unit sits at its parent's level or below."""
    name = name.strip()
    if not name:
        raise RecordsError("a unit needs a name")
    if level not in LEVELS:
        raise RecordsError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if session.scalars(select(Unit).where(Unit.name == name)).first() is not None:
        raise RecordsError(f"unit {name!r} already exists")
    if parent is not None and LEVELS.index(level) < LEVELS.index(parent.level):
        raise RecordsError(f"{name} ({level}) cannot sit under {parent.name}, which is at "
                           f"{parent.level} level: a sub-unit is at its parent's level or below")
    unit = Unit(name=name, level=level, kind=KINDS[level],
                parent_id=parent.id if parent else None)
    session.add(unit)
    session.flush()
    audit.record(session, actor, "add-unit", "unit", unit.id, name=name, level=level,
                 parent=parent.name if parent else None)
    return unit


def add_user(session: Session, username: str, *, role: str, display_name: str = "",
             unit: Unit | None = None, actor: str) -> User:
    """A new user without a password yet (login comes with the web application)."""
    username = username.strip()
    if not username:
        raise RecordsError("a user needs a name")
    if role not in ROLES:
        raise RecordsError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise RecordsError(f"user {username!r} already exists")
    user = User(username=username, display_name=display_name or username, role=role,
                unit_id=unit.id if unit else None)
    session.add(user)
    session.flush()
    audit.record(session, actor, "add-user", "user", user.id, username=username, role=role,
                 unit=unit.name if unit else None)
    return user


def list_units(session: Session) -> list[Unit]:
    """Every unit, highest level first, then by name."""
    units = session.scalars(select(Unit)).all()
    return sorted(units, key=lambda u: (LEVELS.index(u.level) if u.level in LEVELS else 9, u.name))
