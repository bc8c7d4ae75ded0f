"""The background worker: claims tasks from the queue and runs them, one at a time.

Task kinds:
    ingest        payload {"letter_id"}: read a stored letter page by page (progress
                  {"step": "ocr", "page": n, "pages": m}), then index it; a file from the
                  watched folder (payload "folder_file") then moves to done/ or failed/.
    intake-file   payload {"file", "name"}: a file taken from the watched folder is registered
                  and stored, and its "ingest" task queued (web.services.intake.take_folder_file).
    index         payload {"letter_id"}: index a letter again (after its fields changed).
                  Queued by web.services.indexing.index_or_queue when a line edit, a review, a case
                  action or an ingest found the index busy or unavailable (the user's change
                  is saved; the letter is searchable again once this runs), and for every
                  letter of a case of many whose status or unit changed. A letter its ingest
                  left "read" becomes "indexed"; one not yet read is left to its ingest.
    index-upgrade payload {"version"}: bring an index written by an older version up to what it
                  now holds of a letter (web.services.indexing.upgrade_index: the letters with
                  the OCR's alternatives added again, resumably; progress {"step", "done",
                  "total"}). Queued by every worker at its start when the index needs it.
    reply         payload {"letter_id", "template", "data", "pdf", "sign", "actor"}: render a
                  reply (web.services.replies.generate_reply); a retry after the reply was recorded
                  finds it (its data names the task) instead of recording a second one.
                  Queued by the reply form when the setting background_replies is on
                  (web.services.reply_tasks); the form's page follows the task to its reply.

A task that raises is logged and failed (it is retried up to records.tasks.MAX_ATTEMPTS
times); a file that cannot be read fails its own task with the reason, never the worker. An
original this worker cannot see (the blob store is not mounted here) fails the attempt with
the blob and the path it looked at; the task is retried, so a worker that sees the shared
store finishes it, and after MAX_ATTEMPTS it stays failed with that reason (the letter and
its original untouched).

A worker killed mid-task (SIGKILL, out of memory, a power cut) cannot give its task back; its
lease would keep the task for up to LEASE. Every worker at its start (and so `huiyin serve`,
which starts one) ends the leases of the workers of this machine whose process is gone
(`take_back_orphans`): a worker's id names its host and process.

Several workers (threads or processes) may share one database: claims are atomic. Where the
work comes from is the instance's queue (web.worker.queue): the database itself, or Redis for
workers
on many machines. A worker that loses its lease (it hung, and another worker took the task
over) stops that task at the next page instead of reading the same pages again.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from records import tasks
from records.models import utcnow
from web.services import intake
from web.services.instance import Instance
from web.services.pipeline import OriginalNotVisible, complete
from web.worker.queue import Claimed, TaskQueue, open_queue

__all__ = ["Claimed", "Worker", "take_back_orphans"]

log = logging.getLogger("huiyin.worker")

LEASE = dt.timedelta(minutes=5)  # renewed after every page, so only a hung worker loses it
POLL_S = 2.0  # seconds between looks at the queue and the watched folder when idle
PRUNE_EVERY_S = 3600.0  # the public query page's old tries are forgotten hourly


def _give_back_memory() -> None:
    """Return the C heap's free pages to the system after a task.

    Reading scans of different sizes fragments glibc's heap (numpy and ONNX buffers): without
    this a long-running worker's memory grows scan after scan although nothing is kept.
    """
    if sys.platform == "linux":
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to do
            pass


def worker_id_of_this_process() -> str:
    """host:pid:random — the host and process let a later worker see that this one is gone."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _gone(worker_id: str, host: str) -> bool:
    """Whether the worker named by the id ran on this host and its process no longer exists."""
    parts = worker_id.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False  # another machine's worker, or an id of another form: its lease decides
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # a process of another user has that number now
        return False
    return False


def take_back_orphans(instance: Instance) -> int:
    """End the leases of this machine's dead workers; returns the number of tasks taken back."""
    host = socket.gethostname()
    with instance.db.session() as session:
        dead = [w for w in tasks.running_workers(session) if _gone(w, host)]
        taken = tasks.expire_leases(session, dead, utcnow())
    if taken:
        log.warning("%s task(s) of worker(s) no longer running taken back: %s", taken,
                    ", ".join(dead))
    return taken


class Stopped(Exception):
    """The worker was asked to stop in the middle of a task; the task goes back to the queue."""


