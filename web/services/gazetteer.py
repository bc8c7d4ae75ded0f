"""The office's places and categories, from the admin tables, in the form extraction needs."""

from __future__ import annotations

from sqlalchemy import select

from ocr.fields import Gazetteer
from records import Category, Place
from web.services.instance import Instance


def gazetteer(instance: Instance) -> Gazetteer:
    """Townships and villages the clerk's proposed fields are matched against."""
    with instance.db.session() as session:
        rows = session.execute(select(Place.township, Place.village)).all()
    townships = sorted({t for t, _ in rows})
    villages = sorted({v for _, v in rows if v})
    return Gazetteer(tuple(townships), tuple(villages))


def categories(instance: Instance) -> list[str]:
    """The active matter categories, for the review form's choice."""
    with instance.db.session() as session:
        return list(session.scalars(
            select(Category.name).where(Category.active.is_(True)).order_by(Category.id)))
