"""Dates typed by people: one parser and one set of messages for forms, the API and the CLI."""

from __future__ import annotations

import datetime as dt

from web.services.errors import ServiceError


class DateError(ServiceError, ValueError):
    """A date that cannot be used; the message says why, in Chinese."""


def parse_day(text: str, *, what: str = "日期", not_after: dt.date | None = None) -> dt.date:
    """A YYYY-MM-DD day; with ``not_after`` (today), a day in the future is refused too."""
    cleaned = (text or "").strip()
    try:
        day = dt.date.fromisoformat(cleaned)
    except ValueError:
        raise DateError(f"{what}“{cleaned[:20]}”格式不对，应为 2026-01-31") from None
    if not_after is not None and day > not_after:
        raise DateError(f"{what} {day} 在今天（{not_after}）之后")
    return day


def optional_day(text: str | None, *, what: str = "日期",
                 not_after: dt.date | None = None) -> dt.date | None:
    """The same, where a blank field means no date."""
    if text is None or not text.strip():
        return None
    return parse_day(text, what=what, not_after=not_after)
