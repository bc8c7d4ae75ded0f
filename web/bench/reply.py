"""`huiyin bench reply` (not built yet)."""

import click

from web.bench import bench


@bench.command("reply")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("huiyin bench reply is not built yet")
