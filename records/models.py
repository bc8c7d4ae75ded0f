"""The domain's tables: every record the office keeps, in DESIGN.md's words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names so that Alembic batch migrations work on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Timestamps are stored in UTC; the interface shows them in the office's time zone."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


ROLES = ("clerk", "handler", "leader", "admin")
# The four-level network (县、乡镇、村/社区、组), highest first; 四个不出 counts the lower three.
LEVELS = ("county", "township", "village", "group")
# How an item reached the office: 来信, 来访, 来电, 领导信箱, 网上信访.
CHANNELS = ("letter", "visit", "phone", "mailbox", "online")
# The level of the organ a petitioner wrote or went to (§20: a visit goes to the competent
# organ's own level or the one above; going further is 越级), lowest first.
ADDRESSED_LEVELS = ("group", "village", "township", "county", "city", "province", "national")
# Where the receipt date (收信日期) was read from; the scan day is the default.
# 来电登记 and 网上登记: the day a call was taken or an online item (领导信箱, 网上信访) arrived.
RECEIPT_BASES = ("扫描日期", "邮戳", "收文章", "来访登记", "来电登记", "网上登记")
# 听证 pauses the handling clock; 联席会议 is recorded but does not.
MEETING_KINDS = ("hearing", "joint_meeting")

# Where a letter is in intake; a crashed ingest resumes from the state it reached.
INGEST_STATES = ("registered", "stored", "read", "indexed", "failed")


class Unit(Base):
    """承办单位: a township government, county department or enterprise that handles cases."""

    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="department")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    level: Mapped[str] = mapped_column(String(16), default="county", server_default="county")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class User(Base):
    """A person who signs in: clerk, handler, leader or admin."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Set by an admin to a letter-reading role: no sign-in until a leader confirms (separation
    # of duties: the keeper of the system cannot give itself, or a friend, the letters alone).
    role_pending: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class ApiToken(Base):
    """A bearer token of the JSON API: only its digest is kept; revoked on sign-out."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token
    session_token: Mapped[str] = mapped_column(String(16))  # void once the password changes
    session_id: Mapped[int] = mapped_column(default=0)  # the sign-in's audit event
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


letter_petitioner = Table(
    "letter_petitioner",
    Base.metadata,
    Column("letter_id", ForeignKey("letter.id", ondelete="CASCADE"), primary_key=True),
    Column("petitioner_id", ForeignKey("petitioner.id"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)


class Petitioner(Base):
    """信访人: one person; a joint letter (联名信) links several."""

    __tablename__ = "petitioner"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    id_number: Mapped[str | None] = mapped_column(String(18), index=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    township: Mapped[str] = mapped_column(String(64), default="")
    village: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    letters: Mapped[list[Letter]] = relationship(
        secondary=letter_petitioner, back_populates="petitioners"
    )


class Case(Base):
    """信访事项: the matter that owns the workflow, the deadlines and the replies."""

    __tablename__ = "case"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(32), default="registered", index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    township: Mapped[str] = mapped_column(String(64), default="", server_default="")
    category: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The clocks (records.workflow.CaseClock): the day the matter was received, then each step.
    opened_on: Mapped[dt.date] = mapped_column(Date)
    assigned_on: Mapped[dt.date | None] = mapped_column(Date)
    assignment_received_on: Mapped[dt.date | None] = mapped_column(Date)  # the unit's (§23)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    extension_asked_days: Mapped[int] = mapped_column(default=0, server_default="0")
    extension_days: Mapped[int] = mapped_column(default=0, server_default="0")
    extension_approved_by: Mapped[str | None] = mapped_column(String(64))
    extension_notified_on: Mapped[dt.date | None] = mapped_column(Date)
    # hearing (听证) days during 复核, outside its period (§36 ¶2)
    paused_days: Mapped[int] = mapped_column(default=0, server_default="0")
    replied_on: Mapped[dt.date | None] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(16))
    replied_delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    review_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    review_replied_on: Mapped[dt.date | None] = mapped_column(Date)
    review_delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    recheck_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    recheck_replied_on: Mapped[dt.date | None] = mapped_column(Date)
    recheck_delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    waived_on: Mapped[dt.date | None] = mapped_column(Date)  # the petitioner's written waiver
    # How each step was made: {step: {"document": reply key, "reply_id": n} or {"told": ...}}
    steps: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    last_action_on: Mapped[dt.date | None] = mapped_column(Date)
    # Flags of DESIGN.md: 重复, 越级, 集体, 联名; an accusation (检举) and whom it accuses (§30).
    flags: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    # indexed (migration 0014): every request reads the cases that accuse its user (§30 ¶3)
    accused_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    accused_person: Mapped[str | None] = mapped_column(String(64), index=True)
    satisfaction: Mapped[str | None] = mapped_column(String(8))  # 满意 / 基本满意 / 不满意
    # The kind of matter (records.kinds, §§29-31): NULL is 未分类 until a clerk sets it.
    kind: Mapped[str | None] = mapped_column(String(8))  # 建议意见 / 检举控告 / 申诉求决
    sub_kind: Mapped[int | None] = mapped_column(Integer)  # 申诉求决: §31's item, 1 to 6
    # §18, §21 ¶2: the petitioner's own view. The query code (records.query_codes) opens the
    # public page; the evaluation says how it was given (网上 / 电话 / 当面), when, and a note.
    query_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    satisfaction_way: Mapped[str | None] = mapped_column(String(8))
    satisfaction_note: Mapped[str | None] = mapped_column(Text)
    satisfaction_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    letters: Mapped[list[Letter]] = relationship(back_populates="case")
    unit: Mapped[Unit | None] = relationship(foreign_keys=[unit_id])
    __mapper_args__ = {"version_id_col": version}


class Letter(Base):
    """来信: one incoming item — the original scan, its pages, its text and what it is about."""

    __tablename__ = "letter"
    id: Mapped[int] = mapped_column(primary_key=True)
    reg_no: Mapped[str] = mapped_column(String(20), unique=True)
    received_on: Mapped[dt.date] = mapped_column(Date, index=True)  # 收信日期 (RECEIPT_BASES)
    received_basis: Mapped[str] = mapped_column(String(16), default="扫描日期",
                                                server_default="扫描日期")
    channel: Mapped[str] = mapped_column(String(16), default="letter")
    addressed_level: Mapped[str] = mapped_column(String(16), default="county",
                                                 server_default="county")  # ADDRESSED_LEVELS
    people: Mapped[int] = mapped_column(default=1, server_default="1")  # who came (来访人数)
    # The original scan, immutable in the blob store under its SHA-256.
    source_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    ingest_state: Mapped[str] = mapped_column(String(16), default="registered", index=True)
    ingest_error: Mapped[str | None] = mapped_column(Text)
    page_count: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    # Fields proposed from the text (ID numbers, phones, signatory); a clerk confirms them.
    extracted: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[str] = mapped_column(String(255), default="")
    township: Mapped[str] = mapped_column(String(64), default="", index=True)
    village: Mapped[str] = mapped_column(String(64), default="")
    category: Mapped[str] = mapped_column(String(64), default="", index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A letter on an ended matter not accepted again (records.termination: §36 ¶3, §19 ¶3):
    # the article, and the earlier document (or matter) it cites.
    not_accepted_under: Mapped[str | None] = mapped_column(String(32))
    not_accepted_citing: Mapped[str | None] = mapped_column(String(64))

    pages: Mapped[list[Page]] = relationship(
        back_populates="letter", order_by="Page.number", cascade="all, delete-orphan"
    )
    petitioners: Mapped[list[Petitioner]] = relationship(
        secondary=letter_petitioner, back_populates="letters", order_by=letter_petitioner.c.position
    )
    case: Mapped[Case | None] = relationship(back_populates="letters")
    __mapper_args__ = {"version_id_col": version}


class Page(Base):
    """页: one scanned page with its OCR lines (text, box, score) in reading order."""

    __tablename__ = "page"
    __table_args__ = (UniqueConstraint("letter_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"))
    number: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    source: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    lines: Mapped[list[Any]] = mapped_column(default=list)
    mean_score: Mapped[float | None]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    letter: Mapped[Letter] = relationship(back_populates="pages")


class Reply(Base):
    """答复: one generated document; a new version supersedes it, nothing overwrites it."""

    __tablename__ = "reply"
    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str] = mapped_column(String(64), default="", server_default="")
    doc_number: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    docx_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_pdf_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    signed_by: Mapped[str | None] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    delivery_method: Mapped[str | None] = mapped_column(String(16))  # 邮寄 / 当面 / 网上
    delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    # "" while unsigned; the workflow step its signing made, or "outside" (流程外文书)
    step: Mapped[str] = mapped_column(String(24), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id"))


# Audit events that change no record; the newest event of any other kind names the state of
# the records (what the dashboard's kept figures were computed from).
LOOKS = ("read", "search", "download", "login", "logout")
# AND-ed terms, not NOT IN: SQLite uses a partial index only for a condition it can match term
# by term.
CHANGES = " AND ".join(f"action != '{action}'" for action in LOOKS)


class AuditEvent(Base):
    """审计: who did what, when, to which record; rows are only ever added."""

    __tablename__ = "audit_event"
    # A record's timeline (case page, letter history) reads its events by entity and id.
    __table_args__ = (
        Index("ix_audit_event_entity", "entity", "entity_id"),
        # The newest change names the records' state (LOOKS, CHANGES above).
        Index("ix_audit_event_changes", "id", sqlite_where=text(CHANGES),
              postgresql_where=text(CHANGES)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Route(Base):
    """属地管理、分级负责: which unit and leader handle a township's matters of a category.

    An empty township or category matches any; the most specific row wins.
    """

    __tablename__ = "route"
    __table_args__ = (UniqueConstraint("township", "category"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    township: Mapped[str] = mapped_column(String(64), default="")
    category: Mapped[str] = mapped_column(String(64), default="")
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Supervision(Base):
    """督办: a reminder, a note, or an escalation (挂牌督办) on a case, with its own record."""

    __tablename__ = "supervision"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reminder / note / escalation
    text: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)


class CaseNote(Base):
    """办理情况: a handler's progress note on a case, or a file attached to it (a survey, a
    photo, a signed receipt), the file kept in the blob store by its SHA-256."""

    __tablename__ = "case_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    media_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Instruction(Base):
    """领导批示: a leader's written instruction on a letter or case, tracked until carried out."""

    __tablename__ = "instruction"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    leader: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    given_on: Mapped[dt.date] = mapped_column(Date)
    actions: Mapped[list[Any]] = mapped_column(default=list)  # what it orders, each to be done
    done_on: Mapped[dt.date | None] = mapped_column(Date)


