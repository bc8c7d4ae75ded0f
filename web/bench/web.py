"""`huiyin bench web`: the web application under K concurrent clerks, on a seeded instance.

1. Build (or reuse) an instance of ``--n`` letters: the corpus of ``bench search`` (names,
   villages, topics, ID and phone numbers), written with bulk inserts — no OCR — with one page
   each, their petitioners, and cases for about 60% of them (a person's follow-ups join the
   same case), spread over units and workflow stages; then indexed through
   ``web.services.indexing.reindex`` (the product's path). The instance is cached under a folder
   keyed
   by N and seed, so a second run starts at once.
2. Start the real server (``huiyin serve``: gunicorn) on 127.0.0.1 in its own process group.
3. ``--clients`` threads, each a clerk with its own keep-alive connection and session cookie,
   sign in once, then loop for ``--seconds``: the register, a letter, a search, a case, the
   dashboard (and a reply preview, when the replies area has one), reading each page for a
   random 0 to 2 × ``--think`` seconds (``--think 0``: no pause, the server saturated).
   Latency is measured per route from request sent to body read; any status other than
   2xx/3xx, an exception, or a redirect to the login page counts as an error.

4. The rates over the last year, as ``huiyin stats --from <today-365d>`` computes them, timed
   in-process (3 runs; web.bench.web_sql).

Output: per route count, p50, p95, max, errors; requests/s; the server's RSS (with its
children) at start and end; whether every page except documents kept p95 ≤ 200 ms; the letter
page's p95 and the rates' seconds against issue 9's targets (100 ms, 5 s).

``--postgres``: the records and the search index (search_engine postgres) in a throwaway
PostgreSQL server (the settings of ``bench search``), so the instance is built on every run;
``--explain`` adds EXPLAIN (ANALYZE, BUFFERS) of one letter page's SQL and of case_facts'.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import hashlib
import html.parser
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from sqlalchemy import insert, select

from web.app.server import huiyin_command
from web.bench import bench, pgserver
from web.bench.search import PG_SETTINGS, TOPICS, TOWNSHIPS, synthetic_corpus
from web.bench.web_sql import RATES_RUNS, analyze, explain, postgres_config, rates_year

TARGET_P95_MS = 200.0
LETTER_TARGET_P95_MS = 100.0  # issue 9: a letter page at 1,000,000 letters
RATES_TARGET_S = 5.0  # issue 9: the rates over a year at 1,000,000 letters
BUILD_FORMAT = 1  # bump when the seeded instance changes shape: old caches are rebuilt
INSERT_BATCH = 5000
PASSWORD = "bench-password-42"
PREVIEW_EVERY = 5  # a clerk renders a reply preview in one round of five
# A simulated clerk reads a page for a random 0-0.4 s before the next: about 4 pages a second,
# far faster than people read (they take seconds), yet not the no-pause flood of --think 0.
THINK_S = 0.2
START_TIMEOUT = 120.0
# Documents (rendering a reply) are excluded from the page target (BENCHMARKS.md / issue 7);
# sign-in is slow on purpose (Argon2id, memory-hard) and happens once per clerk.
EXCLUDED = {"reply_preview": "renders a document (LibreOffice), not a page",
            "login": "Argon2id is slow on purpose"}
DEPARTMENTS = ["县自然资源局", "县人社局", "县住建局", "县生态环境局", "县卫健委", "县民政局"]
CATEGORY_UNIT = {"征地补偿": "县自然资源局", "拖欠工资": "县人社局", "拆迁安置": "县住建局",
                 "物业维修": "县住建局", "环境污染": "县生态环境局", "宅基地纠纷": "县自然资源局",
                 "医疗纠纷": "县卫健委", "低保申请": "县民政局"}
# Stages by age of the matter: recent ones are open, old ones mostly finished.
RECENT_STAGES = {"registered": 20, "assigned": 15, "accepted": 15, "handling": 35, "replied": 10,
                 "not_accepted": 3, "transferred": 2}
OLD_STAGES = {"closed": 60, "replied": 8, "review_replied": 6, "review_requested": 3,
              "not_accepted": 8, "transferred": 8, "withdrawn": 4, "handling": 3}


# -- the server as a subprocess (also used by tests/e2e) ------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, log: Path, *, port: int | None = None,
                 timeout: float = START_TIMEOUT) -> tuple[subprocess.Popen[bytes], str]:
    """`huiyin serve` on 127.0.0.1 in a new process group; returns once /login answers 200."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "HUIYIN_PUBLIC_URL": url}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*huiyin_command(), "--home", str(home), "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            preexec_fn=_end_with_parent if sys.platform == "linux" else None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"huiyin serve exited with {process.returncode}:\n"
                               + log.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=5) as response:
                if response.status == 200:
                    return process, url
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    stop_server(process)
    raise RuntimeError(f"huiyin serve did not answer within {timeout:.0f} s:\n"
                       + log.read_text(errors="replace")[-3000:])


