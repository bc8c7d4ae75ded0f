"""Keeping the search index in step with the records: the index is derived and rebuildable.

``index_or_queue`` indexes letters whose fields just changed; when the index is busy or
unavailable it queues an "index" task per letter for the workers instead (web.worker), so a
letter never silently drifts out of step until someone runs ``huiyin reindex``.

``reindex`` rebuilds it in batches (one database session and one index commit per batch, so
memory stays bounded) and writes a checkpoint after each batch: an interrupted reindex resumes
where it stopped. ``upgrade_index`` brings an index written by an older version up to what
the index now holds of a letter (the OCR's alternatives), adding again only the letters that
change, in place and resumably; the workers run it when they start (``queue_upgrade``), an
administrator with `huiyin reindex --upgrade`, and ``pending_upgrade`` says what waits.
``check_index`` compares the database with the index and, on request,
repairs the difference (letters missing from the index are added, entries of letters that no
longer exist are removed).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from records import Case, Letter, Task, intake, tasks
from search import CONTENT_VERSION, LetterDoc, SearchError
from web.services.doubts import doubts
from web.services.instance import Instance
from web.services.migration import shown_url

log = logging.getLogger("huiyin.indexing")

BATCH = 500
IN_REQUEST = 20  # a case with more letters than this is indexed by the workers, letter by letter
SEARCHABLE = ("read", "indexed")  # letters whose text is known: these belong in the index
CHECKPOINT = "reindex-checkpoint.json"
UPGRADE_CHECKPOINT = "upgrade-checkpoint.json"
UPGRADE_TASK = "index-upgrade"

Progress = Callable[[int, int], None]


def letter_doc(letter: Letter) -> LetterDoc:
    """What the index needs to know of a letter: its text and the fields users filter on."""
    people = letter.petitioners
    extracted = letter.extracted or {}
    case = letter.case
    return LetterDoc(
        letter_id=letter.id,
        text=letter.text,
        reg_no=letter.reg_no,
        petitioners=tuple(intake.petitioner_names(letter)),
        id_numbers=tuple(
            sorted(
                {p.id_number for p in people if p.id_number} | set(extracted.get("id_numbers", []))
            )
        ),
        phones=tuple(
            sorted({p.phone for p in people if p.phone} | set(extracted.get("phones", [])))
        ),
        township=letter.township,
        village=letter.village,
        category=letter.category,
        status=case.status if case else "",
        received=letter.received_on,
        case_id=letter.case_id,
        unit=case.unit.name if case is not None and case.unit is not None else "",
        alternatives=ocr_alternatives(letter),
    )


def ocr_alternatives(letter: Letter) -> tuple[tuple[int, str], ...]:
    """Where the OCR was unsure, the other characters it read there, at their place in the
    letter's text, for the index to find the letter under them (a search for 被欠 finds the
    letter read 被久). None once the text differs from its pages (a clerk retyped it)."""
    pages = sorted(letter.pages, key=lambda p: p.number)
    if not pages or letter.text != "\n\n".join(p.text for p in pages):
        return ()
    found: list[tuple[int, str]] = []
    offset = 0
    for n, page in enumerate(pages):
        offset += 2 if n else 0
        for k, shape in enumerate(page.lines or []):
            offset += 1 if k else 0
            found += [(offset + i, "".join(others)) for i, others in doubts(shape).items()
                      if others]
            offset += len(str(shape.get("text", "")))
    return tuple(found)


def index_letters(instance: Instance, letters: Iterable[Letter]) -> int:
    """Add or replace these letters in the index (one commit)."""
    return instance.index.add(letter_doc(letter) for letter in letters)


def queue_index(session: Session, letter_ids: Iterable[int], *, actor: str = "") -> list[int]:
    """Queue an "index" task for each letter (committed with the session); the task ids.

    A letter whose index task is still queued keeps that one (the worker reads the letter when
    it runs). records.tasks.enqueue returns the task of an existing key whatever its state, so
    each new task's key is ``index:{letter_id}:{nonce}``: a finished one never blocks the next.
    """
    ids = sorted(set(letter_ids))
    if not ids:
        return []
    waiting = {task.letter_id: task.id for task in session.scalars(select(Task).where(
        Task.kind == "index", Task.state == "queued", Task.letter_id.in_(ids)))}
    queued = []
    for letter_id in ids:
        if letter_id in waiting:
            queued.append(waiting[letter_id])
            continue
        task = tasks.enqueue(session, "index", f"index:{letter_id}:{uuid.uuid4().hex[:12]}",
                             {"letter_id": letter_id}, letter_id=letter_id, actor=actor)
        queued.append(task.id)
    return queued


def index_or_queue(instance: Instance, session: Session, letters: Sequence[Letter], *,
                   actor: str = "", why: str = "") -> bool:
    """Index these letters now; when the index refuses (busy, unavailable), queue them.

    True when they were indexed here. The queued tasks commit with ``session``: the caller's
    change and the promise to index it are saved together, or neither is.
    """
    if not letters:
        return True
    try:
        index_letters(instance, letters)
        return True
    except SearchError as e:
        queued = queue_index(session, [letter.id for letter in letters], actor=actor)
        log.warning("index refused %d letter(s)%s (%s): queued index task(s) %s for the "
                    "workers", len(letters), f" after {why}" if why else "", e,
                    ", ".join(map(str, queued)))
        return False


def _checkpoint_path(instance: Instance) -> Path:
    return instance.home / "index" / CHECKPOINT


def read_checkpoint(instance: Instance) -> int | None:
    """The last letter id of an interrupted reindex, None when none is pending."""
    try:
        return int(json.loads(_checkpoint_path(instance).read_text(encoding="utf-8"))["last_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_checkpoint(instance: Instance, last_id: int) -> None:
    """Record progress atomically (write a temporary file, then rename it)."""
    path = _checkpoint_path(instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"last_id": last_id}), encoding="utf-8")
    tmp.replace(path)


def _load_batch(session: object, after: int, limit: int) -> list[Letter]:
    """The next searchable letters by id, with what letter_doc reads loaded at once."""
    return list(
        session.scalars(  # type: ignore[attr-defined]
            select(Letter)
            .where(Letter.id > after, Letter.ingest_state.in_(SEARCHABLE))
            .options(
                selectinload(Letter.petitioners), selectinload(Letter.pages),
                selectinload(Letter.case).selectinload(Case.unit),
            )
            .order_by(Letter.id)
            .limit(limit)
        ).all()
    )


def reindex(
    instance: Instance,
    progress: Progress | None = None,
    *,
    resume: bool = True,
    batch: int = BATCH,
) -> int:
    """Rebuild the index from the database; return how many letters were indexed in this run.

    With ``resume`` (the default) an interrupted reindex continues after the last committed
    batch; otherwise, or when none is pending, the index is emptied first. Memory stays
    bounded: one batch of letters is loaded at a time, in its own session.
    """
    last_id = read_checkpoint(instance) if resume else None
    if last_id is None:
        instance.recreate_index()
        last_id = 0
        _write_checkpoint(instance, last_id)
    with instance.db.session() as session:
        total = session.scalar(select(func.count()).where(Letter.ingest_state.in_(SEARCHABLE))) or 0
        done = (
            session.scalar(
                select(func.count()).where(
                    Letter.ingest_state.in_(SEARCHABLE), Letter.id <= last_id
                )
            )
            or 0
        )
    if progress:
        progress(done, total)
    indexed = 0
    while True:
        with instance.db.session() as session:
            letters = _load_batch(session, last_id, batch)
            if not letters:
                break
            index_letters(instance, letters)  # committed to the index before the database
            for letter in letters:
                if letter.ingest_state != "indexed":
                    letter.ingest_state = "indexed"
            last_id = letters[-1].id
            count = len(letters)
        _write_checkpoint(instance, last_id)
        indexed += count
        done += count
        if progress:
            progress(min(done, total), total)
    _checkpoint_path(instance).unlink(missing_ok=True)
    return indexed


def _upgrade_path(instance: Instance) -> Path:
    return instance.home / "index" / UPGRADE_CHECKPOINT


def _upgrade_from(instance: Instance) -> int:
    """The last letter id an interrupted upgrade to this content version reached, else 0."""
    try:
        kept = json.loads(_upgrade_path(instance).read_text(encoding="utf-8"))
        return int(kept["last_id"]) if kept.get("version") == CONTENT_VERSION else 0
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return 0


def _changed_since(doc: LetterDoc, version: int) -> bool:
    """Whether an index of ``version`` holds less of this letter than the current one: version
    1 held no OCR alternatives (version 2 added them)."""
    return version < 2 and bool(doc.alternatives)


def upgrade_index(instance: Instance, progress: Progress | None = None, *,
                  batch: int = BATCH) -> int:
    """Bring an index written by an older version up to what it now holds of a letter (a
    letter indexed before the OCR's alternatives were gets them); return how many letters
    were added again.

    Only the letters whose indexed content changes are added again, in place: searching works
    throughout, and nothing is emptied. Batch after batch, each recorded in a checkpoint, so an
    interrupted upgrade resumes where it stopped; once every letter was looked at, the index
    records the current content version (and the next call does nothing).
    """
    index = instance.index
    version = index.content_version
    if version >= CONTENT_VERSION:
        _upgrade_path(instance).unlink(missing_ok=True)
        return 0
    last_id = _upgrade_from(instance)
    with instance.db.session() as session:
        searchable = Letter.ingest_state.in_(SEARCHABLE)
        total = session.scalar(select(func.count()).where(searchable)) or 0
        done = session.scalar(select(func.count()).where(searchable, Letter.id <= last_id)) or 0
    if progress:
        progress(done, total)
    redone = 0
    while True:
        with instance.db.session() as session:
            letters = _load_batch(session, last_id, batch)
            if not letters:
                break
            docs = [doc for doc in map(letter_doc, letters) if _changed_since(doc, version)]
            if docs:
                index.add(docs)
            last_id, count = letters[-1].id, len(letters)
        path = _upgrade_path(instance)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".tmp").write_text(
            json.dumps({"version": CONTENT_VERSION, "last_id": last_id}), encoding="utf-8")
        path.with_suffix(".tmp").replace(path)
        redone += len(docs)
        done += count
        if progress:
            progress(min(done, total), total)
    index.mark_content_version(CONTENT_VERSION)
    _upgrade_path(instance).unlink(missing_ok=True)
    log.info("index upgraded to content version %s: %d letter(s) added again", CONTENT_VERSION,
             redone)
    return redone


def queue_upgrade(instance: Instance, *, actor: str = "worker") -> int | None:
    """When the index was written by an older version, queue one upgrade task for the workers
    (unless one is queued or running already); its id, or None when nothing is to be done."""
    if instance.index.content_version >= CONTENT_VERSION:
        return None
    with instance.db.session() as session:
        waiting = session.scalars(select(Task.id).where(
            Task.kind == UPGRADE_TASK, Task.state.in_(("queued", "running")))).first()
        if waiting is not None:
            return int(waiting)
        key = f"{UPGRADE_TASK}:{CONTENT_VERSION}:{uuid.uuid4().hex[:12]}"
        task = tasks.enqueue(session, UPGRADE_TASK, key, {"version": CONTENT_VERSION},
                             actor=actor)
        return int(task.id)


UPGRADE_COMMAND = "huiyin reindex --upgrade"


@dataclass(frozen=True)
class PendingUpgrade:
    """An index written by an older version: which, what it holds, what to run."""

    index: str  # the engine and where it lives (a folder; a database without its password)
    content_version: int  # what the index holds of a letter
    code_version: int  # what this version of Huiyin writes
    letters: int  # the searchable letters the upgrade looks at
    command: str = UPGRADE_COMMAND

    @property
    def message(self) -> str:
        """Said to an administrator, in Chinese."""
        return (f"搜索索引（{self.index}）的内容版本是 {self.content_version}，本程序写入版本 "
                f"{self.code_version}：{self.letters} 封来信待升级（补入 OCR 候选字，升级前"
                f"识别有误的字查不到）。请运行 `{self.command}`。")


def index_description(instance: Instance) -> str:
    """The index's engine and place, fit to show (a database URL loses its password)."""
    engine = str(instance.settings["search_engine"])
    location = instance.index_location
    shown = shown_url(location) if isinstance(location, str) else location
    return f"{engine}：{shown}"


def pending_upgrade(instance: Instance) -> PendingUpgrade | None:
    """The upgrade this index waits for (`huiyin check` reports it), None when current."""
    version = instance.index.content_version
    if version >= CONTENT_VERSION:
        return None
    with instance.db.session() as session:
        letters = session.scalar(
            select(func.count()).where(Letter.ingest_state.in_(SEARCHABLE))) or 0
    return PendingUpgrade(index_description(instance), version, CONTENT_VERSION, int(letters))


@dataclass(frozen=True)
class Upgraded:
    """What `huiyin reindex --upgrade` did, to say to the administrator."""

    index: str
    content_version: int  # the index's, now
    upgraded_from: int | None  # None: it was current, nothing done
    letters_checked: int = 0
    letters_added_again: int = 0
    resumed_after: int = 0  # letters an interrupted upgrade had looked at already

    @property
    def message(self) -> str:
        """Said in Chinese: what was upgraded, how many letters, whether it resumed."""
        if self.upgraded_from is None:
            return f"搜索索引（{self.index}）已是内容版本 {self.content_version}，无需升级。"
        resumed = (f"（接续上次中断的升级，前 {self.resumed_after} 封已查看过）"
                   if self.resumed_after else "")
        return (f"搜索索引（{self.index}）已从内容版本 {self.upgraded_from} 升级到 "
                f"{self.content_version}{resumed}：查看了 {self.letters_checked} 封来信，其中 "
                f"{self.letters_added_again} 封补入 OCR 候选字后重新写入索引。")

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def upgrade_now(instance: Instance, progress: Progress | None = None) -> Upgraded:
    """Run the pending upgrade here (the same ``upgrade_index`` as the workers' task) and say
    what it did; nothing when the index is current."""
    waiting = pending_upgrade(instance)
    if waiting is None:
        return Upgraded(index_description(instance), instance.index.content_version, None)
    seen: list[tuple[int, int]] = []

    def step(done: int, total: int) -> None:
        seen.append((done, total))
        if progress:
            progress(done, total)

    redone = upgrade_index(instance, step)
    return Upgraded(waiting.index, instance.index.content_version, waiting.content_version,
                    letters_checked=seen[-1][1] - seen[0][0] if seen else 0,
                    letters_added_again=redone, resumed_after=seen[0][0] if seen else 0)


@dataclass
class IndexDrift:
    """How the index differs from the database; empty lists mean they agree."""

    letters: int = 0  # searchable letters in the database
    indexed: int = 0  # letters in the index
    missing: list[int] = field(default_factory=list)  # in the database, not in the index
    orphans: list[int] = field(default_factory=list)  # in the index, not searchable in the db
    repaired: bool = False
    reindex_pending: bool = False  # an interrupted reindex waits to be resumed
    upgrade_pending: PendingUpgrade | None = None  # written by an older version

    @property
    def ok(self) -> bool:
        return not (self.missing or self.orphans or self.reindex_pending or self.upgrade_pending)

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, **asdict(self)}


