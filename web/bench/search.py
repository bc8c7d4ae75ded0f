"""`huiyin bench search` (not built yet)."""

import click

from web.bench import bench


@bench.command("search")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("huiyin bench search is not built yet")
