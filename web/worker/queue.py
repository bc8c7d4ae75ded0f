"""How background work reaches the workers: the database alone, or Redis through huey.

Setting ``queue_url``: empty, the embedded queue — workers poll the Task table of the records
(records/tasks.py), which suits one machine. ``redis://…`` (or ``unix://…``), the Redis queue —
any number of ``huiyin worker`` processes on any number of machines block on one Redis list and
get each task's work in a message. Both run the same web.worker.Worker and the same task kinds.

Why huey and not Celery. The Task row in the database stays the record of truth and the
acknowledgement: a message names a task; the worker that gets it claims that row with one
conditional UPDATE (records.tasks.claim_task) under a lease it renews after every page, and
only the lease holder can finish it. So a message delivered twice, or one that outlived its
task, is dropped, and a task is done exactly once in the records. What Redis must add is the
transport, and huey (one small package on redis-py) is exactly that: its Redis list with a
blocking pop, its message format and task registry. Celery's redelivery (acks_late,
reject_on_worker_lost, the broker's visibility timeout) would be a second lease beside the
database's, with a fixed timeout that must outlast the longest task (a 500-page PDF): a killed
worker's task would wait that long, or a slow one be delivered again mid-run. Celery would
also bring its own worker and pool in place of web.worker.Worker, and nine packages besides
itself (kombu, billiard, amqp, vine, click plugins, prompt_toolkit, ...).

huey pops a message without an acknowledgement, so a worker killed mid-task takes its message
with it: what brings the task back is the lease, as on the embedded queue. Every Redis worker
also publishes (the database is the outbox): before each pop it sends a message for every
claimable task — queued, or running under a lease that expired — that has none for its
current attempt, checked and sent in one Redis script (a ``sent:<task>:<attempts>`` key, kept
RESEND_S). A task enqueued by the web app, one whose attempt failed, and one whose worker was
SIGKILLed all get a message that way; one enqueued while Redis was down is sent when it is
back. A message lost in the instant between a worker's pop and its claim is sent again after
RESEND_S: late, never lost.

Messages are JSON, not huey's default pickle: a worker never unpickles what it reads from a
shared server. Each office's database has its own queue name (a hash of database_url), so
two instances sharing a Redis server never take each other's work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from records import tasks
from records.models import utcnow
from web.services.instance import Instance
from web.services.migration import shown_url

log = logging.getLogger("huiyin.queue")

RESEND_S = 5 * 60  # a claimable task whose message was sent this long ago gets another
PUBLISH_BATCH = 500  # claimable tasks looked at per publish (the oldest first)
SCHEMES = ("redis://", "rediss://", "unix://")


class QueueError(Exception):
    """queue_url is not usable; the message says why."""


@dataclass
class Claimed:
    """A claimed task as the worker needs it (no ORM object outlives its session)."""

    id: int
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    letter_id: int | None = None
    attempts: int = 0


class TaskQueue(Protocol):
    """What a worker asks of a queue; the embedded and the Redis ones behave alike."""

    blocking: bool  # take() itself waits for work (no need to sleep between calls)

    def take(self, worker_id: str, lease: dt.timedelta,
             kinds: Sequence[str] | None) -> Claimed | None: ...

    def released(self, task: Claimed) -> None: ...

    def has_work(self) -> bool: ...

    def close(self) -> None: ...


def open_queue(instance: Instance, *, wait_s: float = 2.0) -> TaskQueue:
    """The queue the instance's settings name; ``wait_s`` bounds one wait for a message."""
    url = str(instance.settings.get("queue_url") or "").strip()
    if not url:
        return EmbeddedQueue(instance)
    if not url.startswith(SCHEMES):
        raise QueueError(f"queue_url must start with {', '.join(SCHEMES)} (Redis) or be "
                         f"empty (the embedded queue in the database); got {url!r}")
    return RedisQueue(instance, url, wait_s=wait_s)


class EmbeddedQueue:
    """The Task table polled by workers that share the database (the default)."""

    blocking = False

    def __init__(self, instance: Instance) -> None:
        self.instance = instance

    def take(self, worker_id: str, lease: dt.timedelta,
             kinds: Sequence[str] | None = None) -> Claimed | None:
        with self.instance.db.session() as session:
            task = tasks.claim(session, worker_id, utcnow(), lease, kinds)
            return None if task is None else _claimed(task)

    def released(self, task: Claimed) -> None:
        """Nothing to do: the row is queued again and the next claim finds it."""

    def has_work(self) -> bool:
        return False  # take() found nothing: claims look at every task

    def close(self) -> None:
        pass


def _claimed(task: tasks.Task) -> Claimed:
    return Claimed(task.id, task.kind, dict(task.payload or {}), task.letter_id, task.attempts)


# Send one message unless one was sent for this task's attempt within RESEND_S: atomic, so
# two workers publishing at once never both send, and a send is never marked but not done.
_SEND_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


