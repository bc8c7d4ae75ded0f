"""Whole numbers from the outside world, checked where they come in.

A record's id in a path or a page number in a query is a 64-bit integer in the database: a
larger one (2**63 and up) made SQLite raise OverflowError (and PostgreSQL a DataError) deep
in a query, a 500 with a traceback. Here the app's ``int`` URL converter refuses such paths
(404), and ``.get(name, type=int)`` on the query string and on forms treats them as absent,
the way it already treats "abc".
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, Map

LARGEST = 2**63 - 1  # a signed 64-bit column (SQLite INTEGER, PostgreSQL BIGINT)


def bounded_int(value: Any) -> int:
    """int(value), or ValueError when it is not a whole number a database column can hold."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    number = int(value)
    if not -LARGEST - 1 <= number <= LARGEST:
        raise ValueError("out of range")
    return number


def as_int(value: Any) -> int | None:
    """A form's or a JSON document's number, or None when it is missing, not one or too large."""
    try:
        return bounded_int(value)
    except (TypeError, ValueError):
        return None


class BoundedIntConverter(IntegerConverter):
    """``<int:id>`` in a route, but only up to LARGEST: a larger id matches no route (404)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST)
        super().__init__(map, *args, **kwargs)


class BoundedParams(ImmutableMultiDict[str, str]):
    """A request's query or form values: ``type=int`` also refuses numbers out of range."""

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]
        return super().get(key, default, bounded_int if type is int else type)

    def getlist(self, key: str, type: Any = None) -> Any:
        return super().getlist(key, bounded_int if type is int else type)
