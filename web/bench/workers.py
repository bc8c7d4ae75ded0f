"""`huiyin bench workers`: OCR throughput of one worker process, then two, on one queue.

N drawn one-page scans (ocr.synthetic, one letter each) are OCR'd and indexed by real
`huiyin worker` processes, first one, then two, each run in a fresh instance. The workers are
started and warmed first (every one has read a letter, so each has loaded its OCR model),
then the N letters are registered and queued and timed until the last one is indexed. The
figure of BENCHMARKS.md: two workers on two cores read at least 1.8 times as many pages a
second as one. ``--queue redis`` runs the same through a throwaway redis-server
(web.bench.redisserver); the default is the embedded queue in the database.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from web.bench import bench

TARGET_RATIO = 1.8
WARM_TIMEOUT_S = 300.0
PLACES = ("石桥镇枣树营村", "城关镇南关社区", "城关镇北苑小区", "河口乡柳湾村")
MATTERS = ("征地补偿款至今没有发放", "建筑公司拖欠农民工工资", "小区电梯停运无人维修",
           "村道损坏多年无人修复")


def draw_letters(folder: Path, count: int, *, first_seed: int = 0) -> list[Path]:
    """One-page handwritten-looking letters, each different (so none is a duplicate)."""
    from ocr import synthetic

    paths = []
    for seed in range(first_seed, first_seed + count):
        phone = f"139{seed:08d}"
        lines = ["尊敬的县信访局领导：", f"我家住{PLACES[seed % len(PLACES)]}，",
                 f"联系电话{phone}。", f"我反映的问题是{MATTERS[seed % len(MATTERS)]}，",
                 "请求领导督促解决。", f"信访人编号{seed}"]
        path = folder / f"letter-{seed:04d}.png"
        synthetic.render_scan(lines, seed=seed).save(path)
        paths.append(path)
    return paths


def _register(home: Path, paths: list[Path]) -> list[int]:
    """Register and store the scans; their "ingest" tasks are queued. Returns the task ids."""
    from web.services.instance import Instance
    from web.services.intake import Received, register

    ids = []
    with Instance(home) as instance:
        for path in paths:
            received = register(instance, path, Received(file=path.name), actor="bench")
            if received.task_id is None:
                raise click.ClickException(f"{path.name}: {received.error or 'not queued'}")
            ids.append(received.task_id)
    return ids


def _finished(home: Path, ids: list[int]) -> tuple[int, int]:
    """(done, failed) among these tasks."""
    from sqlalchemy import func, select

    from records import Task
    from web.services.instance import Instance

    with Instance(home) as instance, instance.db.session() as session:
        rows = dict(session.execute(
            select(Task.state, func.count()).where(Task.id.in_(ids)).group_by(Task.state)
        ).all())
    return int(rows.get("done", 0)), int(rows.get("failed", 0))


def _wait(home: Path, ids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, failed = _finished(home, ids)
        if failed:
            raise click.ClickException(f"{failed} task(s) failed; see the workers' logs")
        if done == len(ids):
            return
        time.sleep(0.05)
    raise click.ClickException(f"the tasks did not finish within {timeout:.0f} s")


@contextlib.contextmanager
def _workers(home: Path, count: int, logs: Path) -> Iterator[list[Path]]:
    """`huiyin worker` processes on this instance, stopped (SIGTERM) on exit."""
    huiyin = str(Path(sys.executable).parent / "huiyin")
    processes, files = [], []
    try:
        for n in range(count):
            log = logs / f"worker-{count}-{n}.log"
            with log.open("wb") as out:
                processes.append(subprocess.Popen(
                    [huiyin, "--home", str(home), "worker", "--poll", "0.1"],
                    stdout=subprocess.DEVNULL, stderr=out))
            files.append(log)
        yield files
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _warm(home: Path, logs: list[Path], scans: Path, next_seed: int) -> int:
    """Feed warm-up letters until every worker has read one; returns the next free seed."""
    deadline = time.monotonic() + WARM_TIMEOUT_S
    while time.monotonic() < deadline:
        if all("(ingest) taken" in log.read_text(errors="replace") for log in logs):
            return next_seed
        batch = draw_letters(scans, len(logs), first_seed=next_seed)
        next_seed += len(batch)
        _wait(home, _register(home, batch), WARM_TIMEOUT_S)
    raise click.ClickException("the workers did not all start reading in time")


def run_workers(pages: int, counts: tuple[int, ...], queue_url: str, work: Path,
                measured: list[Path]) -> list[dict[str, Any]]:
    """Time each number of workers on the same scans, each run in a fresh instance."""
    from web.services.instance import Instance

    runs = []
    for count in counts:
        home = work / f"instance-{count}"
        home.mkdir()
        if queue_url:
            (home / "config.toml").write_text(f'queue_url = "{queue_url}"\n', encoding="utf-8")
        with Instance(home) as instance:
            instance.create()
        logs_dir = work / "logs"
        logs_dir.mkdir(exist_ok=True)
        with _workers(home, count, logs_dir) as logs:
            _warm(home, logs, work / "warm", 100_000 * count)
            start = time.perf_counter()
            ids = _register(home, measured)
            registered = time.perf_counter() - start
            _wait(home, ids, 60.0 * pages)
            seconds = time.perf_counter() - start
        runs.append({"workers": count, "pages": pages, "seconds": round(seconds, 2),
                     "register_s": round(registered, 2),
                     "pages_per_s": round(pages / seconds, 3)})
    return runs


@bench.command("workers")
@click.option("--pages", default=40, show_default=True, type=click.IntRange(1, 10_000),
              help="One-page letters OCR'd in each run.")
@click.option("--queue", "queue", type=click.Choice(["embedded", "redis"]), default="embedded",
              show_default=True, help="The embedded queue (database) or a throwaway Redis.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def workers_command(pages: int, queue: str, as_json: bool) -> None:
    """OCR throughput: 1 worker process, then 2, on one queue (pages/s and the ratio)."""
    from web.bench.redisserver import redis_server

    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="huiyin-bench-")))
        url = stack.enter_context(redis_server()).url if queue == "redis" else ""
        (work / "warm").mkdir()
        scans = work / "scans"
        scans.mkdir()
        measured = draw_letters(scans, pages)
        runs = run_workers(pages, (1, 2), url, work, measured)
    ratio = round(runs[1]["pages_per_s"] / runs[0]["pages_per_s"], 2)
    document = {"benchmark": "workers", "queue": queue, "cores": os.cpu_count(),
                "pages": pages, "runs": runs, "ratio_2_to_1": ratio,
                "target_ratio": TARGET_RATIO, "met": ratio >= TARGET_RATIO}
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False))
        return
    for run in runs:
        click.echo(f"{run['workers']} worker(s): {run['pages']} pages in {run['seconds']} s, "
                   f"{run['pages_per_s']} pages/s")
    click.echo(f"2 workers / 1 worker: {ratio}x (target >= {TARGET_RATIO}, "
               f"{'met' if document['met'] else 'NOT met'}; {os.cpu_count()} cores)")
