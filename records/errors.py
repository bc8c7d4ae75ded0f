"""The records' refusals: one base class, so callers can tell them from bugs.

    RecordsError            a request the records cannot honour; str(e) says why
    ├── DatabaseUnwritable  (records.db) the database refuses writes: disk full, read-only
    └── AccusationConflict  (records.routing) §30: never to the accused
"""

from __future__ import annotations


class RecordsError(Exception):
    """A request the records cannot honour; the message says why."""
