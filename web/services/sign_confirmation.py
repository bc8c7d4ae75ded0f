"""Before a leader signs: the document seen, and the leader's password typed again lately.

A signature binds the office; one stray click on 签章 must not make one. The page asks the
leader to look at the document's first page and confirm; and unless the leader typed the
password (at sign-in or at a signature) within ``sign_again_minutes`` (a setting), it asks for
the password again, checked like a sign-in (attempts counted, locked after too many).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from web.services.access import LoginRefused, authenticate


class SignRefused(Exception):
    """The confirmation is missing or the password is wrong; the message says which."""


def password_fresh(typed_at: float | None, now: float, minutes: int) -> bool:
    """Whether a password typed at ``typed_at`` (epoch seconds) still covers a signature."""
    return typed_at is not None and minutes > 0 and 0 <= now - typed_at <= minutes * 60


def confirm(session: Session, username: str, *, confirmed: bool, password: str | None,
            fresh: bool, remote_addr: str, now: dt.datetime) -> bool:
    """Check a signature's confirmation; True when the password was typed (and is right)."""
    if not confirmed:
        raise SignRefused("请先核对文书，勾选“已核对”后再签章")
    if fresh and not password:
        return False
    if not password:
        raise SignRefused("请再次输入您的登录密码以确认签章")
    try:
        authenticate(session, username, password, remote_addr, now)
    except LoginRefused as e:
        raise SignRefused(f"密码未通过：{e}") from None
    return True
