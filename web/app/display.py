"""Template filters that show stored values the way the office reads them.

`person` turns a user name into the person's display name (one query per request, the user
table is small); `local` turns a stored UTC time into the office's time zone, so the letter page
and the case timeline agree on 14:21; `event`, `role`, `ingest` name internal codes in Chinese
(web.services.labels).
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, g
from markupsafe import Markup

from web.app.views import instance
from web.services import labels
from web.services.settings import setup_problems


def person(username: str | None) -> str:
    """A user name as the person's display name (machine actors named too)."""
    names = g.get("_display_names")
    if names is None:
        with instance().db.session() as session:
            names = g._display_names = labels.display_names(session)
    return labels.person(username, names)


def local(at: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time (naive or aware) in the office's time zone, formatted."""
    if at is None:
        return ""
    if isinstance(at, str):
        return at
    return instance().local_time(at).strftime(fmt)


def template_version(version: str | None) -> Markup:
    """Which template a reply came from; its checksum marked raw (hex, not words)."""
    label = labels.template_version_label(version)
    head, _, digest = label.rpartition("校验码 ")
    if not head:
        return Markup.escape(label)
    return Markup("{}校验码 <code data-raw>{}</code>{}").format(
        head, digest.rstrip("）"), "）")


def office_setup_problems() -> list[str]:
    """What the office must still set before replies reach citizens (admin pages warn)."""
    return setup_problems(instance().settings)


def register(app: Flask) -> None:
    """The filters, available to every template."""
    app.jinja_env.globals["setup_problems"] = office_setup_problems
    app.add_template_filter(person, "person")
    app.add_template_filter(local, "local")
    app.add_template_filter(labels.event_label, "event")
    app.add_template_filter(lambda role: labels.ROLE_LABELS.get(role, role), "role")
    app.add_template_filter(lambda state: labels.INGEST_LABELS.get(state, state), "ingest")
    app.add_template_filter(template_version, "template_version")
    app.add_template_filter(lambda channel: labels.CHANNEL_LABELS.get(channel, channel),
                            "channel")
