"""The background worker: claims tasks from the queue and runs them, one at a time.

Task kinds:
    ingest        payload {"letter_id"}: read a stored letter page by page (progress
                  {"step": "ocr", "page": n, "pages": m}), then index it; a file from the
                  watched folder (payload "folder_file") then moves to done/ or failed/.
    intake-file   payload {"file", "name"}: a file taken from the watched folder is registered
                  and stored, and its "ingest" task queued (web.intake.take_folder_file).

A task that raises is logged and failed (it is retried up to records.tasks.MAX_ATTEMPTS
times); a file that cannot be read fails its own task with the reason, never the worker.
Several workers (threads or processes) may share one database: claims are atomic.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from records import tasks
from records.models import utcnow
from web import intake
from web.instance import Instance
from web.pipeline import complete

log = logging.getLogger("huiyin.worker")

LEASE = dt.timedelta(minutes=5)  # renewed after every page, so only a hung worker loses it
POLL_S = 2.0  # seconds between looks at the queue and the watched folder when idle


class Stopped(Exception):
    """The worker was asked to stop in the middle of a task; the task goes back to the queue."""


@dataclass
class Claimed:
    """A claimed task as the worker needs it (no ORM object outlives its session)."""

    id: int
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    letter_id: int | None = None
    attempts: int = 0


class Worker:
    """One worker: `run_once()` runs one task; `run(stop)` runs until the event is set."""

    def __init__(self, instance: Instance, worker_id: str | None = None, *,
                 lease: dt.timedelta = LEASE, poll_s: float = POLL_S,
                 kinds: tuple[str, ...] | None = None, watch_folder: bool = True) -> None:
        self.instance = instance
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.poll_s = poll_s
        self.kinds = kinds
        self.watch_folder = watch_folder
        self.stop_event = threading.Event()
        self._handlers: dict[str, Callable[[Claimed], str | None]] = {
            "ingest": self._ingest, "intake-file": self._intake_file}

    # -- the loop ------------------------------------------------------------------------------

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Work until `stop_event` is set: tasks as they come, the watched folder every poll."""
        if stop_event is not None:
            self.stop_event = stop_event
        log.info("worker %s started", self.worker_id)
        last_scan = 0.0
        while not self.stop_event.is_set():
            if self.watch_folder and time.monotonic() - last_scan >= self.poll_s:
                self.scan()
                last_scan = time.monotonic()
            try:
                ran = self.run_once()
            except Exception:  # the database itself failed: wait, then try again
                log.exception("worker %s could not claim a task", self.worker_id)
                ran = False
            if not ran:
                self.stop_event.wait(self.poll_s)
        log.info("worker %s stopped", self.worker_id)

    def drain(self, *, settle_s: float | None = None) -> dict[str, int]:
        """Take the settled files of the watched folder, run every queued task, then return.

        The folder is looked at twice, `settle_s` apart (default: the poll interval), so that
        a file the scanner is still writing is left for a later run.
        """
        counts = {"done": 0, "failed": 0}
        if self.watch_folder:
            self.scan()
            time.sleep(self.poll_s if settle_s is None else settle_s)
            self.scan()
        while not self.stop_event.is_set():
            outcome = self._run_one()
            if outcome is None:
                break
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts

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
        task = self._claim()
        if task is None:
            return None
        handler = self._handlers.get(task.kind)
        try:
            if handler is None:
                error: str | None = f"未知的任务类型：{task.kind}"
            else:
                error = handler(task)
        except Stopped:
            with self.instance.db.session() as session:
                tasks.release(session, task.id, self.worker_id)
            log.info("task %s (%s) put back: the worker is stopping", task.id, task.kind)
            return "released"
        except Exception as e:  # a bug or a passing fault: fail this attempt, keep working
            log.exception("task %s (%s) failed", task.id, task.kind)
            with self.instance.db.session() as session:
                state = tasks.fail(session, task.id, self.worker_id, f"处理出错：{e}")
            if state != "failed":
                return "retried"
            self._settle_failed(task, f"处理出错：{e}")
            return "failed"
        with self.instance.db.session() as session:
            if error is None:
                tasks.finish(session, task.id, self.worker_id)
            else:
                tasks.fail(session, task.id, self.worker_id, error, permanent=True)
        return "failed" if error else "done"

    def _claim(self) -> Claimed | None:
        with self.instance.db.session() as session:
            task = tasks.claim(session, self.worker_id, utcnow(), self.lease, self.kinds)
            if task is None:
                return None
            return Claimed(task.id, task.kind, dict(task.payload or {}), task.letter_id,
                           task.attempts)

    def _report(self, task: Claimed, **values: Any) -> None:
        """Record progress and renew the lease; stop here when the worker is stopping."""
        with self.instance.db.session() as session:
            tasks.progress(session, task.id, **values)
            if not tasks.heartbeat(session, task.id, self.worker_id, utcnow(), self.lease):
                log.warning("task %s: lease lost to another worker", task.id)
        if self.stop_event.is_set():
            raise Stopped

    # -- the task kinds ---------------------------------------------------------------------

    def _ingest(self, task: Claimed) -> str | None:
        letter_id = int(task.payload["letter_id"])
        result = complete(self.instance, letter_id, on_page=lambda n, m: self._report(
            task, step="ocr", page=n, pages=m))
        if result.error:
            error = self._letter_error(letter_id) or result.error
        else:
            self._report(task, step="indexed", page=result.pages, pages=result.pages)
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
