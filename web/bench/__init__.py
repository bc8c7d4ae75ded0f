"""`huiyin bench ocr|search|reply|web|workers|soak`: the measurements of BENCHMARKS.md, one JSON
document each.

Benchmarks never fail a test run; each area's benchmark is a module of its own here, imported
only when its command runs: every `huiyin` start would otherwise load what they measure
(LibreOffice's bridge, pyHanko, the OCR models' runtime) — 0.6 s of a 1.5 s start.
"""

from __future__ import annotations

import importlib

import click

MODULES = ("ocr", "reply", "search", "soak", "web", "workers")  # each registers one command


class _OnDemand(click.Group):
    """A group whose commands' modules are imported when a command is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in MODULES and cmd_name not in self.commands:
            importlib.import_module(f"web.bench.{cmd_name}")
        return super().get_command(ctx, cmd_name)


@click.group(cls=_OnDemand)
def bench() -> None:
    """Benchmarks (ratios against peers in one run; --json prints one document)."""
