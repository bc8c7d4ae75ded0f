"""Saved filters per user (the register, the cases): listed beside the list,
applied as its address, deletable; the page and the API go through these functions."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from records import RecordsError
from records import saved_filters as store
from web.services.access import SignedIn
from web.services.errors import ServiceError
from web.services.instance import Instance

LISTS = {"register": "来信登记簿", "cases": "信访事项"}
MAX_QUERY = 1000


class FilterError(ServiceError):
    """A filter that cannot be saved or removed; the message says why."""


def _list(list_key: str) -> str:
    if list_key not in LISTS:
        raise FilterError(f"没有名为“{list_key[:20]}”的列表")
    return list_key


def clean_query(query: str) -> str:
    """A list's query string as kept: its fields in order, without the page number."""
    pairs = [(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False)
             if k != "page"]
    cleaned = urlencode(pairs)
    if len(cleaned) > MAX_QUERY:
        raise FilterError("筛选条件太长，无法保存")
    return cleaned


def filters_of(instance: Instance, reader: SignedIn, list_key: str) -> list[dict[str, Any]]:
    """This user's saved filters of a list: id, name, query string."""
    with instance.db.session() as session:
        return [{"id": f.id, "name": f.name, "query": f.query}
                for f in store.saved(session, reader.id, _list(list_key))]


def save_filter(instance: Instance, reader: SignedIn, list_key: str, name: str,
                query: str) -> dict[str, Any]:
    """Keep the list's current filter under a name for this user (the same name replaces)."""
    with instance.db.session() as session:
        try:
            found = store.save(session, reader.id, _list(list_key), name, clean_query(query),
                               actor=reader.username)
        except RecordsError as e:
            raise FilterError(str(e)) from None
        return {"id": found.id, "name": found.name, "query": found.query, "list": list_key}


def remove_filter(instance: Instance, reader: SignedIn, filter_id: int) -> None:
    """Delete one of this user's saved filters; another user's is refused as not found."""
    with instance.db.session() as session:
        try:
            store.remove(session, reader.id, filter_id, actor=reader.username)
        except RecordsError as e:
            raise FilterError(str(e)) from None