def _end_with_parent() -> None:
    """In the child before exec: SIGINT when the process that started us dies (even by -9)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop the server and everything it started, even helpers in a session of their own.

    SIGINT first (the server ends like on Ctrl+C and its atexit hooks stop LibreOffice), then
    SIGKILL to its process group and to any descendant still alive. A second call does
    nothing: once reaped, the ids may belong to someone else.
    """
    if process.returncode is not None:
        return
    family = descendants(process.pid)
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        pass
    family |= descendants(process.pid)
    for pid in (process.pid, *family):
        try:  # the group: children that outlived their parent; then the escaped ones
            if pid == process.pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    process.wait(timeout=10)


def descendants(pid: int) -> set[int]:
    """Every live descendant of a process (Linux /proc; empty elsewhere)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            for child in children:
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def group_rss_mb(pid: int) -> float | None:
    """Resident memory of a process and its descendants (Linux /proc), in MB."""
    total = 0
    for member in (pid, *descendants(pid)):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        total += int(found.group(1)) if found else 0
    return round(total / 1024, 1) if Path("/proc").is_dir() else None


def group_cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by a process and its live descendants, by name.

    Unlike latency, this does not depend on what else the machine is doing: divided by the
    requests served, it is what a page costs.
    """
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    used: dict[str, float] = defaultdict(float)
    for member in (pid, *descendants(pid)):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        name = _role(member, stat[stat.index("(") + 1:stat.rindex(")")])
        fields = stat[stat.rindex(")") + 2:].split()
        used[name] += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return dict(used)


