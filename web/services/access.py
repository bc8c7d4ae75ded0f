"""Who may sign in and what each role may see: one table of capabilities, one scope.

Roles (DESIGN.md): a clerk registers and reviews mail, a handler works the cases assigned to
its unit (and only those), a leader sees everything and signs replies, an admin keeps the
system (users, units, tables, certificate) and reads no letters.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass, replace
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from records import AuditEvent, Case, Letter, LoginAttempt, Unit, User, audit
from records.models import utcnow
from web.services.instance import Instance

# What each capability allows, and which roles hold it. Routes name a capability, never a role.
CAPABILITIES: dict[str, frozenset[str]] = {
    "read_letters": frozenset({"clerk", "handler", "leader"}),  # a handler: its unit's only
    "intake": frozenset({"clerk"}),
    "review": frozenset({"clerk"}),
    "act_on_cases": frozenset({"clerk", "handler", "leader"}),
    "draft_replies": frozenset({"clerk", "handler", "leader"}),
    "sign_replies": frozenset({"leader"}),
    "dashboard": frozenset({"clerk", "handler", "leader", "admin"}),
    "admin": frozenset({"admin"}),
    "confirm_roles": frozenset({"leader"}),  # an admin's grant of a letter-reading role
    "query_codes": frozenset({"clerk", "leader"}),  # read out / renew a petitioner's query code
    # 来访、来电、信箱、网上 written down by the office, and its 领导接待日 (clerk and above)
    "register_visits": frozenset({"clerk", "leader"}),
}

# Password guessing is slowed, never locked: after a few free failures each further one makes
# the next try wait longer (2 s, 4 s, ... at most a minute), counted per name and per client
# address since that name's (address's) last success within the hour. A try while waiting is
# refused unchecked and does not lengthen the wait, so nobody can lock a colleague (or, behind
# a proxy, the whole office) out; a guesser gets about sixty tries an hour per name.
FREE_FAILURES_PER_NAME = 3
FREE_FAILURES_PER_ADDRESS = 20
FIRST_DELAY = dt.timedelta(seconds=2)
MAX_DELAY = dt.timedelta(seconds=60)
COUNT_WINDOW = dt.timedelta(hours=1)

_hasher = PasswordHasher()  # Argon2id, 64 MiB, 3 passes: memory-hard as DESIGN.md asks
_DUMMY_HASH = _hasher.hash("not a password anyone has")

class LoginRefused(Exception):
    """Sign-in refused; the message is safe to show (it never says which part was wrong)."""


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user as the request sees it (no ORM object outlives its session)."""

    id: int
    username: str
    display_name: str
    role: str
    unit_id: int | None
    unit_name: str | None
    unit_ids: frozenset[int] | None  # the units whose cases this user sees; None: all
    token: str
    session_id: int = 0  # the sign-in's audit event; signing out ends this session (0: none)
    # §30 ¶3: the units whose accusations this user never sees (its own and those above it)
    barred: frozenset[int] = frozenset()
    # the cases that accuse it (read with every request, as the units are): usually none
    hidden: frozenset[int] = frozenset()

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.token}" + (f":{self.session_id}" if self.session_id else "")

    def can(self, capability: str) -> bool:
        """Whether this user's role holds the capability (see CAPABILITIES)."""
        return self.role == CONSOLE or self.role in CAPABILITIES[capability]


# The command line is run by whoever keeps the instance's files (the database itself): it sees
# every record, and its changes are audited under the name it gives (default "cli").
CONSOLE = "console"


def console(actor: str) -> SignedIn:
    """The reader and actor of a `huiyin` command: every letter, every unit."""
    return SignedIn(id=0, username=actor, display_name=actor, role=CONSOLE, unit_id=None,
                    unit_name=None, unit_ids=None, token="")


def hash_password(password: str) -> str:
    """An Argon2id hash to keep in User.password_hash."""
    return _hasher.hash(password)


def check_password_strength(password: str, username: str) -> None:
    """Refuse passwords a guesser would try first; raise ValueError saying why."""
    if len(password) < 10:
        raise ValueError("密码至少 10 个字符")
    if username and username.lower() in password.lower():
        raise ValueError("密码不能包含用户名")
    if len(set(password)) < 4:
        raise ValueError("密码过于简单")


def session_token(user: User) -> str:
    """Changes when the password changes or the user is disabled: old sessions end."""
    basis = f"{user.password_hash}|{user.active}|{user.role}|{user.unit_id}"
    if user.role_pending:
        basis += "|pending"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def signed_in(session: Session, user: User) -> SignedIn:
    """The request-side view of a user, with the units it may see resolved once."""
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    return SignedIn(
        id=user.id, username=user.username, display_name=user.display_name or user.username,
        role=user.role, unit_id=user.unit_id, unit_name=unit.name if unit else None,
        unit_ids=_visible_units(session, user), token=session_token(user),
        barred=(barred := _units_above(session, user.unit_id)),
        hidden=frozenset(session.scalars(select(Case.id).where(_accusing_clause(
            sorted({user.username, user.display_name or ""} - {""}), barred)))),
    )