class RedisQueue:
    """Tasks carried by huey's Redis list; the database's Task rows say who does what."""

    blocking = True

    def __init__(self, instance: Instance, url: str, *, wait_s: float = 2.0,
                 resend_s: int = RESEND_S) -> None:
        from huey import RedisHuey
        from redis.exceptions import RedisError

        self.instance = instance
        self.resend_s = resend_s
        self.name = f"huiyin.{queue_digest(instance.database_url)}"
        try:
            self.huey = RedisHuey(self.name, url=url, results=False, utc=True,
                                  serializer=JsonSerializer(), blocking=True,
                                  read_timeout=max(1, round(wait_s)))
        except (RedisError, ValueError) as e:
            raise QueueError(f"queue_url {shown_url(url)}: {e}") from e
        self._message = self.huey.task(name="huiyin.task")(_run_by_worker)
        self._send_once = self.huey.storage.conn.register_script(_SEND_ONCE)
        self.url = url

    # -- publishing: the database's claimable tasks become messages --------------------------

    def publish(self) -> int:
        """Send a message for each claimable task that has none for its attempt; how many."""
        now = utcnow()
        with self.instance.db.session() as session:
            tasks.give_up_abandoned(session, now)
            waiting = [_claimed(t) for t in tasks.claimable(session, now, PUBLISH_BATCH)]
        if not waiting:
            return 0
        queue_key = self.huey.storage.queue_key
        with self.huey.storage.conn.pipeline(transaction=False) as pipe:
            for task in waiting:
                data = self.huey.serialize_task(self._message.s(
                    task.id, task.kind, task.payload, task.letter_id, task.attempts))
                self._send_once(keys=[self._sent_key(task.id, task.attempts), queue_key],
                                args=[data, self.resend_s], client=pipe)
            sent = sum(int(n) for n in pipe.execute())
        if sent:
            log.debug("published %d task(s) to %s", sent, self.name)
        return sent

    def _sent_key(self, task_id: int, attempts: int) -> str:
        return f"{self.name}:sent:{task_id}:{attempts}"

    # -- taking ------------------------------------------------------------------------------

    def take(self, worker_id: str, lease: dt.timedelta,
             kinds: Sequence[str] | None = None) -> Claimed | None:
        """Publish, wait up to wait_s for a message, claim the task it names (or drop it)."""
        self.publish()
        try:
            message = self.huey.dequeue()
        except (ValueError, TypeError, KeyError) as e:  # not one of our messages
            log.error("queue %s: a message that is not a Huiyin task was dropped: %s",
                      self.name, e)
            return None
        if message is None:
            return None
        task_id, kind, payload, letter_id, _ = message.args
        if kinds and kind not in kinds:
            self.huey.enqueue(message)  # another worker's kind: back to the queue
            return None
        with self.instance.db.session() as session:
            task = tasks.claim_task(session, int(task_id), worker_id, utcnow(), lease)
            if task is None:
                return None  # a duplicate, or the task was done meanwhile
            if task.kind != kind or dict(task.payload or {}) != payload:
                tasks.release(session, task.id, worker_id)
                log.error("queue %s: message for task %s does not match its row (%s vs %s): "
                          "dropped", self.name, task_id, kind, task.kind)
                return None
            return Claimed(task.id, kind, dict(payload), letter_id, task.attempts)

    def released(self, task: Claimed) -> None:
        """The task is queued again at its earlier attempt: let the next publish send it."""
        self.huey.storage.conn.delete(self._sent_key(task.id, task.attempts - 1))

    def has_work(self) -> bool:
        """Is any task claimable (queued, or its lease expired) in the database?"""
        with self.instance.db.session() as session:
            return bool(tasks.claimable(session, utcnow(), 1))

    def pending(self) -> int:
        """Messages waiting in Redis (for benchmarks and tests)."""
        return int(self.huey.pending_count())

    def close(self) -> None:
        self.huey.storage.conn.close()
        self.huey.storage.pool.disconnect()


def _run_by_worker(task_id: int, kind: str, payload: dict[str, Any], letter_id: int | None,
                   attempts: int) -> None:
    """The registered name of a Huiyin task message; web.worker.Worker runs it, not huey."""
    raise RuntimeError("Huiyin tasks are run by `huiyin worker`, not by huey_consumer")


def queue_digest(database_url: str) -> str:
    """A short name of the records' database (its URL without the password)."""
    return hashlib.sha256(shown_url(database_url).encode("utf-8")).hexdigest()[:16]


class JsonSerializer:
    """huey's message as a JSON array: no pickle read from a server other machines write to."""

    def serialize(self, message: Any) -> bytes:
        return json.dumps(list(message), ensure_ascii=False).encode("utf-8")

    def deserialize(self, data: bytes) -> Any:
        from huey.registry import Message

        fields = json.loads(data)
        if not isinstance(fields, list) or len(fields) != len(Message._fields):
            raise ValueError("not a huey message")
        return Message(*fields)