class LeaseLost(Exception):
    """Another worker took the task over (this one was too slow to renew its lease)."""


class Worker:
    """One worker: `run_once()` runs one task; `run(stop)` runs until the event is set."""

    def __init__(self, instance: Instance, worker_id: str | None = None, *,
                 lease: dt.timedelta = LEASE, poll_s: float = POLL_S,
                 kinds: tuple[str, ...] | None = None, watch_folder: bool = True,
                 queue: TaskQueue | None = None) -> None:
        self.instance = instance
        self.worker_id = worker_id or worker_id_of_this_process()
        self.lease = lease
        self.poll_s = poll_s
        self.kinds = kinds
        self.watch_folder = watch_folder
        self.queue = queue or open_queue(instance, wait_s=max(poll_s, 0.5))
        self.stop_event = threading.Event()
        self._handlers: dict[str, Callable[[Claimed], str | None]] = {
            "ingest": self._ingest, "intake-file": self._intake_file, "index": self._index,
            "reply": self._reply, "index-upgrade": self._index_upgrade}

    # -- the loop ------------------------------------------------------------------------------

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Work until `stop_event` is set: tasks as they come, the watched folder every poll."""
        if stop_event is not None:
            self.stop_event = stop_event
        log.info("worker %s started (%s queue)", self.worker_id, type(self.queue).__name__)
        self._take_back_orphans()
        self._queue_upgrade()
        problem = self.originals_problem()
        if problem:
            log.error("worker %s: %s", self.worker_id, problem)
        last_scan = last_prune = 0.0
        while not self.stop_event.is_set():
            if self.watch_folder and time.monotonic() - last_scan >= self.poll_s:
                self.scan()
                last_scan = time.monotonic()
            try:
                ran = self.run_once()
            except Exception:  # the database or Redis failed: wait, then try again
                log.exception("worker %s could not claim a task", self.worker_id)
                self.stop_event.wait(self.poll_s)
                continue
            due = not last_prune or time.monotonic() - last_prune >= PRUNE_EVERY_S
            if not ran and due:
                self.prune()  # when idle, never before a waiting task
                last_prune = time.monotonic()
            if not ran and not self.queue.blocking:
                self.stop_event.wait(self.poll_s)
        self.queue.close()
        log.info("worker %s stopped", self.worker_id)

    def drain(self, *, settle_s: float | None = None) -> dict[str, int]:
        """Take the settled files of the watched folder, run every queued task, then return.

        The folder is looked at twice, `settle_s` apart (default: the poll interval), so that
        a file the scanner is still writing is left for a later run.
        """
        counts = {"done": 0, "failed": 0}
        self._take_back_orphans()
        self._queue_upgrade()
        if self.watch_folder:
            self.scan()
            time.sleep(self.poll_s if settle_s is None else settle_s)
            self.scan()
        while not self.stop_event.is_set():
            outcome = self._run_one()
            if outcome is None:
                if self.queue.has_work():
                    continue  # Redis: a message is on its way, or another worker's duplicate
                break
            counts[outcome] = counts.get(outcome, 0) + 1
        self.prune()  # after the tasks: never before one
        return counts

    def _take_back_orphans(self) -> None:
        try:
            take_back_orphans(self.instance)
        except Exception:  # the database is not there yet: the leases run out instead
            log.exception("worker %s could not look for dead workers' tasks", self.worker_id)

    def _queue_upgrade(self) -> None:
        """An index written by an older version gets its upgrade queued (never raises)."""
        from web.services.indexing import queue_upgrade

        try:
            queued = queue_upgrade(self.instance)
        except Exception:  # the index or the database is not there yet: the next start
            log.exception("worker %s could not look at the index's version", self.worker_id)
            return
        if queued is not None:
            log.info("worker %s: the index upgrade is task %s", self.worker_id, queued)

    def prune(self) -> int:
        """Forget the public query page's old tries (public_query.prune_tries); never raises."""
        try:
            from web.services.public_query import prune_tries

            return prune_tries(self.instance)
        except Exception:  # the database is not there yet: the next hour
            log.exception("worker %s could not prune the query page's tries", self.worker_id)
            return 0

    def originals_problem(self) -> str | None:
        """Can this worker see the originals? The newest stored letter's blob is looked for."""
        from sqlalchemy import select

        from records import Letter

        with self.instance.db.session() as session:
            sha256 = session.scalars(
                select(Letter.source_sha256).where(Letter.ingest_state != "registered")
                .order_by(Letter.id.desc()).limit(1)).first()
        if sha256 is None or self.instance.blobs.exists(sha256):
            return None
        return (f"the original {sha256} (the newest letter's) is not at "
                f"{self.instance.blobs.path(sha256)}: mount the shared blob store there, or "
                "every task that reads an original will fail on this worker")

    def scan(self) -> list[int]:
        """Look at the watched folder once; a problem there is logged, never raised."""
        try:
            return intake.scan_folder(self.instance)
        except Exception:
            log.exception("the watched folder %s could not be read",
                          intake.intake_folder(self.instance))
            return []

    def run_once(self) -> bool:
        """Claim one task and run it; False when the queue had nothing for this worker."""
        return self._run_one() is not None

    def _run_one(self) -> str | None:
        task = self.queue.take(self.worker_id, self.lease, self.kinds)
        if task is None:
            return None
        try:
            return self._run(task)
        finally:
            _give_back_memory()

    def _run(self, task: Claimed) -> str:
        log.info("task %s (%s) taken, attempt %s", task.id, task.kind, task.attempts)
        handler = self._handlers.get(task.kind)
        try:
            if handler is None:
                error: str | None = f"未知的任务类型：{task.kind}"
            else:
                error = handler(task)
        except Stopped:
            with self.instance.db.session() as session:
                tasks.release(session, task.id, self.worker_id)
            self.queue.released(task)
            log.info("task %s (%s) put back: the worker is stopping", task.id, task.kind)
            return "released"
        except LeaseLost:
            log.warning("task %s (%s) left to the worker that took it over", task.id, task.kind)
            return "lost"
        except OriginalNotVisible as e:
            return self._fail_attempt(task, self._not_visible(e))
        except Exception as e:  # a bug or a passing fault: fail this attempt, keep working
            log.exception("task %s (%s) failed", task.id, task.kind)
            return self._fail_attempt(task, f"处理出错：{e}")
        with self.instance.db.session() as session:
            if error is None:
                tasks.finish(session, task.id, self.worker_id)
            else:
                tasks.fail(session, task.id, self.worker_id, error, permanent=True)
        log.info("task %s (%s) %s", task.id, task.kind, f"failed: {error}" if error else "done")
        return "failed" if error else "done"

    def _fail_attempt(self, task: Claimed, error: str) -> str:
        """This attempt failed: the task is retried, or (its attempts used) settled as failed."""
        with self.instance.db.session() as session:
            state = tasks.fail(session, task.id, self.worker_id, error)
        if state != "failed":
            return "retried"
        self._settle_failed(task, error)
        return "failed"

    def _not_visible(self, e: OriginalNotVisible) -> str:
        log.error("task: original %s of letter %s not found at %s: is the shared blob store "
                  "mounted on worker %s?", e.sha256, e.reg_no, e.path, self.worker_id)
        return (f"本工作进程看不到原件：{e.path} 不存在（来信 {e.reg_no} 的原件 {e.sha256}，"
                f"工作进程 {self.worker_id}）。请确认每台运行 huiyin worker 的机器都挂载了同一个"
                f"原件库 {e.path.parents[2]}")

    def _report(self, task: Claimed, **values: Any) -> None:
        """Record progress and renew the lease; stop here when the worker is stopping."""
        with self.instance.db.session() as session:
            tasks.progress(session, task.id, **values)
            if not tasks.heartbeat(session, task.id, self.worker_id, utcnow(), self.lease):
                raise LeaseLost
        if self.stop_event.is_set():
            raise Stopped

    # -- the task kinds ---------------------------------------------------------------------

    def _ingest(self, task: Claimed) -> str | None:
        letter_id = int(task.payload["letter_id"])

        def on_page(done: int, total: int) -> None:
            if done:
                log.info("task %s letter %s: page %s of %s read", task.id, letter_id, done,
                         total)
            self._report(task, step="ocr", page=done, pages=total)

        result = complete(self.instance, letter_id, on_page=on_page)
        if result.error:
            error = self._letter_error(letter_id) or result.error
        else:  # the index busy: read and kept, and an "index" task makes it searchable
            self._report(task, step="index-queued" if result.index_queued else "indexed",
                         page=result.pages, pages=result.pages)
            error = None
        log.info("ingest %s", intake.describe(result))
        folder_file = task.payload.get("folder_file")
        if folder_file:
            intake.settle_folder_file(self.instance, str(folder_file), result.file, error=error)
        return error

    def _letter_error(self, letter_id: int) -> str | None:
        from records import Letter

        with self.instance.db.session() as session:
            letter = session.get(Letter, letter_id)
            if letter is None or not letter.ingest_error:
                return None
            return f"{letter.ingest_error}（原件已保留，登记号 {letter.reg_no}）"

    def _intake_file(self, task: Claimed) -> str | None:
        received = intake.take_folder_file(self.instance, task.payload)
        with self.instance.db.session() as session:
            tasks.progress(session, task.id, step="registered", **received.as_dict())
        log.info("intake folder: %s -> %s", received.file,
                 received.error or received.reg_no)
        return received.error

    def _index(self, task: Claimed) -> str | None:
        from records import Letter
        from records import intake as records_intake
        from web.services.indexing import SEARCHABLE, index_letters

        letter_id = int(task.payload["letter_id"])
        with self.instance.db.session() as session:
            letter = session.get(Letter, letter_id)
            if letter is None:
                return f"来信 {letter_id} 不存在"
            reg_no = letter.reg_no
            if letter.ingest_state not in SEARCHABLE:  # not read yet: its ingest indexes it
                log.info("task %s: letter %s is %s, not indexed", task.id, reg_no,
                         letter.ingest_state)
                return None
            index_letters(self.instance, [letter])
            if letter.ingest_state == "read":  # its ingest found the index busy
                records_intake.set_state(session, letter, "indexed")
        self._report(task, step="indexed", reg_no=reg_no)
        log.info("task %s: letter %s indexed", task.id, reg_no)
        return None

    def _index_upgrade(self, task: Claimed) -> str | None:
        from web.services.indexing import upgrade_index

        def on_batch(done: int, total: int) -> None:
            self._report(task, step="index-upgrade", done=done, total=total)

        redone = upgrade_index(self.instance, on_batch)
        self._report(task, step="upgraded", letters=redone)
        return None

    def _reply(self, task: Claimed) -> str | None:
        import letters
        from records import RecordsError
        from web.services.errors import ServiceError
        from web.services.replies import generate_reply

        payload = task.payload
        letter_id, template = int(payload["letter_id"]), str(payload["template"])
        recorded = self._reply_of_task(task, letter_id, template)
        if recorded is None:
            try:
                outcome = generate_reply(
                    self.instance, letter_id, template, out_dir=None,
                    actor=str(payload.get("actor") or "worker"),
                    data={**dict(payload.get("data") or {}), REPLY_TASK_KEY: task.id},
                    pdf=bool(payload.get("pdf", True)), sign=bool(payload.get("sign")))
            except (ServiceError, RecordsError, letters.LettersError) as e:
                return f"答复未生成：{e}"
            recorded = outcome.reply_id
        self._report(task, step="replied", reply_id=recorded)
        log.info("task %s: reply %s for letter %s", task.id, recorded, letter_id)
        return None

    def _reply_of_task(self, task: Claimed, letter_id: int, template: str) -> int | None:
        """The reply an earlier attempt of this task recorded before its worker died, if any."""
        if task.attempts <= 1:
            return None
        from sqlalchemy import select

        from records import Reply

        with self.instance.db.session() as session:
            rows = session.execute(select(Reply.id, Reply.data).where(
                Reply.letter_id == letter_id, Reply.template == template)).all()
        return next((reply_id for reply_id, data in rows
                     if (data or {}).get(REPLY_TASK_KEY) == task.id), None)

    def _settle_failed(self, task: Claimed, error: str) -> None:
        """A task that will not be retried: its folder file goes to failed/ with the reason."""
        try:
            if task.kind == "intake-file":
                intake.settle_folder_file(self.instance, str(task.payload.get("file", "")),
                                          str(task.payload.get("name", "")), error=error)
            elif task.kind == "ingest" and task.payload.get("folder_file"):
                intake.settle_folder_file(self.instance, str(task.payload["folder_file"]),
                                          str(task.payload["folder_file"]).split("-", 1)[-1],
                                          error=error)
        except OSError:
            log.exception("task %s: could not move its file to failed/", task.id)


REPLY_TASK_KEY = "queue_task_id"  # in a reply's recorded data: the task that rendered it
