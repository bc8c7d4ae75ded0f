"""Before a leader signs: the document seen, and the leader's password typed again lately.

A signature binds the office; one stray click on 签章 (or one request with a stolen API token)
must not make one. Every door goes through ``check``: the signer confirms having looked at the
document (the page shows its first page; the API and the command line say ``confirmed``), and
unless the leader typed the password (at sign-in, for the API's token, or at a signature)
within ``sign_again_minutes`` (a setting), the password is asked again, checked like a sign-in
(attempts counted, locked after too many). A refusal is audited with the door it came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import User, audit
from records.models import utcnow
from web.services.access import CAPABILITIES, LoginRefused, authenticate
from web.services.errors import ReplyError
from web.services.instance import Instance


class SignRefused(ReplyError):
    """The confirmation is missing or the password is wrong; the message says which."""


@dataclass(frozen=True)
class Confirmation:
    """What a door knows of the signer's last look: the tick, a password, when one was typed."""

    confirmed: bool
    password: str | None = None
    password_at: dt.datetime | None = None  # the signer's last password (sign-in, API token)
    remote_addr: str = ""
    via: str = "web"  # web | api | cli


def password_fresh(typed_at: float | None, now: float, minutes: int) -> bool:
    """Whether a password typed at ``typed_at`` (epoch seconds) still covers a signature."""
    return typed_at is not None and minutes > 0 and 0 <= now - typed_at <= minutes * 60


def check(instance: Instance, username: str, confirmation: Confirmation, *,
          reply_id: int | None = None) -> bool:
    """Refuse a signature without its confirmation; True when a (right) password was typed.

    Its own unit of work, so a wrong password counts and a refusal is audited even though the
    signature does not happen.
    """
    minutes = int(instance.settings["sign_again_minutes"])
    refusal: SignRefused | None = None
    with instance.db.session() as session:
        try:
            typed = _check(session, username, confirmation, now=utcnow(), minutes=minutes)
        except SignRefused as e:
            refusal = e
            audit.record(session, username, "sign-refused", "reply", reply_id,
                         via=confirmation.via, reason=str(e))
    if refusal is not None:
        raise refusal
    return typed


def _check(session: Session, username: str, confirmation: Confirmation, *, now: dt.datetime,
           minutes: int) -> bool:
    if not confirmation.confirmed:
        raise SignRefused("请先核对文书，确认“已核对”后再签章")
    typed_at = confirmation.password_at
    fresh = typed_at is not None and password_fresh(
        typed_at.timestamp(), now.replace(tzinfo=dt.UTC).timestamp(), minutes)
    if fresh and not confirmation.password:
        return False
    if not confirmation.password:
        why = f"距上次输入密码已超过 {minutes} 分钟" if minutes > 0 else "每次签章都须输入密码"
        raise SignRefused(f"请再次输入您的登录密码以确认签章（{why}）")
    try:
        authenticate(session, username, confirmation.password, confirmation.remote_addr, now)
    except LoginRefused as e:
        raise SignRefused(f"密码未通过：{e}") from None
    signer = session.scalars(select(User).where(User.username == username.strip())).one()
    if signer.role not in CAPABILITIES["sign_replies"]:
        raise SignRefused(f"{signer.username} 不是领导，不能签章")
    return True
