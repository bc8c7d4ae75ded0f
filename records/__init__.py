"""The domain core: models, migrations, blob store, intake and audit; owns the database.

Imports no other project package: ocr, search, letters and web build on it, never the reverse.
"""

from records import (
    audit,
    cases,
    flags,
    intake,
    routing,
    stats,
    supervision,
    tasks,
    units,
    workflow,
)
from records.audit import AuditLogIsAppendOnly
from records.blobs import BlobError, BlobStore, sha256_file
from records.db import Database, sqlite_url
from records.intake import RecordsError
from records.models import (
    CHANNELS,
    INGEST_STATES,
    LEVELS,
    MEETING_KINDS,
    ROLES,
    TASK_STATES,
    AuditEvent,
    Base,
    Case,
    Category,
    Hearing,
    Letter,
    LoginAttempt,
    Page,
    PageEdit,
    Petitioner,
    Place,
    Reply,
    Task,
    Unit,
    User,
)
from records.privacy import mask_id_numbers

__all__ = [
    "CHANNELS",
    "INGEST_STATES",
    "LEVELS",
    "MEETING_KINDS",
    "ROLES",
    "TASK_STATES",
    "AuditEvent",
    "AuditLogIsAppendOnly",
    "Base",
    "BlobError",
    "BlobStore",
    "Case",
    "Category",
    "Database",
    "Hearing",
    "Letter",
    "LoginAttempt",
    "Page",
    "PageEdit",
    "Place",
    "Petitioner",
    "RecordsError",
    "Reply",
    "Task",
    "Unit",
    "User",
    "audit",
    "cases",
    "flags",
    "intake",
    "routing",
    "stats",
    "supervision",
    "tasks",
    "units",
    "mask_id_numbers",
    "sha256_file",
    "workflow",
    "sqlite_url",
]
