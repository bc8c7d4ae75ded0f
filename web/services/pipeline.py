"""Ingest: store the original, read its pages, index the letter — resumable at every step.

Each step commits on its own and records how far the letter got (Letter.ingest_state), so a
process killed at any moment leaves consistent records, and running the same ingest again
finishes the work instead of registering the letter twice.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError

import ocr
from ocr.fields import extract_fields
from records import BlobError, Letter, intake, sha256_file
from records.blobs import StoreUnwritable
from web.services.gazetteer import gazetteer
from web.services.indexing import index_or_queue
from web.services.instance import Instance

# on_page(pages read so far, pages in the file): how the worker reports "OCR page n of m".
PageProgress = Callable[[int, int], None]

# What one letter may be. A batch of letters scanned into one file is refused, not read for an
# hour; a page under 100 pixels a side (an icon, a tracking pixel) holds no handwriting.
LETTER_LIMITS = ocr.Limits(max_pages=200, min_side=100)

CHANGED = ("the file changed while it was being read (is the scanner still writing it?); "
           "wait until it is complete and ingest it again")
NO_TEXT = ("no text was found: the page may be blank or the scan too faint; "
           "check the original and scan it again if needed")

INDEX_QUEUED = ("read, but the search index was busy: a worker indexes it (`huiyin worker`), "
                "until then it is not found by search")

MEDIA_TYPES = {"pdf": "application/pdf", "tiff": "image/tiff", "png": "image/png",
               "jpeg": "image/jpeg"}


class OriginalNotVisible(Exception):
    """A stored letter's original is not where this process looks: the blob store is not the
    shared one (not mounted on this machine). Nothing about the letter changes; another worker
    may see it."""

    def __init__(self, sha256: str, path: Path, reg_no: str) -> None:
        super().__init__(f"original {sha256} of letter {reg_no} is not at {path}: "
                         "is the shared blob store mounted here?")
        self.sha256, self.path, self.reg_no = sha256, path, reg_no


@dataclass
class IngestResult:
    """One line of an ingest report: a letter, a duplicate, or the reason a file failed."""

    file: str
    letter_id: int | None = None
    reg_no: str | None = None
    pages: int = 0
    chars: int = 0
    duplicate_of: int | None = None
    error: str | None = None
    kept: bool = False  # an error, but the original is kept as a (failed) letter
    warning: str | None = None
    index_queued: bool = False  # read, but left to an "index" task (the index was busy)
    refusal: str | None = None  # why, as a kind (REFUSALS) callers can act on; error says it

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def refuse(self, kind: str, message: str) -> IngestResult:
        """Record a refusal: its kind for programs, its message for people."""
        assert kind in REFUSALS, kind
        self.refusal, self.error = kind, message
        return self


# The kinds of refusal: a file that is not a scan or is beyond the limits (nothing kept), a
# damaged scan (kept as a failed letter), a file that changed while stored, a store that
# refuses writes, a file that cannot be read, an original that was never stored, and pages
# that could not be read (the letter kept as failed).
REFUSALS = ("unreadable", "unsupported", "out_of_limits", "damaged", "changed",
            "store_unwritable", "io_error", "not_stored", "pages_unreadable")


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and every file below folders named, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path))
        else:
            yield path


def ingest(instance: Instance, paths: Iterable[Path], *, actor: str,
           channel: str = "letter") -> Iterator[IngestResult]:
    """Ingest many files; one that fails is reported and the others go on."""
    instance.blobs.sweep_temporary()
    for path in expand(paths):
        yield ingest_file(instance, path, actor=actor, channel=channel)


def ingest_file(instance: Instance, path: Path, *, actor: str, channel: str = "letter",
                on_page: PageProgress | None = None) -> IngestResult:
    """Register, store, read and index one scan (or finish an earlier, interrupted ingest)."""
    try:
        admitted = admit(instance, path, actor=actor, channel=channel)
    except IntegrityError:  # another process registered the same file at this instant
        admitted = admit(instance, path, actor=actor, channel=channel)
    if admitted.result.letter_id is None or admitted.result.error:
        if admitted.result.kept:
            admitted.result.error = (f"{admitted.result.error} "
                                     f"(original kept as letter {admitted.result.reg_no})")
        return admitted.result
    return complete(instance, admitted.result.letter_id, result=admitted.result, on_page=on_page)


@dataclass
class Admitted:
    """What `admit` did with a file: its report so far, and whether it made a new letter."""

    result: IngestResult
    new: bool = False


def admit(instance: Instance, path: Path, *, actor: str, channel: str = "letter",
          name: str | None = None) -> Admitted:
    """Register the scan and store its original; reading and indexing are `complete`'s part.

    The report has ``letter_id`` for a new letter or one whose earlier ingest was interrupted
    (its original is stored again if it was lost), ``duplicate_of`` for a letter already
    indexed, and ``error`` for a file that is refused. ``name`` is what the letter records as
    the file's name (an upload's sanitised name; default: the path's name, made printable).
    Whole-file problems are found here, before anything is stored: a file that is not a scan,
    or outside LETTER_LIMITS, is refused (``error``, nothing kept); a damaged scan (cut off,
    encrypted) is kept as a failed letter (``error``, ``kept``, ``letter_id``), since it may be
    the only copy. The original is stored before the letter names it, so a file that changes
    while it is read is refused with nothing registered.
    """
    result = IngestResult(file=printable(str(path)))
    problem = _unreadable(path)
    if problem:
        return Admitted(result.refuse("unreadable", problem))
    sha256 = sha256_file(path)
    with instance.db.session() as session:
        letter = intake.find_by_sha(session, sha256)
        if letter is not None and letter.ingest_state == "indexed":
            return Admitted(_describe(result, letter, duplicate=True))
        known = (letter.id, letter.ingest_state) if letter is not None else None
    damage, kind, new = None, "unknown", False
    if known is None:
        try:
            kind = ocr.sniff(path)
            ocr.count_pages(path, limits=LETTER_LIMITS)
        except ocr.UnsupportedFile as e:
            return Admitted(result.refuse("unsupported", str(e)))
        except ocr.OutOfLimits as e:
            return Admitted(result.refuse("out_of_limits", str(e)))
        except ocr.OcrError as e:  # damaged: still a scan of something, kept to compare
            damage = str(e)
    if known is None or not instance.blobs.exists(sha256):
        try:
            instance.blobs.put(path, sha256)
        except BlobError:
            return Admitted(result.refuse("changed", CHANGED))
        except StoreUnwritable as e:  # disk full, read-only: said as such, nothing registered
            return Admitted(result.refuse("store_unwritable", str(e.strerror)))
        except OSError as e:
            return Admitted(result.refuse("io_error", f"could not read the file: "
                                                      f"{e.strerror or e}"))
    with instance.db.session() as session:
        if known is None:
            letter = intake.register_letter(
                session,
                sha256=sha256,
                source_name=name or printable(path.name),
                media_type=MEDIA_TYPES.get(kind, "application/octet-stream"),
                size_bytes=path.stat().st_size,
                received_on=instance.today(),
                actor=actor,
                channel=channel,
            )
            known, new = (letter.id, letter.ingest_state), True
        else:
            letter = intake.get_letter(session, known[0])
        if letter.ingest_state == "registered":
            intake.set_state(session, letter, "stored")
        if damage:
            intake.set_state(session, letter, "failed", damage)
            result.refuse("damaged", damage)
            result.kept, result.reg_no = True, letter.reg_no
    result.letter_id = known[0]
    return Admitted(result, new=new)


def complete(instance: Instance, letter_id: int, *, result: IngestResult | None = None,
             on_page: PageProgress | None = None) -> IngestResult:
    """Read (page by page, resuming) and index a stored letter; the report says how it went.

    ``on_page(done, total)`` is called before the first page is read and after each page.
    A letter whose original was stored but is not visible here raises OriginalNotVisible.
    Two processes completing the same letter take turns; the second finds it done.
    """
    with instance.db.session() as session:
        sha256 = intake.get_letter(session, letter_id).source_sha256
    with instance.blobs.hold(sha256):
        return _complete(instance, letter_id, result, on_page)


def _complete(instance: Instance, letter_id: int, result: IngestResult | None,
              on_page: PageProgress | None) -> IngestResult:
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        state, source_name, reg_no, sha256 = (letter.ingest_state, letter.source_name,
                                              letter.reg_no, letter.source_sha256)
    result = result or IngestResult(file=source_name)
    if state == "registered":
        return result.refuse("not_stored", "the original was never stored; ingest the file again")
    if not instance.blobs.exists(sha256):
        raise OriginalNotVisible(sha256, instance.blobs.path(sha256), reg_no)
    if state == "indexed":  # another process finished it while this one waited its turn
        with instance.db.session() as session:
            return _describe(result, intake.get_letter(session, letter_id))
    if state in ("stored", "failed"):
        error = _read_pages(instance, letter_id, on_page)
        if error:
            with instance.db.session() as session:
                letter = intake.get_letter(session, letter_id)
                intake.set_state(session, letter, "failed", error)
                result.refuse("pages_unreadable",
                              f"{error} (original kept as letter {letter.reg_no})")
                return _describe(result, letter)
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        if index_or_queue(instance, session, [letter], actor="ingest", why="reading"):
            intake.set_state(session, letter, "indexed")
        else:  # read and kept; the "index" task makes it searchable
            result.index_queued = True
            result.warning = INDEX_QUEUED
        if not letter.text.strip() and letter.page_count:
            result.warning = NO_TEXT
        return _describe(result, letter)


def _read_pages(instance: Instance, letter_id: int, on_page: PageProgress | None) -> str | None:
    """OCR the stored original page by page, committing each; returns an error or None."""
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        first = intake.pages_done(session, letter) + 1
        original = instance.blobs.path(letter.source_sha256)
    engine = instance.settings["ocr_engine"]
    try:
        total = ocr.count_pages(original, limits=LETTER_LIMITS) if on_page else 0
        if on_page:
            on_page(first - 1, total)
        for page in ocr.read_pages(original, engine=engine, first=first, limits=LETTER_LIMITS):
            with instance.db.session() as session:
                intake.save_page(
                    session,
                    intake.get_letter(session, letter_id),
                    number=page.number,
                    width=page.width,
                    height=page.height,
                    source=page.source,
                    engine=engine if page.source == "ocr" else page.source,
                    lines=[line.as_dict() for line in page.lines],
                )
            if on_page:
                on_page(page.number, total)
    except ocr.OcrError as e:
        return str(e)
    places = gazetteer(instance)
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        intake.finish_reading(session, letter)
        intake.propose_fields(letter, extract_fields(letter.text, gazetteer=places).as_dict())
    return None


def _describe(result: IngestResult, letter: Letter, *, duplicate: bool = False) -> IngestResult:
    result.letter_id = None if duplicate else letter.id
    result.duplicate_of = letter.id if duplicate else None
    result.reg_no = letter.reg_no
    result.pages = letter.page_count
    result.chars = len(letter.text)
    return result


def printable(text: str) -> str:
    """A file name safe to print on a terminal and to record: control characters escaped."""
    return "".join(c if unicodedata.category(c)[0] != "C" else f"\\x{ord(c):02x}"
                   for c in text)


def _unreadable(path: Path) -> str | None:
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a regular file"
    if path.stat().st_size == 0:
        return "empty file (0 bytes): the scanner wrote nothing; scan the letter again"
    return None


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)