class Hearing(Base):
    """听证 or 联席会议 held on a case; a hearing's days are added to the handling deadline."""

    __tablename__ = "hearing"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # hearing / joint_meeting
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    paused_days: Mapped[int] = mapped_column(default=0, server_default="0")
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Counter(Base):
    """Yearly sequences for registration and document numbers (2026-000017)."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


# A background task's life: queued -> running (leased by one worker) -> done | failed.
TASK_STATES = ("queued", "running", "done", "failed")


class Task(Base):
    """One unit of background work (OCR a letter, index it, render a reply), leased by a worker.

    A worker claims a queued task by setting its lease; a worker that dies leaves a lease that
    expires, and the task is claimed again. ``key`` makes the same work enqueued twice one task.
    """

    __tablename__ = "task"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letter.id"), index=True)
    progress: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(default=0)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    leased_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PageEdit(Base):
    """A clerk's correction of one OCR line; the first edit's ``before`` is the machine's text."""

    __tablename__ = "page_edit"
    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id", ondelete="CASCADE"), index=True)
    line: Mapped[int]
    before: Mapped[str] = mapped_column(Text)
    after: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LoginAttempt(Base):
    """Every sign-in try, kept to slow down password guessing (by name and by address)."""

    __tablename__ = "login_attempt"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(default=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # Refused unchecked while the name or address was made to wait: kept for the admin's list,
    # never counted as a failure (so waiting out a delay is not made longer by knocking).
    delayed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class PublicQuery(Base):
    """Every try on the public query page, kept to limit wrong codes per address (§21 ¶2)."""

    __tablename__ = "public_query"
    id: Mapped[int] = mapped_column(primary_key=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))  # None: a wrong code
    limited: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class Category(Base):
    """信访事项分类: the office's list of matter categories (土地征收, 劳动保障 ...)."""

    __tablename__ = "category"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


