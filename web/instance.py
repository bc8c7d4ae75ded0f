"""One office's instance folder: database, originals, search index, generated replies."""

from __future__ import annotations

import datetime as dt
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from records import BlobStore, Database, sqlite_url
from records.calendar import WorkCalendar, load_calendar
from web.settings import load_settings

if TYPE_CHECKING:
    from search import LetterIndex


class InstanceError(Exception):
    """The instance folder is missing or not usable; the message says what to run."""


def default_home() -> Path:
    """--home, else $HUIYIN_HOME, else ./instance (DESIGN.md's command-line contract)."""
    return Path(os.environ.get("HUIYIN_HOME") or "instance")


class Instance:
    """Paths and lazily opened parts of one instance; close() releases them."""

    def __init__(self, home: Path, overrides: dict[str, Any] | None = None) -> None:
        self.home = home.resolve()
        self.settings = load_settings(self.home, overrides)

    @property
    def database_url(self) -> str:
        return str(self.settings["database_url"] or sqlite_url(self.home / "huiyin.db"))

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
        return BlobStore(self.home / "blobs")

    @cached_property
    def index(self) -> LetterIndex:
        from search import LetterIndex  # the CLI's quick commands need no index engine

        return LetterIndex.open(self.home / "index", engine=self.settings["search_engine"])

    @cached_property
    def calendar(self) -> WorkCalendar:
        """Working days: the shipped holiday table plus the office's own holidays.csv."""
        return load_calendar(self.home / "holidays.csv")

    def recreate_index(self) -> LetterIndex:
        """Start an empty index even where the old one cannot be opened (reindex fills it)."""
        from search import LetterIndex

        if "index" in self.__dict__:
            self.index.close()
        self.__dict__["index"] = LetterIndex.create(
            self.home / "index", engine=self.settings["search_engine"]
        )
        return self.index

    def today(self) -> dt.date:
        """Today in the office's time zone: the receipt date of a letter scanned now."""
        return dt.datetime.now(ZoneInfo(self.settings["timezone"])).date()

    def create(self) -> None:
        """Make the folders, the schema and the index (idempotent: safe to run twice)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.replies_dir.mkdir(exist_ok=True)
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