def check_index(
    instance: Instance, *, repair: bool = False, progress: Progress | None = None
) -> IndexDrift:
    """Compare the letters of the database with the index; with ``repair``, make them agree.

    The one rule of an index in step (`huiyin reindex --check`, and the index part of
    `huiyin check` in web.services.consistency): it holds exactly the searchable letters, no
    interrupted reindex waits to be resumed, and no upgrade (``pending_upgrade``).
    """
    with instance.db.session() as session:
        searchable = set(
            session.scalars(select(Letter.id).where(Letter.ingest_state.in_(SEARCHABLE)))
        )
    indexed = instance.index.letter_ids()
    drift = IndexDrift(
        letters=len(searchable),
        indexed=len(indexed),
        missing=sorted(searchable - indexed),
        orphans=sorted(indexed - searchable),
        reindex_pending=read_checkpoint(instance) is not None,
        upgrade_pending=pending_upgrade(instance),
    )
    if not repair or (not drift.missing and not drift.orphans):
        return drift
    if drift.orphans:
        instance.index.delete(drift.orphans)
    for start in range(0, len(drift.missing), BATCH):
        ids = drift.missing[start : start + BATCH]
        with instance.db.session() as session:
            letters = list(
                session.scalars(
                    select(Letter)
                    .where(Letter.id.in_(ids))
                    .options(
                        selectinload(Letter.petitioners), selectinload(Letter.pages),
                        selectinload(Letter.case).selectinload(Case.unit),
                    )
                ).all()
            )
            index_letters(instance, letters)
            for letter in letters:
                letter.ingest_state = "indexed"
        if progress:
            progress(min(start + BATCH, len(drift.missing)), len(drift.missing))
    drift.repaired = True
    return drift