class Place(Base):
    """The gazetteer: a township (village == "") or a village of a township."""

    __tablename__ = "place"
    __table_args__ = (UniqueConstraint("township", "village"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    township: Mapped[str] = mapped_column(String(64))
    village: Mapped[str] = mapped_column(String(64), default="", server_default="")


# ------------------------------------------------------------------ channels, §25, §33

class ReceptionDay(Base):
    """领导接待日 (§18 ¶2: 定期接待群众来访): which leader received petitioners, when and where."""

    __tablename__ = "reception_day"
    __table_args__ = (UniqueConstraint("held_on", "leader_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    place: Mapped[str] = mapped_column(String(120))
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    edited_by: Mapped[str | None] = mapped_column(String(64))  # the last change (audited)
    edited_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ReceptionVisit(Base):
    """A visit received on a 领导接待日: the letter the clerk registered for it."""

    __tablename__ = "reception_visit"
    reception_id: Mapped[int] = mapped_column(ForeignKey("reception_day.id"), primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id"), primary_key=True,
                                           unique=True)


class Settlement(Base):
    """调解协议书 or 和解协议书 (§33): the agreement that ended a matter, its signed copy kept
    as a case note's file (web.services.case_notes serves it)."""

    __tablename__ = "settlement"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # 调解 / 和解
    parties: Mapped[list[Any]] = mapped_column(default=list)
    terms: Mapped[str] = mapped_column(Text)
    signed_on: Mapped[dt.date] = mapped_column(Date)
    note_id: Mapped[int] = mapped_column(ForeignKey("case_note.id"))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class UrgentReport(Base):
    """重大、紧急 (§25): a case marked so, and each report of it (to whom, when, how); a row
    with no recipient marks the case without a report yet."""

    __tablename__ = "urgent_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    recipient: Mapped[str] = mapped_column(String(32), default="")  # urgency.RECIPIENTS
    person: Mapped[str] = mapped_column(String(64), default="")  # the leader or office told
    how: Mapped[str] = mapped_column(String(16), default="")  # urgency.WAYS
    told_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# -- 0017: 联合接访 (§18 ¶3) and each user's saved filters ------------------------------------

class ReceptionUnit(Base):
    """A unit taking part in a joint reception (联合接访, §18 ¶3)."""

    __tablename__ = "reception_unit"
    reception_id: Mapped[int] = mapped_column(ForeignKey("reception_day.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)


class SavedFilter(Base):
    """A user's named filter of a list (the register, the cases): the list's query string."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "list_key", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    list_key: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(30))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
