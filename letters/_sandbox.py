"""The Jinja2 environment templates run in: sandboxed, autoescaping, strict about undefined names.

Templates are edited by the office, so their code is untrusted: the sandbox refuses attribute
tricks such as ``''.__class__``. Values are data, never code: autoescape turns & < > " ' into XML
entities (docxtpl silently drops text otherwise), and a value such as ``{{ 7*7 }}`` is printed as
it is. Dates print in the GB/T 9704 form, so ``{{ issue_date }}`` needs no filter.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from letters._format import cn_date, sentence

FILTERS = {"cn_date": cn_date, "sentence": sentence}


def _finalize(value: Any) -> Any:
    """Print dates as 2026年11月24日 and None as nothing, never as the word "None"."""
    if value is None:
        return ""
    if isinstance(value, date):
        return cn_date(value)
    return value


def make_environment(*, autoescape: bool = True) -> SandboxedEnvironment:
    """Build a fresh environment (docxtpl mutates the one it is given, so none is shared)."""
    env = SandboxedEnvironment(autoescape=autoescape, undefined=StrictUndefined,
                               finalize=_finalize)
    env.filters.update(FILTERS)
    return env
