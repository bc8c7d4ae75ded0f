"""Replies rendered by the workers: with the setting background_replies, the reply form queues
a "reply" task (web.worker renders it, LibreOffice included) and its page follows the task.

A task's page says where it is — queued, being rendered, failed (why, in Chinese), or done
with its reply — and the same form sent twice while the first is still waiting is one task.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from records import Reply, Task, tasks
from records.models import utcnow
from web.services.instance import Instance

FAILED_SHOWN = dt.timedelta(days=1)  # how long a failed reply task stays on the replies page
OPEN_SHOWN = 20
OPEN_SCANNED = 1000  # newest open reply tasks looked at for the user's letters


def background_replies(instance: Instance) -> bool:
    """Does the web app leave rendering replies to the workers? (config.toml or HUIYIN_*)"""
    return bool(instance.settings["background_replies"])


def queue_reply(instance: Instance, letter_id: int, template: str, data: dict[str, str], *,
                actor: str) -> int:
    """Queue a "reply" task (the payload web.worker's reply kind reads); the task's id.

    The form sent again while its task still waits or runs (a double click) gives that task.
    """
    payload: dict[str, Any] = {"letter_id": letter_id, "template": template,
                               "data": dict(data), "pdf": True, "sign": False, "actor": actor}
    with instance.db.session() as session:
        for task in session.scalars(select(Task).where(
                Task.kind == "reply", Task.letter_id == letter_id,
                Task.state.in_(tasks.ACTIVE))):
            if dict(task.payload or {}) == payload:
                return task.id
        # enqueue's key dedupe would return a finished task: each new task gets its own key
        key = f"reply:{letter_id}:{template}:{uuid.uuid4().hex[:12]}"
        return tasks.enqueue(session, "reply", key, payload, letter_id=letter_id,
                             actor=actor).id


@dataclass
class ReplyTask:
    """What a reply task's page shows."""

    id: int
    letter_id: int
    template: str
    state: str  # queued, running, failed, done
    label: str
    error: str | None = None
    reply_id: int | None = None
    doc_number: str | None = None

    @property
    def pending(self) -> bool:
        return self.state in tasks.ACTIVE


def reply_task(instance: Instance, task_id: int) -> ReplyTask | None:
    """The state of a reply task, or None when there is no reply task with this id."""
    with instance.db.session() as session:
        task = session.get(Task, task_id)
        if task is None or task.kind != "reply" or task.letter_id is None:
            return None
        payload = dict(task.payload or {})
        shown = ReplyTask(task.id, task.letter_id, str(payload.get("template", "")),
                          task.state, "")
        if task.state == "done":
            reply_id = (task.progress or {}).get("reply_id")
            reply = session.get(Reply, int(reply_id)) if reply_id is not None else None
            if reply is not None:
                shown.reply_id, shown.doc_number = reply.id, reply.doc_number
            shown.label = f"已生成 {shown.doc_number}" if reply else "已生成"
        elif task.state == "failed":
            shown.error = task.error or "处理失败"
            shown.label = "生成失败"
        elif task.state == "running":
            shown.label = "正在生成答复文书（后台工作进程正在排版并转换为 PDF）"
        elif task.error:  # an earlier attempt failed; it is tried again
            shown.error = task.error
            shown.label = f"上次生成未成功，排队等待第 {task.attempts + 1} 次尝试"
        else:
            ahead = session.scalar(select(func.count()).select_from(Task).where(
                Task.state.in_(tasks.ACTIVE), Task.id < task.id)) or 0
            shown.label = ("排队等待后台工作进程生成" +
                           (f"（前面还有 {ahead} 项任务）" if ahead else ""))
        return shown


def open_reply_tasks(instance: Instance, letter_ids: Collection[int]) -> list[ReplyTask]:
    """Reply tasks of these letters still pending, or failed within FAILED_SHOWN, oldest first.

    The open tasks are few and the letters a user may see many (a clerk: all of them): the
    tasks are read first and kept by membership, never by an IN list of every letter.
    """
    since = utcnow() - FAILED_SHOWN
    with instance.db.session() as session:
        rows = session.execute(select(Task.id, Task.letter_id).where(
            Task.kind == "reply",
            Task.state.in_(tasks.ACTIVE) | ((Task.state == "failed") &
                                            (Task.finished_at >= since)))
            .order_by(Task.id.desc()).limit(OPEN_SCANNED)).all()
    ids = [task_id for task_id, letter_id in rows if letter_id in letter_ids][:OPEN_SHOWN]
    shown = [reply_task(instance, task_id) for task_id in reversed(ids)]
    return [task for task in shown if task is not None]