def _role(pid: int, name: str) -> str:
    """What a process of the server is for: web pages, background worker, LibreOffice, ..."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return name
    for marker, role in (("web.app.server", "web"), (" worker", "worker"),
                         ("soffice", "libreoffice"), ("unoserver", "libreoffice"),
                         (" serve", "supervisor")):
        if marker in command:
            return role
    return name


# -- the seeded instance ---------------------------------------------------------------------


def cache_folder(root: Path, n: int, seed: int) -> Path:
    return root / f"n{n}-seed{seed}"


# An office states its phone and the address citizens verify replies at before replies go out
# (web.services.settings): the bench's office does too (the address is never fetched).
BENCH_OFFICE = {"office_phone": "0371-6688 1234", "public_url": "https://xinfang.example.gov.cn"}


def _office_settings(home: Path) -> None:
    """Give the bench instance the settings a real office has entered (and, for the years the
    holidays library has no notice for yet, their statutory days named as an estimate: the
    cases' deadlines fall there)."""
    path = home / "config.toml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    missing = [f'{k} = "{v}"' for k, v in BENCH_OFFICE.items() if f"{k} =" not in text]
    if missing:
        path.write_text(text.rstrip("\n") + ("\n" if text.strip() else "") + "\n".join(missing)
                        + "\n", encoding="utf-8")


def _estimated_years(instance: Any) -> None:
    from records.calendar import library_years
    from web.services import admin

    for year in range(max(library_years()) + 1, instance.today().year + 2):
        admin.estimate_year(instance, year, actor="bench",
                            note="基准测试：仅按法定节假日估计")


def build_instance(home: Path, n: int, seed: int, say: Callable[[str], None],
                   config: str | None = None) -> dict[str, Any]:
    """Make (or reuse) the seeded instance at ``home``; returns what was built and how long.

    ``config``: the text of its config.toml (another database, another search engine).
    """
    from web.services.instance import Instance

    marker = home / "bench-web.json"
    if marker.exists():
        _office_settings(home)
        built = json.loads(marker.read_text(encoding="utf-8"))
        if built.get("format") == BUILD_FORMAT:
            with Instance(home) as instance:
                instance.db.upgrade()  # a newer migration (an index) need not rebuild 100k letters
                _estimated_years(instance)
            if "queries" not in built:  # a cache made before the queries were kept
                built["queries"] = search_queries(synthetic_corpus(n, seed), seed)
                marker.write_text(json.dumps(built, ensure_ascii=False), encoding="utf-8")
            return {**built, "cached": True}
        say("cached instance is out of date: rebuilding")
    if home.exists():
        shutil.rmtree(home)
    started = time.perf_counter()
    corpus = synthetic_corpus(n, seed)
    home.mkdir(parents=True)
    (home / "config.toml").write_text(config or "", encoding="utf-8")
    _office_settings(home)
    with Instance(home) as instance:
        instance.create()
        _estimated_years(instance)
        say(f"inserting {n} letters")
        counts = _insert(instance, corpus, seed)
        inserted = time.perf_counter()
        say(f"inserted in {inserted - started:.0f} s; indexing (web.services.indexing.reindex)")
        from web.services.indexing import reindex

        def progress(done: int, total: int) -> None:
            if done == total or done % 5000 < 500:
                say(f"indexed {done}/{total}")

        reindex(instance, progress, resume=False)
    built = {"format": BUILD_FORMAT, "n_letters": n, "seed": seed, **counts,
             "queries": search_queries(corpus, seed),
             "insert_seconds": round(inserted - started, 1),
             "build_seconds": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(built, ensure_ascii=False), encoding="utf-8")
    return {**built, "cached": False}


def _insert(instance: Any, corpus: list[dict[str, Any]], seed: int) -> dict[str, int]:
    """Units, petitioners, letters with one page, cases: bulk inserts in a few transactions."""
    from records import Case, Letter, Page, Petitioner, Unit
    from records.models import Counter, letter_petitioner, utcnow
    from records.transfer import reset_sequences

    rng = random.Random(seed + 17)
    today = instance.today()
    last = max(dt.date.fromisoformat(row["received"]) for row in corpus)
    shift = (today - dt.timedelta(days=3)) - last  # the newest letter came three days ago
    corpus = sorted(corpus, key=lambda row: (row["received"], row["id"]))
    now = utcnow()
    with instance.db.session() as s:
        unit_ids: dict[str, int] = {}
        for name in [*DEPARTMENTS, *(f"{t}人民政府" for t in TOWNSHIPS)]:
            unit = Unit(name=name, kind="department" if name in DEPARTMENTS else "township",
                        level="county" if name in DEPARTMENTS else "township")
            s.add(unit)
            s.flush()
            unit_ids[name] = unit.id
    people: dict[str, int] = {}  # ID number -> petitioner id
    person_rows = []
    for row in corpus:
        if row["id_number"] not in people:
            people[row["id_number"]] = len(people) + 1
            person_rows.append({"id": people[row["id_number"]], "name": row["petitioner"],
                                "id_number": row["id_number"], "phone": row["phone"],
                                "township": row["township"], "village": row["village"],
                                "address": row["township"] + row["village"], "created_at": now})
    letters: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    open_case: dict[tuple[str, str], int] = {}  # (person, category) -> case id
    sequence: dict[tuple[str, int], int] = defaultdict(int)
    for number, row in enumerate(corpus, start=1):
        received = dt.date.fromisoformat(row["received"]) + shift
        sequence["letter", received.year] += 1
        text = row["text"]
        lines = text.split("\n")
        summary = f"{row['category']}：{lines[2][:60]}" if len(lines) > 2 else row["category"]
        case_id = None
        key = (row["id_number"], row["category"])
        if key in open_case and rng.random() < 0.8:
            case_id = open_case[key]  # a follow-up joins the earlier matter
        elif rng.random() < 0.6:
            sequence["case", received.year] += 1
            case_id = len(cases) + 1
            cases.append(_case(case_id, row, received, today,
                               f"XF-{received.year}-{sequence['case', received.year]:06d}",
                               unit_ids, rng, now))
            open_case[key] = case_id
        letters.append({
            "id": number, "reg_no": f"{received.year}-{sequence['letter', received.year]:06d}",
            "received_on": received, "channel": "letter",
            "source_sha256": hashlib.sha256(f"bench-{row['id']}".encode()).hexdigest(),
            "source_name": f"{row['id']}.jpg", "media_type": "image/jpeg",
            "size_bytes": 400_000 + len(text), "ingest_state": "read", "page_count": 1,
            "text": text, "summary": summary[:255], "township": row["township"],
            "village": row["village"], "category": row["category"], "case_id": case_id,
            "extracted": {"petitioner": row["petitioner"], "phones": [row["phone"]],
                          "id_numbers": [row["id_number"]]},
            "created_at": now, "updated_at": now, "version": 1})
        pages.append({"letter_id": number, "number": 1, "width": 1654, "height": 2339,
                      "source": "ocr", "engine": "bench", "text": text, "mean_score": 0.93,
                      "lines": [{"text": line, "score": 0.93,
                                 "box": [[120, 160 + 80 * k], [1530, 160 + 80 * k],
                                         [1530, 220 + 80 * k], [120, 220 + 80 * k]]}
                                for k, line in enumerate(lines)],
                      "created_at": now})
        links.append({"letter_id": number, "petitioner_id": people[row["id_number"]],
                      "position": 0})
    with instance.db.session() as s:
        for table, rows in ((Petitioner, person_rows), (Case, cases), (Letter, letters),
                            (Page, pages), (letter_petitioner, links)):
            for start in range(0, len(rows), INSERT_BATCH):
                s.execute(insert(table), rows[start:start + INSERT_BATCH])
        for (name, year), value in sequence.items():
            s.add(Counter(name=name, year=year, value=value))
        assert s.scalar(select(Letter.id).order_by(Letter.id.desc()).limit(1)) == len(letters)
        reset_sequences(s.connection())  # PostgreSQL: new rows must not reuse the ids above
    return {"n_cases": len(cases), "n_letters_in_cases": sum(1 for x in letters if x["case_id"]),
            "n_petitioners": len(person_rows)}


def _case(case_id: int, row: dict[str, Any], received: dt.date, today: dt.date, case_no: str,
          unit_ids: dict[str, int], rng: random.Random, now: dt.datetime) -> dict[str, Any]:
    """One matter with a stage that fits its age and the dates that stage needs."""
    weights = RECENT_STAGES if (today - received).days < 120 else OLD_STAGES
    stage = rng.choices(list(weights), weights=list(weights.values()))[0]
    day = received
    dates: dict[str, Any] = {}

    def step(days: int) -> dt.date:
        nonlocal day
        day = min(day + dt.timedelta(days=days), today)
        return day

    if stage == "assigned":
        dates["assigned_on"] = step(rng.randrange(1, 10))
    elif stage not in ("registered", "not_accepted", "transferred"):
        dates["accepted_on"] = step(rng.randrange(1, 14))
    if stage in ("replied", "review_requested", "review_replied", "closed"):
        dates["replied_on"] = step(rng.randrange(20, 60))
        dates["decision"] = rng.choice(("支持", "解释说明", "不予支持"))
    if stage in ("review_requested", "review_replied"):
        dates["review_requested_on"] = step(rng.randrange(5, 28))
    if stage == "review_replied":
        dates["review_replied_on"] = step(rng.randrange(10, 30))
    if stage in ("not_accepted", "transferred", "withdrawn", "closed"):
        step(rng.randrange(1, 30))
    unit = CATEGORY_UNIT.get(row["category"], DEPARTMENTS[0])
    if rng.random() < 0.4:
        unit = f"{row['township']}人民政府"
    routed = stage not in ("registered", "not_accepted", "transferred")
    title = f"{row['petitioner']}反映{row['category']}问题"
    return {"id": case_id, "case_no": case_no, "title": title,
            "status": stage, "unit_id": unit_ids[unit] if routed else None,
            "township": row["township"], "category": row["category"], "opened_on": received,
            "last_action_on": day if day != received else None, "flags": [],
            "created_at": now, "updated_at": now, "version": 1, **dates}


def add_clerks(home: Path, count: int) -> list[str]:
    """bench-clerk-01 ... (idempotent), all with PASSWORD."""
    from records import User
    from web.services.access import hash_password
    from web.services.instance import Instance

    names = [f"bench-clerk-{k:02d}" for k in range(1, count + 1)]
    with Instance(home) as instance, instance.db.session() as s:
        have = set(s.scalars(select(User.username).where(User.username.in_(names))))
        password = hash_password(PASSWORD)
        for name in names:
            if name not in have:
                s.add(User(username=name, display_name=name, role="clerk", password_hash=password))
    return names


def search_queries(corpus: list[dict[str, Any]], seed: int, count: int = 200) -> list[str]:
    """What clerks type: a person's name, a village, a topic, a village with a topic."""
    rng = random.Random(seed + 3)
    queries = []
    for _ in range(count):
        row = rng.choice(corpus)
        kind = rng.randrange(4)
        queries.append([row["petitioner"], row["village"], rng.choice(list(TOPICS)),
                        f"{row['village']} {row['category']}"][kind])
    return queries


# -- the simulated clerks ----------------------------------------------------------------------


class Clerk:
    """One clerk: a keep-alive connection, a session cookie, latencies per route."""

    def __init__(self, host: str, port: int, username: str) -> None:
        self.connection = http.client.HTTPConnection(host, port, timeout=60)
        self.username = username
        self.cookies: dict[str, str] = {}
        self.last_page = ""

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Status, Location and body text; cookies kept; one reconnect on a dropped line."""
        sent = {**(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=sent)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", errors="replace")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.connection.close()
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers.get("Location", ""), text

    def sign_in(self) -> None:
        status, _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"login page: status {status}, no CSRF token")
        form = urllib.parse.urlencode({"username": self.username, "password": PASSWORD,
                                       "csrf_token": token.group(1), "next": ""})
        status, location, _ = self.request(
            "POST", "/login", form.encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302 or "/login" in location:
            raise RuntimeError(f"sign-in refused: status {status}")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Load:
    """The routes, the clerks' loop and the shared tally."""

    def __init__(self, url: str, n_letters: int, n_cases: int, queries: list[str],
                 seed: int, *, preview: bool) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.n_letters, self.n_cases, self.queries = n_letters, n_cases, queries
        self.seed, self.preview = seed, preview
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.untimed: dict[str, int] = defaultdict(int)  # requests that raised: no latency
        self.error_samples: list[str] = []
        self.lock = threading.Lock()

    def routes(self, rng: random.Random, round_number: int) -> list[tuple[str, str]]:
        """One round of a clerk's work, as (route name, path)."""
        letter = rng.randrange(1, self.n_letters + 1)
        query = urllib.parse.quote(rng.choice(self.queries))
        last_page = max(1, min(200, self.n_letters // 50))  # 50 letters to a page
        page = rng.choice((1, 1, 1, 2, 3, rng.randrange(1, last_page + 1)))
        rounds = [("register", f"/?page={min(page, last_page)}"),
                  ("letter", f"/letters/{letter}"),
                  ("search", f"/search?q={query}")]
        if self.n_cases:
            rounds.append(("case", f"/cases/{rng.randrange(1, self.n_cases + 1)}"))
        rounds.append(("dashboard", "/dashboard/"))
        if self.preview:
            rounds.append(("reply_form", f"/replies/new/{letter}"))
            if round_number % PREVIEW_EVERY == 0:
                rounds.append(("reply_preview", f"/replies/new/{letter}/preview"))
        return rounds

    def record(self, route: str, ms: float | None, error: str | None = None) -> None:
        with self.lock:
            if ms is not None:
                self.times[route].append(ms)
            else:
                self.untimed[route] += 1
            if error is not None:
                self.errors[route] += 1
                if len(self.error_samples) < 10:
                    self.error_samples.append(f"{route}: {error}")

    def timed(self, clerk: Clerk, route: str, path: str) -> None:
        """GET the path (or, for a preview, POST the form the clerk saw last) and time it."""
        method, body, headers = "GET", None, None
        if route == "reply_preview":
            fields = reply_form_fields(clerk.last_page)
            if fields is None:
                self.record(route, None, f"{path}: no reply form on the page before")
                return
            method, body = "POST", urllib.parse.urlencode(fields).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "Accept": "application/json"}
        t0 = time.perf_counter()
        try:
            status, location, text = clerk.request(method, path, body, headers)
        except (OSError, http.client.HTTPException) as e:
            self.record(route, None, f"{path}: {type(e).__name__}: {e}")
            return
        ms = (time.perf_counter() - t0) * 1000
        clerk.last_page = text
        error = None
        if not 200 <= status < 400:
            error = f"{method} {path}: HTTP {status} {text[:120]!r}"
        elif status >= 300 and "/login" in location:
            error = f"{path}: sent to the login page"
        elif route == "reply_preview" and '"pages"' not in text:
            error = f"{path}: no pages in the preview {text[:120]!r}"
        self.record(route, ms, error)


class _FormFields(html.parser.HTMLParser):
    """The fields of the reply form as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: dict[str, str] = {}
        self.found = False
        self._text: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "reply-form":
            self.inside = self.found = True
        elif not self.inside:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._text, self.fields[a["name"]] = a["name"], ""
        elif tag == "select" and a.get("name"):
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select:
            self._options.append((a.get("value", "\0"), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._text:
            self.fields[self._text] += data
        elif self._select and self._options and self._options[-1][0] == "\0":
            self._options[-1] = (data.strip(), self._options[-1][1])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._text = None
        elif tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected and v]
            filled = [v for v, _ in self._options if v]
            self.fields[self._select] = (chosen or filled or [""])[0]
            self._select = None


def reply_form_fields(page: str) -> dict[str, str] | None:
    """The reply form's fields on a /replies/new page, None when the page has none."""
    parser = _FormFields()
    parser.feed(page)
    return parser.fields if parser.found else None


def replies_preview_exists(load: Load, username: str) -> bool:
    """Whether /replies/new/<letter> has a reply form with a preview (a stub does not count)."""
    clerk = Clerk(load.host, load.port, username)
    clerk.sign_in()
    status, _, page = clerk.request("GET", "/replies/new/1")
    clerk.connection.close()
    return status == 200 and "data-preview=" in page and reply_form_fields(page) is not None


def run_load(clerks: list[str], seconds: float, load: Load, think: float = 0.0) -> float:
    """Sign every clerk in, then let them all work for ``seconds``; returns the elapsed time.

    Sign-in is not part of the ``seconds``: the clock starts when the last clerk is in.
    ``think``: a clerk reads each page for a random 0 to 2 × ``think`` seconds before the next
    (0: no pause at all, the server's worst case).
    """
    signed_in = threading.Barrier(len(clerks) + 1)
    go = threading.Event()
    stop = {"at": 0.0}

    def work(k: int, name: str) -> None:
        rng = random.Random(load.seed * 1000 + k)
        clerk = Clerk(load.host, load.port, name)
        t0 = time.perf_counter()
        try:
            clerk.sign_in()
            load.record("login", (time.perf_counter() - t0) * 1000)
        except (OSError, http.client.HTTPException, RuntimeError) as e:
            load.record("login", None, str(e))
            return
        finally:
            signed_in.wait()
        go.wait()
        rounds = 0
        while time.monotonic() < stop["at"]:
            rounds += 1
            for route, path in load.routes(rng, rounds):
                if time.monotonic() >= stop["at"]:
                    break
                load.timed(clerk, route, path)
                if think:
                    time.sleep(rng.uniform(0, 2 * think))
        clerk.connection.close()

    threads = [threading.Thread(target=work, args=(k, name), daemon=True)
               for k, name in enumerate(clerks)]
    for thread in threads:
        thread.start()
    signed_in.wait()
    began = time.monotonic()
    stop["at"] = began + seconds
    go.set()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return time.monotonic() - began


def summarize(load: Load, elapsed: float) -> dict[str, Any]:
    routes: dict[str, Any] = {}
    for route in sorted(set(load.times) | set(load.errors)):
        times = load.times.get(route, [])
        routes[route] = {
            "count": len(times) + load.untimed.get(route, 0),
            "p50_ms": round(_percentile(times, 0.5), 1),
            "p95_ms": round(_percentile(times, 0.95), 1),
            "max_ms": round(max(times), 1) if times else 0.0,
            "errors": load.errors.get(route, 0),
        }
    pages = {r: v for r, v in routes.items() if r not in EXCLUDED}
    done = summarize_requests(load)
    within = bool(pages) and all(v["p95_ms"] <= TARGET_P95_MS for v in pages.values())
    return {
        "ok": within and not any(load.errors.values()),  # every page fast enough, no errors
        "routes": routes,
        "requests": done,
        "errors": sum(load.errors.values()),
        "error_samples": load.error_samples,
        "elapsed_s": round(elapsed, 2),
        "requests_per_s": round(done / elapsed, 1) if elapsed > 0 else 0.0,
        "target_p95_ms": TARGET_P95_MS,
        "pages_within_target": within,
        "over_target": sorted(r for r, v in pages.items() if v["p95_ms"] > TARGET_P95_MS),
        "excluded_from_target": EXCLUDED,
    }


def summarize_requests(load: Load) -> int:
    return sum(len(v) for r, v in load.times.items() if r != "login")


def cpu_used(start: dict[str, float], end: dict[str, float], requests: int) -> dict[str, Any]:
    """The server's CPU seconds during the run, by process name, and per request served."""
    by_name = {name: round(end[name] - start.get(name, 0.0), 2) for name in sorted(end)}
    total = sum(by_name.values())
    return {"seconds": round(total, 2), "by_process": by_name,
            "ms_per_request": round(total * 1000 / requests, 2) if requests else None}


@bench.command("web")
@click.option("--n", "n", default=100_000, show_default=True, help="letters in the instance")
@click.option("--seed", default=7, show_default=True, help="seed of the synthetic corpus")
@click.option("--clients", default=20, show_default=True, help="concurrent simulated clerks")
@click.option("--seconds", default=60.0, show_default=True, help="how long they work")
@click.option("--think", default=THINK_S, show_default=True, type=click.FloatRange(0, 60),
              help="mean seconds a clerk reads a page before the next (0: no pause, the "
                   "server's saturation)")
@click.option("--cache", "cache_root", type=click.Path(file_okay=False, path_type=Path),
              default=Path(tempfile.gettempdir()) / "huiyin-bench-web", show_default=True,
              help="where seeded instances are kept (one folder per N and seed)")
@click.option("--rebuild", is_flag=True, help="build the instance again even if cached")
@click.option("--postgres", is_flag=True,
              help="records and search index (search_engine postgres) in a throwaway "
                   "PostgreSQL server started for the run (Debian's postgresql); the server "
                   "goes with the run, so the instance is built again every time")
@click.option("--explain", "with_explain", is_flag=True,
              help="with --postgres: EXPLAIN (ANALYZE, BUFFERS) of the SQL of one letter page "
                   "and of the year's rates, under \"explain\" in the JSON")
@click.option("--json", "as_json", is_flag=True, help="print one JSON document")
def command(n: int, seed: int, clients: int, seconds: float, think: float, cache_root: Path,
            rebuild: bool, postgres: bool, with_explain: bool, as_json: bool) -> None:
    """K clerks on a seeded instance of N letters: p50/p95 per route, errors, requests/s, RSS;
    then the rates over the last year (`huiyin stats`), timed in-process."""
    if n < 1 or clients < 1 or seconds <= 0:
        raise click.UsageError("--n, --clients and --seconds must be positive")
    if with_explain and not postgres:
        raise click.UsageError("--explain needs --postgres (the plans are PostgreSQL's)")

    def say(message: str) -> None:
        click.echo(f"bench web: {message}", err=True)

    with contextlib.ExitStack() as stack:
        config = None
        if postgres:
            if pgserver.find_bin_dir() is None:
                raise click.ClickException(
                    f"--postgres: PostgreSQL is not installed (apt-get install {pgserver.PACKAGE})")
            try:
                server = stack.enter_context(
                    pgserver.pg_server(database="bench", settings=PG_SETTINGS))
            except pgserver.PgServerError as e:
                raise click.ClickException(f"--postgres: {e}") from e
            say(f"PostgreSQL server started ({server.bin_dir.parent.name}, port {server.port})")
            config = postgres_config(server.sqlalchemy_url)
            home = cache_root / f"n{n}-seed{seed}-postgres"
        else:
            home = cache_folder(cache_root, n, seed)
        if (rebuild or postgres) and home.exists():
            shutil.rmtree(home)
        home.parent.mkdir(parents=True, exist_ok=True)
        document = _run(home, n, seed, clients, seconds, think, config, with_explain, say)
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    _print(document)


def _run(home: Path, n: int, seed: int, clients: int, seconds: float, think: float,
         config: str | None, with_explain: bool, say: Callable[[str], None]) -> dict[str, Any]:
    """Build or reuse the instance, load the server, time the year's rates: the JSON document."""
    built = build_instance(home, n, seed, say, config)
    say(f"instance {home} ({'cached' if built['cached'] else 'built'})")
    postgres = config is not None
    if postgres:
        say("VACUUM ANALYZE (what autovacuum does after a bulk load)")
        built["analyze_seconds"] = analyze(home)
    clerks = add_clerks(home, clients)
    queries = built["queries"]
    notes: list[str] = []
    process, url = start_server(home, home.parent / f"{home.name}-serve.log")
    try:
        rss_start = group_rss_mb(process.pid)
        cpu_start = group_cpu_s(process.pid)
        probe = Load(url, n, built["n_cases"], queries, seed, preview=False)
        preview = replies_preview_exists(probe, clerks[0])
        if not preview:
            notes.append("reply form and preview skipped: /replies/new/<letter> has no preview")
        load = Load(url, n, built["n_cases"], queries, seed, preview=preview)
        say("warming up (one round of every route)")
        warm = Clerk(load.host, load.port, clerks[0])
        warm.sign_in()
        for route, path in load.routes(random.Random(seed), PREVIEW_EVERY):
            load.timed(warm, route, path)
        load.times.clear()
        load.errors.clear()
        load.untimed.clear()
        load.error_samples.clear()
        warm.connection.close()
        say(f"{clients} clerks for {seconds:g} s")
        client_cpu = time.process_time()
        elapsed = run_load(clerks, seconds, load, think)
        client_cpu = time.process_time() - client_cpu  # the clerks share the server's cores
        rss_end = group_rss_mb(process.pid)
        cpu_end = group_cpu_s(process.pid)
    finally:
        stop_server(process)
    say(f"rates over the last year, {RATES_RUNS} runs (records.stats, as `huiyin stats`)")
    rates = rates_year(home)
    if "rates_year_error" in rates:
        notes.append(f"rates over a year failed: {rates['rates_year_error']}")
    summary = summarize(load, elapsed)
    document = {
        "database": "postgresql" if postgres else "sqlite",
        "search_engine": "postgres" if postgres else "tantivy",
        "n_letters": n, "seed": seed, "n_cases": built["n_cases"],
        "n_letters_in_cases": built["n_letters_in_cases"], "clients": clients,
        "seconds": seconds, "think_s": think,
        "instance": {"home": str(home), "cached": built["cached"],
                     "insert_seconds": built.get("insert_seconds"),
                     "build_seconds": built["build_seconds"],
                     "analyze_seconds": built.get("analyze_seconds")},
        **summary,
        "ok": summary["ok"] and "rates_year_error" not in rates,
        "letter_p95_ms": summary["routes"].get("letter", {}).get("p95_ms"),
        "letter_target_p95_ms": LETTER_TARGET_P95_MS,
        **rates,
        "rates_year_target_s": RATES_TARGET_S,
        "server_rss_mb": {"start": rss_start, "end": rss_end},
        "server_cpu": cpu_used(cpu_start, cpu_end, summarize_requests(load)),
        "clients_cpu_s": round(client_cpu, 2),
        "notes": notes,
    }
    if with_explain:
        say("EXPLAIN (ANALYZE, BUFFERS): one letter page, the year's case_facts")
        document["explain"] = explain(home, clerks[0], PASSWORD)
    return document


def _print(document: dict[str, Any]) -> None:
    think, notes = document["think_s"], document["notes"]
    pace = f" reading each page ~{think:g} s" if think else " with no pause"
    click.echo(f"{document['n_letters']} letters on {document['database']}, "
               f"{document['clients']} clerks{pace}, {document['elapsed_s']} s: "
               f"{document['requests_per_s']} requests/s, {document['errors']} errors")
    for route, r in document["routes"].items():
        click.echo(f"  {route:14} {r['count']:>7}  p50 {r['p50_ms']:>7} ms  "
                   f"p95 {r['p95_ms']:>7} ms  max {r['max_ms']:>8} ms  errors {r['errors']}")
    verdict = "yes" if document["pages_within_target"] else "no: " + ", ".join(
        document["over_target"])
    cpu = document["server_cpu"]
    click.echo(f"server CPU: {cpu['seconds']} s, {cpu['ms_per_request']} ms per request "
               f"({', '.join(f'{k} {v} s' for k, v in cpu['by_process'].items() if v)}); "
               f"the simulated clerks used {document['clients_cpu_s']} s")
    click.echo(f"every page p95 ≤ {TARGET_P95_MS:g} ms: {verdict}; letter page p95 "
               f"{document['letter_p95_ms']} ms (target {LETTER_TARGET_P95_MS:g} ms)")
    if "rates_year_seconds" in document:
        r = document["rates_year_seconds"]
        click.echo(f"rates over the last year ({document['rates_year_cases']} cases): median "
                   f"{r['median']} s, max {r['max']} s (target {RATES_TARGET_S:g} s)")
    for note in notes:
        click.echo(f"note: {note}")
