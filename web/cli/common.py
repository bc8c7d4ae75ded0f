"""What every `huiyin` command shares: the instance context, JSON output, errors, progress."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from records import RecordsError
from web.services.errors import ServiceError
from web.services.instance import Instance, InstanceError
from web.services.settings import SettingsError

ACTOR = "cli"


def emit(as_json: bool, document: Any, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        human()


def fail(message: str) -> NoReturn:
    raise click.ClickException(message)


class CliContext:
    """Carries --home to the commands and opens the instance only when one needs it."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._instance: Instance | None = None

    def instance(self, *, ready: bool = True) -> Instance:
        if self._instance is None:
            try:
                self._instance = Instance(self.home)
                if ready:
                    self._instance.check_ready()
            except (InstanceError, SettingsError) as e:
                fail(str(e))
        return self._instance

    def close(self) -> None:
        if self._instance is not None:
            self._instance.close()


pass_ctx = click.make_pass_decorator(CliContext)


class HuiyinGroup(click.Group):
    """Turns the packages' own errors into one clear line and exit status 1, never a trace."""

    def invoke(self, ctx: click.Context) -> Any:
        from letters import LettersError
        from ocr import OcrError
        from records import BlobError
        from search import SearchError

        try:
            return super().invoke(ctx)
        except (RecordsError, BlobError, OcrError, SearchError, LettersError, InstanceError,
                SettingsError, ServiceError) as e:
            raise click.ClickException(str(e)) from e


DATE = click.DateTime(["%Y-%m-%d"])  # every date option: 2026-11-24


def day_or_today(value: dt.datetime | None, instance: Instance) -> dt.date:
    """The day a --on option gave, else today in the office's time zone."""
    return value.date() if value else instance.today()


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


def progress_line(done: int, total: int) -> None:
    """A counter on stderr that rewrites itself, ending the line when the work is done."""
    click.echo(f"\r{done}/{total}", nl=done >= total, err=True)
