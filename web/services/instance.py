"""One office's instance folder: database, originals, search index, generated replies."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from records import BlobStore, Database, create_database, sqlite_url
from records.calendar import WorkCalendar, load_calendar
from web.services.settings import load_settings

if TYPE_CHECKING:
    from search import LetterIndex


class InstanceError(Exception):
    """The instance folder is missing or not usable; the message says what to run."""


def default_home() -> Path:
    """--home, else $HUIYIN_HOME, else ./instance (DESIGN.md's command-line contract)."""
    return Path(os.environ.get("HUIYIN_HOME") or "instance")


INSTANCE_PLACEHOLDER = "{instance}"  # in database_url: replaced by instance_name(home)


def instance_name(home: Path) -> str:
    """A short stable name for an instance folder: its name and 8 hex of its resolved path.

    Lower case ASCII letters, digits and ``_`` only, at most 49 characters, so that
    ``huiyin_<name>`` is a valid PostgreSQL database name (63 bytes at most).
    """
    resolved = home.resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8")).hexdigest()[:8]
    stem = re.sub(r"[^a-z0-9_]+", "_", resolved.name.lower()).strip("_")[:40] or "instance"
    return f"{stem}_{digest}"


class Instance:
    """Paths and lazily opened parts of one instance; close() releases them."""

    def __init__(self, home: Path, overrides: dict[str, Any] | None = None) -> None:
        self.home = home.resolve()
        self.settings = load_settings(self.home, overrides)
        self._calendar: tuple[tuple[int, int] | None, WorkCalendar] | None = None

    @property
    def database_url(self) -> str:
        """The setting, its ``{instance}`` replaced by this folder's name; else huiyin.db here.

        Many instances can share one PostgreSQL server that way:
        ``postgresql+psycopg://huiyin@/huiyin_{instance}?host=/run/postgresql`` gives each
        folder a database of its own (``huiyin init`` creates it).
        """
        url = str(self.settings["database_url"] or "")
        if not url:
            return sqlite_url(self.home / "huiyin.db")
        return url.replace(INSTANCE_PLACEHOLDER, instance_name(self.home))

    @property
    def replies_dir(self) -> Path:
        return self.home / "replies"

    @property
    def templates_dir(self) -> Path:
        """The office's own reply templates: a .docx here replaces the built-in one."""
        return self.home / "templates"

    @cached_property
    def db(self) -> Database:
        return Database(self.database_url)

    @cached_property
    def blobs(self) -> BlobStore:
        """The originals: blobs/ here, or the shared folder the setting blob_dir names."""
        return BlobStore(self.home / (str(self.settings["blob_dir"] or "").strip() or "blobs"))

    @property
    def index_location(self) -> Path | str:
        """A folder for tantivy and Whoosh; a PostgreSQL URL for the postgres engine."""
        if self.settings["search_engine"] == "postgres":
            return str(self.settings["search_url"] or self.database_url)
        return self.home / "index"

    @cached_property
    def index(self) -> LetterIndex:
        from search import LetterIndex  # the CLI's quick commands need no index engine

        return LetterIndex.open(self.index_location, engine=self.settings["search_engine"])

    @property
    def calendar(self) -> WorkCalendar:
        """Working days: the shipped holiday table plus the office's own holidays.csv.

        Read again whenever that file changes — edited in 系统管理 by another web process, or by
        hand — so every process counts deadlines on the same table.
        """
        path = self.home / "holidays.csv"
        try:
            stat = path.stat()
            version: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            version = None
        kept = self._calendar
        if kept is None or kept[0] != version:
            kept = self._calendar = (version, load_calendar(path))
        return kept[1]

    def recreate_index(self) -> LetterIndex:
        """Start an empty index even where the old one cannot be opened (reindex fills it)."""
        from search import LetterIndex

        if "index" in self.__dict__:
            self.index.close()
        self.__dict__["index"] = LetterIndex.create(self.index_location,
                                                    engine=self.settings["search_engine"])
        return self.index

    def today(self) -> dt.date:
        """Today in the office's time zone: the receipt date of a letter scanned now."""
        return self.now().date()

    def now(self) -> dt.datetime:
        """The office's wall-clock time (naive), as a clerk reads and types a time."""
        return dt.datetime.now(ZoneInfo(self.settings["timezone"])).replace(tzinfo=None)

    def local_time(self, at: dt.datetime) -> dt.datetime:
        """A stored UTC time (naive, or aware in any zone) as the office's wall-clock time
        (naive): the one conversion every page, document and message uses."""
        zone = ZoneInfo(self.settings["timezone"])
        aware = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        return aware.astimezone(zone).replace(tzinfo=None)

    def create(self) -> None:
        """Make the folders, the schema and the index (idempotent: safe to run twice)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.replies_dir.mkdir(exist_ok=True)
        create_database(self.database_url)  # PostgreSQL: the server may not have it yet
        self.db.upgrade()
        _ = self.blobs, self.index

    def check_ready(self) -> None:
        """Refuse to work on a folder that `huiyin init` has not prepared."""
        if not self.home.is_dir():
            raise InstanceError(f"no instance at {self.home}: run `huiyin init` first")
        if not self.db.is_current():
            raise InstanceError(
                f"the database of {self.home} is not at the current schema: run `huiyin init`"
            )

    def close(self) -> None:
        if "index" in self.__dict__:
            self.index.close()
        if "db" in self.__dict__:
            self.db.close()

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
