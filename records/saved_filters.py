"""A user's saved filters of a list (the register, the cases): a name and the list's query
string, kept per user on the server so they follow the user to any browser."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.errors import RecordsError
from records.models import SavedFilter

MAX_PER_LIST = 30


def saved(session: Session, user_id: int, list_key: str) -> list[SavedFilter]:
    """This user's filters of one list, by name."""
    return list(session.scalars(select(SavedFilter).where(
        SavedFilter.user_id == user_id, SavedFilter.list_key == list_key)
        .order_by(SavedFilter.name)))


def save(session: Session, user_id: int, list_key: str, name: str, query: str, *,
         actor: str) -> SavedFilter:
    """Keep a filter under a name (the same name again replaces it)."""
    name = name.strip()[:30]
    if not name:
        raise RecordsError("请给这个筛选起个名字")
    found = session.scalars(select(SavedFilter).where(
        SavedFilter.user_id == user_id, SavedFilter.list_key == list_key,
        SavedFilter.name == name)).first()
    if found is None:
        if len(saved(session, user_id, list_key)) >= MAX_PER_LIST:
            raise RecordsError(f"每个列表最多保存 {MAX_PER_LIST} 个筛选，请先删除不用的")
        found = SavedFilter(user_id=user_id, list_key=list_key, name=name, query=query)
        session.add(found)
    found.query = query
    session.flush()
    audit.record(session, actor, "save-filter", "saved_filter", found.id, list=list_key,
                 name=name)
    return found


def remove(session: Session, user_id: int, filter_id: int, *, actor: str) -> None:
    """Delete one of this user's filters (another user's is not found)."""
    found = session.get(SavedFilter, filter_id)
    if found is None or found.user_id != user_id:
        raise RecordsError("没有这个保存的筛选")
    session.delete(found)
    audit.record(session, actor, "remove-filter", "saved_filter", filter_id,
                 list=found.list_key, name=found.name)
