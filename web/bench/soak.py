"""`huiyin bench soak`: many clerks on the real server for minutes while scans keep arriving.

1. A seeded instance of ``--letters`` letters (``bench web``'s builder) in a fresh folder, and
   ``--clients`` clerk accounts.
2. The real server (``huiyin serve``: waitress and its background worker) on 127.0.0.1.
3. Ingest runs all the time: a feeder draws a new handwritten-looking scan every
   ``--scan-every`` seconds and drops it in the watched intake folder (written under a .part
   name, then renamed, as a scanner does), where the server's worker takes, reads and indexes
   it. The first scan is read before the clock starts, so the OCR model is already in memory.
4. ``--clients`` clerks work for ``--seconds`` (``bench web``'s loop: register, letter,
   search, case, dashboard); the server's RSS (with its children) is sampled every few seconds.

Output: requests, errors (any non-2xx/3xx, exception, or a trip to the login page; plus scans
that failed to ingest), RSS at start and end and its growth, the RSS samples, and the scans fed,
indexed and failed. ``flat`` holds when the median RSS of the run's last fifth of samples is
within FLAT_MB or FLAT_PCT of the median of its first fifth: memory that keeps growing under the
same load is a leak; one reading is noise (a page being read holds its image buffers for a
moment). The idle RSS before and after the run is reported beside it: going from idle to K busy
threads grows the allocator's arenas once, which is not a leak.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from web.bench import bench
from web.bench.web import (
    Clerk,
    Load,
    add_clerks,
    build_instance,
    group_rss_mb,
    run_load,
    start_server,
    stop_server,
    summarize,
)

FLAT_MB = 64.0  # growth allowed over a soak: caches filling, not a leak
FLAT_PCT = 10.0
SAMPLE_S = 5.0
PREFIX = "soak-scan-"
NAMES = ("韩秋菊", "卢振东", "钟晓岚", "祁宝山", "王建军", "李秀英")
MATTERS = ("征地补偿款至今没有发放", "建筑公司拖欠农民工工资", "小区电梯停运无人维修",
           "村道损坏无人修缮", "低保申请迟迟未批")


def scan_lines(number: int) -> list[str]:
    """The text of the number-th fed letter: each one different, so none is a duplicate."""
    rng = random.Random(number)
    name = rng.choice(NAMES)
    return ["尊敬的县信访局领导：", f"我叫{name}，联系电话139{number:08d}。",
            f"我反映的问题是{rng.choice(MATTERS)}，", "请求领导督促解决。",
            f"信访人：{name}  第{number}封"]


class Feeder:
    """Drops a new scan in the intake folder every ``every`` seconds until stopped."""

    def __init__(self, folder: Path, every: float) -> None:
        self.folder, self.every = folder, every
        self.fed = 0
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="soak-feeder", daemon=True)

    def drop(self) -> None:
        """One scan, written whole before it appears under its real name."""
        from ocr import synthetic

        self.fed += 1
        image = synthetic.render_scan(scan_lines(self.fed), seed=self.fed)
        final = self.folder / f"{PREFIX}{self.fed:05d}.png"
        part = final.with_name(final.name + ".part")
        image.save(part, format="PNG")
        part.replace(final)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.drop()
            except OSError as e:
                self.errors.append(f"feeding a scan: {e}")


def ingest_counts(home: Path) -> dict[str, int]:
    """Fed scans as the records see them: indexed, failed, still on the way."""
    from records import Letter
    from records.models import Task
    from web.services.instance import Instance

    with Instance(home) as instance, instance.db.session() as s:
        by_state = dict(s.execute(
            select(Letter.ingest_state, func.count())
            .where(Letter.source_name.like(f"{PREFIX}%")).group_by(Letter.ingest_state)).all())
        failed_tasks = s.scalar(select(func.count()).where(Task.state == "failed")) or 0
    return {"indexed": by_state.get("indexed", 0), "failed": by_state.get("failed", 0),
            "on_the_way": sum(v for k, v in by_state.items() if k not in ("indexed", "failed")),
            "failed_tasks": int(failed_tasks)}


def window_medians(samples: list[tuple[float, float | None]]) -> tuple[float | None, ...]:
    """Median RSS of the first and of the last fifth of the run (one reading is noise: a
    page being read holds its image buffers for a moment)."""
    values = [rss for _, rss in samples if rss is not None]
    if not values:
        return None, None
    fifth = max(1, len(values) // 5)
    return statistics.median(values[:fifth]), statistics.median(values[-fifth:])


def within(growth: float, base: float) -> bool:
    return growth <= FLAT_MB or growth <= base * FLAT_PCT / 100


def settled(counts: dict[str, int], fed: int) -> bool:
    """Every scan fed is indexed or failed (none still in the folder or being read)."""
    return counts["indexed"] + counts["failed"] >= fed


def wait_for(predicate: Any, timeout: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def soak(home: Path, *, letters: int, clients: int, seconds: float, scan_every: float,
         seed: int, say: Any) -> dict[str, Any]:
    """Run the soak on a fresh instance at ``home``; returns the report."""
    say(f"building an instance of {letters} letters")
    built = build_instance(home, letters, seed, say)
    clerks = add_clerks(home, clients)
    intake = home / "intake"
    intake.mkdir(exist_ok=True)
    feeder = Feeder(intake, scan_every)
    process, url = start_server(home, home.parent / "soak-serve.log")
    samples: list[tuple[float, float | None]] = []
    try:
        load = Load(url, letters, built["n_cases"], built["queries"], seed, preview=False)
        say("warming up: one round of every page, one scan read")
        warm = Clerk(load.host, load.port, clerks[0])
        warm.sign_in()
        for route, path in load.routes(random.Random(seed), 1):
            load.timed(warm, route, path)
        warm.connection.close()
        feeder.drop()
        wait_for(lambda: ingest_counts(home)["indexed"] >= 1, 180)
        for tally in (load.times, load.errors, load.untimed):
            tally.clear()
        load.error_samples.clear()
        rss_start = group_rss_mb(process.pid)
        began = time.monotonic()
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(SAMPLE_S):
                samples.append((round(time.monotonic() - began, 1), group_rss_mb(process.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        feeder.thread.start()
        say(f"{clients} clerks for {seconds:g} s, a scan every {scan_every:g} s")
        elapsed = run_load(clerks, seconds, load)
        feeder.stop.set()
        rss_end = group_rss_mb(process.pid)
        sampling.set()
        say("letting the last scans through")
        wait_for(lambda: settled(ingest_counts(home), feeder.fed), 180)
        counts = ingest_counts(home)
        time.sleep(SAMPLE_S)  # the last request threads and OCR buffers settle
        rss_idle_end = group_rss_mb(process.pid)
    finally:
        feeder.stop.set()
        stop_server(process)
    summary = summarize(load, elapsed)
    growth = round((rss_end or 0) - (rss_start or 0), 1)
    early, late = window_medians(samples)
    idle_growth = round((rss_idle_end or 0) - (rss_start or 0), 1)
    trend = round(late - early, 1) if early is not None and late is not None else None
    flat = trend is not None and within(trend, early or 0.0)
    lost = feeder.fed - counts["indexed"] - counts["failed"]
    ingest_errors = counts["failed"] + counts["failed_tasks"] + len(feeder.errors) + lost
    return {
        "clients": clients, "seconds": seconds, "letters": letters, "scan_every_s": scan_every,
        "requests": summary["requests"], "requests_per_s": summary["requests_per_s"],
        "errors": summary["errors"] + ingest_errors,
        "request_errors": summary["errors"], "error_samples": summary["error_samples"]
        + feeder.errors,
        "routes": summary["routes"], "elapsed_s": summary["elapsed_s"],
        "ingest": {"fed": feeder.fed, **counts, "lost": lost},
        "rss_mb": {"start": rss_start, "end": rss_end, "growth": growth,
                   "growth_pct": round(100 * growth / rss_start, 1) if rss_start else None,
                   "idle_end": rss_idle_end, "idle_growth": idle_growth,
                   "early_median": early, "late_median": late, "trend": trend,
                   "max": max([r for _, r in samples if r is not None] + [rss_end or 0.0]),
                   "samples": samples},
        "flat": flat,
        "flat_rule": f"median of the last fifth of the run - that of the first fifth <= "
                     f"{FLAT_MB:g} MB or <= {FLAT_PCT:g}% of it",
        "ok": flat and summary["errors"] + ingest_errors == 0,
    }


@bench.command("soak")
@click.option("--clients", default=50, show_default=True, help="concurrent simulated clerks")
@click.option("--seconds", default=300.0, show_default=True, help="how long they work")
@click.option("--letters", default=2000, show_default=True, help="letters in the instance")
@click.option("--scan-every", default=5.0, show_default=True,
              help="seconds between scans dropped in the intake folder")
@click.option("--seed", default=7, show_default=True)
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="build the instance here and keep it (default: a temporary folder)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def command(clients: int, seconds: float, letters: int, scan_every: float, seed: int,
            keep: Path | None, as_json: bool) -> None:
    """K clerks for N seconds while scans keep arriving: errors, requests, RSS start and end."""
    if clients < 1 or seconds <= 0 or letters < 1 or scan_every <= 0:
        raise click.UsageError("--clients, --seconds, --letters and --scan-every must be positive")

    def say(message: str) -> None:
        click.echo(f"bench soak: {message}", err=True)

    with tempfile.TemporaryDirectory(prefix="huiyin-soak-") as scratch:
        home = keep or Path(scratch) / "instance"
        document = soak(home, letters=letters, clients=clients, seconds=seconds,
                        scan_every=scan_every, seed=seed, say=say)
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    rss = document["rss_mb"]
    click.echo(f"{clients} clerks, {document['elapsed_s']} s: {document['requests']} requests "
               f"({document['requests_per_s']}/s), {document['errors']} errors")
    click.echo(f"scans: {document['ingest']['fed']} fed, {document['ingest']['indexed']} "
               f"indexed, {document['ingest']['failed']} failed")
    click.echo(f"server RSS: {rss['start']} MB at start, {rss['end']} MB at end "
               f"({rss['growth']:+} MB), {rss['idle_end']} MB idle after; median "
               f"{rss['early_median']} MB early, {rss['late_median']} MB late: "
               + ("flat" if document["flat"] else "GREW"))
    for sample in document["error_samples"]:
        click.echo(f"  error: {sample}")