def _units_above(session: Session, unit_id: int | None) -> frozenset[int]:
    """A unit and every unit above it: an accusation of any of them is about this unit too."""
    parents = {unit: parent for unit, parent in session.execute(select(Unit.id, Unit.parent_id))}
    seen: set[int] = set()
    current = unit_id
    while current is not None and current not in seen:
        seen.add(current)
        current = parents.get(current)
    return frozenset(seen)


def _visible_units(session: Session, user: User) -> frozenset[int] | None:
    """A handler sees its unit and the units below it; every other role sees all cases."""
    if user.role != "handler":
        return None
    if user.unit_id is None:
        return frozenset()
    children: dict[int | None, list[int]] = {}
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        children.setdefault(parent_id, []).append(unit_id)
    seen, todo = set(), [user.unit_id]
    while todo:
        unit_id = todo.pop()
        if unit_id not in seen:
            seen.add(unit_id)
            todo.extend(children.get(unit_id, []))
    return frozenset(seen)


def delay_after(failures: int, free: int) -> dt.timedelta:
    """How long the next try waits after this many counted failures (none while free)."""
    if failures < free:
        return dt.timedelta(0)
    return min(FIRST_DELAY * 2 ** min(failures - free, 16), MAX_DELAY)


def _wait(session: Session, column: Any, value: str, free: int,
          now: dt.datetime) -> dt.timedelta:
    """The time still to wait for this name (or address): failures since its last success."""
    since = now - COUNT_WINDOW
    last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(
        column == value, LoginAttempt.success.is_(True), LoginAttempt.at >= since))
    counted = select(func.count(), func.max(LoginAttempt.at)).where(
        column == value, LoginAttempt.success.is_(False), LoginAttempt.delayed.is_(False),
        LoginAttempt.at >= (last_ok or since))
    failures, last = session.execute(counted).one()
    if not failures or last is None:
        return dt.timedelta(0)
    return max(last + delay_after(failures, free) - now, dt.timedelta(0))


def authenticate(session: Session, username: str, password: str, remote_addr: str,
                 now: dt.datetime) -> User:
    """Check a sign-in, recording the attempt; raise LoginRefused (also while it must wait)."""
    username = username.strip()[:64]
    remote_addr = remote_addr[:64]
    wait = max(_wait(session, LoginAttempt.username, username, FREE_FAILURES_PER_NAME, now),
               _wait(session, LoginAttempt.remote_addr, remote_addr, FREE_FAILURES_PER_ADDRESS,
                     now))
    if wait:
        session.add(LoginAttempt(username=username, remote_addr=remote_addr, at=now,
                                 delayed=True))
        raise LoginRefused(f"尝试次数过多，请 {math.ceil(wait.total_seconds())} 秒后再试")
    user = session.scalars(select(User).where(User.username == username)).first()
    ok = _verify(user.password_hash if user and user.password_hash else None, password)
    ok = ok and user is not None and user.active
    if ok and user is not None and user.role_pending:
        session.add(LoginAttempt(username=username, remote_addr=remote_addr, at=now,
                                 delayed=True))  # the password was right: not a failure
        raise LoginRefused("账号的角色待领导确认，确认后才能登录")
    session.add(LoginAttempt(username=username, remote_addr=remote_addr, success=ok, at=now))
    if not ok or user is None:
        raise LoginRefused("用户名或密码不正确")
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    return user


def recent_failures(session: Session, limit: int = 200) -> list[LoginAttempt]:
    """The newest failed or delayed sign-in tries, for the admin's page (newest first)."""
    query = (select(LoginAttempt).where(LoginAttempt.success.is_(False))
             .order_by(LoginAttempt.id.desc()).limit(limit))
    return list(session.scalars(query))


def _verify(stored: str | None, password: str) -> bool:
    """Constant work whether or not the user exists, so timing does not tell names apart."""
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def case_scope(user: SignedIn) -> ColumnElement[bool]:
    """A WHERE clause selecting the cases this user may see (never one accusing it, §30 ¶3)."""
    if not user.can("read_letters"):
        return false()
    return figure_scope(user)


def figure_scope(user: SignedIn) -> ColumnElement[bool]:
    """The cases a user's figures count: its units', never one that accuses it (§30 ¶3); as
    case_scope, also for a role that sees numbers without reading letters."""
    if user.role == CONSOLE:
        return true()
    mine = true() if user.unit_ids is None else Case.unit_id.in_(user.unit_ids)
    return and_(mine, Case.id.not_in(sorted(user.hidden))) if user.hidden else mine


