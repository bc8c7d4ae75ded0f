"""The blueprints, one per area of the working day; `instance()` is what they share."""

from __future__ import annotations

from flask import current_app

from web.services.instance import Instance


def instance() -> Instance:
    """The instance this app serves."""
    found: Instance = current_app.extensions["huiyin"]
    return found
