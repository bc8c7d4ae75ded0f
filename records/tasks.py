"""The background work queue on the Task table: enqueue, claim under a lease, finish or fail.

Several worker processes may share one SQLite (or PostgreSQL) database. A worker claims a task
with one conditional UPDATE that names the state it saw (``attempts`` grows on every claim, so
it is the row's version): when two workers race for the same task, exactly one UPDATE changes a
row and the other moves on. A worker that dies leaves a lease that expires; the task is then
claimed again, up to MAX_ATTEMPTS times, after which it stays failed with its reason.

The row is the record of truth whatever carries the work to the workers: with the Redis queue
(web.worker.queue) a message names a task and the worker claims that row (`claim_task`), so a
message
delivered twice, or one that outlived its task, changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from records.models import Task, utcnow

MAX_ATTEMPTS = 3
ACTIVE = ("queued", "running")


def enqueue(session: Session, kind: str, key: str, payload: dict[str, Any], *,
            letter_id: int | None = None, actor: str = "") -> Task:
    """Queue a unit of work; the same key again gives the existing task, not a second one."""
    existing = session.scalars(select(Task).where(Task.key == key)).first()
    if existing is not None:
        return existing
    task = Task(kind=kind, key=key, payload=dict(payload), state="queued", letter_id=letter_id,
                progress={}, attempts=0, created_by=actor, created_at=utcnow())
    session.add(task)
    session.flush()
    return task


def _claimable(now: dt.datetime) -> Any:
    """Queued, or running under a lease that has expired (its worker died or hung)."""
    return or_(Task.state == "queued",
               and_(Task.state == "running", Task.leased_until < now))


def claim(session: Session, worker_id: str, now: dt.datetime, lease: dt.timedelta,
          kinds: Sequence[str] | None = None) -> Task | None:
    """Take the oldest claimable task for this worker (atomically), or None when there is none.

    A task whose lease expired after its last allowed attempt is failed here instead: a file
    that kills its worker every time must not kill every worker in turn.
    """
    give_up_abandoned(session, now)
    query = select(Task.id, Task.attempts).where(_claimable(now), Task.attempts < MAX_ATTEMPTS)
    if kinds:
        query = query.where(Task.kind.in_(tuple(kinds)))
    for task_id, attempts in session.execute(query.order_by(Task.id).limit(10)).all():
        taken = session.execute(
            update(Task)
            .where(Task.id == task_id, Task.attempts == attempts, _claimable(now))
            .values(state="running", leased_by=worker_id, leased_until=now + lease,
                    attempts=attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            task = session.get(Task, task_id, populate_existing=True)
            assert task is not None
            return task
    return None


def claim_task(session: Session, task_id: int, worker_id: str, now: dt.datetime,
               lease: dt.timedelta) -> Task | None:
    """Take this one task if it is claimable now (atomically); None when it is not.

    None means another worker holds it, it is finished, or it has used its attempts: the
    message that named it was a duplicate or came too late, and is dropped.
    """
    taken = session.execute(
        update(Task)
        .where(Task.id == task_id, _claimable(now), Task.attempts < MAX_ATTEMPTS)
        .values(state="running", leased_by=worker_id, leased_until=now + lease,
                attempts=Task.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(Task, task_id, populate_existing=True)


def claimable(session: Session, now: dt.datetime, limit: int = 500) -> list[Task]:
    """Tasks a worker could claim now, oldest first (what the Redis queue must carry)."""
    query = (select(Task).where(_claimable(now), Task.attempts < MAX_ATTEMPTS)
             .order_by(Task.id).limit(limit))
    return list(session.scalars(query))


def give_up_abandoned(session: Session, now: dt.datetime) -> None:
    """Fail for good the tasks whose last allowed attempt's worker died or hung."""
    session.execute(
        update(Task)
        .where(Task.state == "running", Task.leased_until < now, Task.attempts >= MAX_ATTEMPTS)
        .values(state="failed", leased_by=None, leased_until=None, finished_at=now,
                error=f"处理中断 {MAX_ATTEMPTS} 次（进程退出或超时），已停止重试")
        .execution_options(synchronize_session=False)
    )


