"""`huiyin bench ocr|search|reply`: the measurements of BENCHMARKS.md, one JSON document each.

Benchmarks never fail a test run; each area's benchmark is a module of its own here.
"""

import click


@click.group()
def bench() -> None:
    """Benchmarks (ratios against peers in one run; --json prints one document)."""


from web.bench import ocr, reply, search, soak, web, workers  # noqa: E402,F401  (they register commands)
