"""Bearer tokens of the JSON API: random and opaque, kept only as a digest, revocable.

A token names nothing (it was once a signed copy of the user's id): the server looks its
SHA-256 up in ApiToken. It ends after TOKEN_HOURS, when its user signs out of the API with it
(`revoke`) or of the web pages (`revoke_all`, from access.sign_out), when the password, role or
unit changes (the session token it was issued under no longer matches) and when the user is
disabled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from records import ApiToken, audit
from records.models import utcnow
from web.services.access import SignedIn, session_user
from web.services.instance import Instance

TOKEN_HOURS = 8


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.strip().encode()).hexdigest()


def issue(instance: Instance, who: SignedIn) -> str:
    """A new token for this signed-in user (its sign-in is `who.session_id`)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    with instance.db.session() as db:
        db.add(ApiToken(user_id=who.id, digest=_digest(raw), session_token=who.token,
                        session_id=who.session_id, created_at=now,
                        expires_at=now + dt.timedelta(hours=TOKEN_HOURS)))
    return raw


def _live(db: Session, raw: str) -> ApiToken | None:
    if not raw or len(raw) > 200:
        return None
    found = db.scalars(select(ApiToken).where(ApiToken.digest == _digest(raw))).first()
    if found is None or found.revoked_at is not None or found.expires_at <= utcnow():
        return None
    return found


def user_of(instance: Instance, raw: str) -> SignedIn | None:
    """The user a token stands for, or None when it is unknown, expired or revoked."""
    with instance.db.session() as db:
        found = _live(db, raw)
        if found is None:
            return None
        return session_user(db, found.user_id, found.session_token, found.session_id)


def issued_at(instance: Instance, raw: str) -> dt.datetime | None:
    """When a live token was issued: its user typed the password then (a signature's rule)."""
    with instance.db.session() as db:
        found = _live(db, raw)
        if found is None:
            return None
        issued = found.created_at
        return issued if issued.tzinfo else issued.replace(tzinfo=dt.UTC)


def revoke(instance: Instance, raw: str, actor: str) -> bool:
    """End this one token (the API's sign-out); False when it was not live."""
    with instance.db.session() as db:
        found = _live(db, raw)
        if found is None:
            return False
        found.revoked_at = utcnow()
        audit.record(db, actor, "logout", "api_token", found.id, via="api")
    return True


def revoke_all(db: Session, user_id: int) -> int:
    """End every live token of this user (signing out of the pages ends the API's too)."""
    ended = db.execute(update(ApiToken).where(
        ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
        .execution_options(synchronize_session=False))
    return int(ended.rowcount or 0)  # type: ignore[attr-defined]