def running_workers(session: Session) -> set[str]:
    """The workers that hold a running task's lease now (their ids as they claimed it)."""
    query = select(Task.leased_by).where(Task.state == "running", Task.leased_by.is_not(None))
    return {worker_id for worker_id in session.scalars(query.distinct()) if worker_id}


def expire_leases(session: Session, worker_ids: Iterable[str], now: dt.datetime) -> int:
    """End the leases of workers known to be gone, so their tasks are claimable at once.

    The attempt still counts: a file that kills its worker every time stops after MAX_ATTEMPTS
    whether the lease ran out or was ended here. Returns the number of tasks taken back.
    """
    ids = sorted(set(worker_ids))
    if not ids:
        return 0
    expired = session.execute(
        update(Task)
        .where(Task.state == "running", Task.leased_by.in_(ids))
        .values(leased_until=now - dt.timedelta(microseconds=1))
        .execution_options(synchronize_session=False)
    )
    return int(expired.rowcount or 0)  # type: ignore[attr-defined]


def heartbeat(session: Session, task_id: int, worker_id: str, now: dt.datetime,
              lease: dt.timedelta) -> bool:
    """Extend this worker's lease; False when the task is no longer its own."""
    extended = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.leased_by == worker_id, Task.state == "running")
        .values(leased_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(extended.rowcount == 1)  # type: ignore[attr-defined]


def progress(session: Session, task_id: int, /, **values: Any) -> None:
    """Record how far the task got (for the intake page), e.g. step="ocr", page=2, pages=5."""
    session.execute(update(Task).where(Task.id == task_id).values(progress=dict(values))
                    .execution_options(synchronize_session=False))


def finish(session: Session, task_id: int, worker_id: str) -> bool:
    """The work is done; False when another worker had taken the task over meanwhile."""
    done = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.leased_by == worker_id, Task.state == "running")
        .values(state="done", leased_by=None, leased_until=None, error=None,
                finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def fail(session: Session, task_id: int, worker_id: str, error: str, *,
         permanent: bool = False) -> str | None:
    """The attempt failed: queue it again, or (after MAX_ATTEMPTS, or permanent) stop for good.

    ``permanent`` is for failures a retry cannot mend (a file that is not a scan). Returns the
    task's new state, or None when the task was no longer this worker's.
    """
    task = session.get(Task, task_id, populate_existing=True)
    if task is None or task.leased_by != worker_id or task.state != "running":
        return None
    final = permanent or task.attempts >= MAX_ATTEMPTS
    task.state = "failed" if final else "queued"
    task.error = error
    task.leased_by = None
    task.leased_until = None
    task.finished_at = utcnow() if final else None
    session.flush()
    return task.state


def release(session: Session, task_id: int, worker_id: str) -> bool:
    """Give the task back unfinished (the worker is stopping); the attempt does not count."""
    released = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.leased_by == worker_id, Task.state == "running")
        .values(state="queued", leased_by=None, leased_until=None,
                attempts=Task.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return bool(released.rowcount == 1)  # type: ignore[attr-defined]


def pending(session: Session) -> list[Task]:
    """Tasks queued or running, oldest first."""
    query = select(Task).where(Task.state.in_(ACTIVE)).order_by(Task.id)
    return list(session.scalars(query))


def for_letters(session: Session, letter_ids: Iterable[int]) -> dict[int, Task]:
    """The newest task of each of these letters (what the intake page shows)."""
    ids = sorted(set(letter_ids))
    if not ids:
        return {}
    query = select(Task).where(Task.letter_id.in_(ids)).order_by(Task.id)
    return {task.letter_id: task for task in session.scalars(query) if task.letter_id}


def recent(session: Session, kind: str, limit: int = 20) -> list[Task]:
    """The newest tasks of one kind, newest first."""
    query = select(Task).where(Task.kind == kind).order_by(Task.id.desc()).limit(limit)
    return list(session.scalars(query))
