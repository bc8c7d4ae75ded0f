"""`huiyin bench ocr` (not built yet)."""

import click

from web.bench import bench


@bench.command("ocr")
def command() -> None:
    """Not built yet."""
    raise click.ClickException("huiyin bench ocr is not built yet")