def letter_scope(user: SignedIn) -> ColumnElement[bool]:
    """A WHERE clause selecting the letters this user may see (a handler: its cases' letters;
    nobody: the letters of a case that accuses them)."""
    if not user.can("read_letters"):
        return false()
    if user.role == CONSOLE:
        return true()
    if user.unit_ids is None:
        if not user.hidden:
            return true()  # a literal list, not a subquery: a page of letters stays as fast
        return or_(Letter.case_id.is_(None), Letter.case_id.not_in(sorted(user.hidden)))
    return Letter.case_id.in_(select(Case.id).where(case_scope(user)))


def _names(user: SignedIn) -> list[str]:
    return sorted({user.username, user.display_name} - {""})


def _accusing(user: SignedIn) -> ColumnElement[bool]:
    """The cases that accuse this user, its unit or a unit above it (§30 ¶3)."""
    return _accusing_clause(_names(user), user.barred)


def _accusing_clause(names: list[str], barred: frozenset[int]) -> ColumnElement[bool]:
    person = Case.accused_person.in_(names)
    return or_(person, Case.accused_unit_id.in_(sorted(barred))) if barred else person


def not_accusing(user: SignedIn) -> ColumnElement[bool]:
    """The cases (or no case: an outer join's NULLs) that do not accuse this user (§30 ¶3)."""
    if user.role == CONSOLE:
        return true()
    clause = or_(Case.accused_person.is_(None), Case.accused_person.not_in(_names(user)))
    if not user.barred:
        return clause
    return and_(clause, or_(Case.accused_unit_id.is_(None),
                            Case.accused_unit_id.not_in(sorted(user.barred))))


def accuses(user: SignedIn, case: Case) -> bool:
    """Whether the case accuses this user, its unit or a unit above it (§30 ¶3)."""
    if user.role == CONSOLE:
        return False
    if case.id in user.hidden:
        return True
    return (case.accused_unit_id is not None and case.accused_unit_id in user.barred) or (
        case.accused_person is not None and case.accused_person in _names(user))


def hidden_cases(session: Session, user: SignedIn) -> set[int]:
    """The ids of the cases that accuse this user (for lists filtered outside SQL)."""
    if user.role == CONSOLE:
        return set()
    return set(session.scalars(select(Case.id).where(_accusing(user))))


def may_see_case(user: SignedIn, case: Case) -> bool:
    """The same rule as case_scope, for one case already loaded."""
    if not user.can("read_letters") or accuses(user, case):
        return False
    return user.unit_ids is None or case.unit_id in user.unit_ids


def may_see_letter(user: SignedIn, letter: Letter) -> bool:
    """The same rule as letter_scope, for one letter already loaded."""
    if not user.can("read_letters"):
        return False
    if letter.case is None:
        return user.unit_ids is None
    return may_see_case(user, letter.case)


def sign_in(instance: Instance, username: str, password: str, remote_addr: str, *,
            via: str | None = None) -> SignedIn:
    """Check a sign-in and record it, refused or not (the count of failures must survive the
    refusal); the SignedIn carries the sign-in's audit event as its session, so that signing
    out ends exactly this session. Raises LoginRefused."""
    with instance.db.session() as db:
        try:
            user = authenticate(db, username, password, remote_addr, utcnow())
        except LoginRefused as e:
            refused = e
        else:
            event = audit.record(db, user.username, "login", "user", user.id,
                                 **({"via": via} if via else {}))
            db.flush()
            return replace(signed_in(db, user), session_id=event.id)
    raise refused


def sign_out(instance: Instance, me: SignedIn) -> None:
    """End this session: a copy of its cookie is refused from now on (see session_user)."""
    from web.services.api_tokens import revoke_all

    with instance.db.session() as db:
        if me.session_id:
            audit.record(db, me.username, "logout", "session", me.session_id)
        revoke_all(db, me.id)  # the API's tokens end with the person's sign-out


def change_password(instance: Instance, me: SignedIn, old: str, new: str, again: str,
                    remote_addr: str) -> SignedIn:
    """Change one's own password (the old one asked again); other sessions end.

    Raises LoginRefused for a wrong old password (counted like a failed sign-in), ValueError
    for a refused new one."""
    with instance.db.session() as db:
        try:
            authenticate(db, me.username, old, remote_addr, utcnow())
        except LoginRefused as e:
            refused = e
        else:
            if new != again:
                raise ValueError("两次输入的新密码不一致")
            check_password_strength(new, me.username)
            user = db.get(User, me.id)
            assert user is not None
            user.password_hash = hash_password(new)
            audit.record(db, me.username, "change-password", "user", user.id)
            return replace(signed_in(db, user), session_id=me.session_id)
    raise refused


def session_user(db: Session, user_id: int, token: str, session_id: int) -> SignedIn | None:
    """The user of a session, if still active, its token still matches (no password change
    since) and the session was not signed out."""
    user = db.get(User, user_id)
    if user is None or not user.active or session_token(user) != token:
        return None
    if session_id and db.scalar(select(AuditEvent.id).where(
            AuditEvent.entity == "session", AuditEvent.entity_id == session_id,
            AuditEvent.action == "logout").limit(1)) is not None:
        return None
    return replace(signed_in(db, user), session_id=session_id)
