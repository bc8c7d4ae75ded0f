"""Intake: uploads from the browser and files a scanner drops in the watched folder.

Both ways end in the same place: the file is registered and its original stored (the
pipeline's `admit`), and an "ingest" task is queued for the background worker, which reads
the pages and indexes the letter (web.worker). An upload is streamed to a temporary file inside
the instance folder, never under the name the browser sent (that name is only shown), and the
temporary file is always removed.

The watched folder (setting ``intake_folder``, default ``intake/`` in the instance folder):

    intake/                 the scanner writes here
    intake/processing/      taken by a worker (a file is taken once its size stopped changing)
    intake/done/            registered (a duplicate too, with <name>.reason.txt saying so)
    intake/failed/          refused or unreadable, with <name>.reason.txt saying why
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from records import Letter, tasks
from web.services.instance import Instance
from web.services.pipeline import IngestResult, admit

MAX_BYTES = 200 << 20  # one upload; a 500-page scanner PDF at 300 dpi stays well below
UPLOAD_DIR = "uploads.tmp"  # inside the instance folder
FOLDER_ACTOR = "intake-folder"
EMPTY_WAIT_S = 60.0  # a 0-byte file in the folder may be a scanner that has not begun writing
_CHUNK = 1 << 20
NO_TEXT_SHOWN = "未识别到任何文字（可能扫描了空白面或扫描太淡），请核对原件"
_SKIP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".reason.txt")


@dataclass
class Received:
    """What became of one uploaded (or dropped) file."""

    file: str
    letter_id: int | None = None
    reg_no: str | None = None
    duplicate_of: int | None = None
    error: str | None = None
    task_id: int | None = None
    kept: bool = False  # refused for reading, but the original is kept as a failed letter

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def display_name(name: str) -> str:
    """The client's file name made safe to show and to record: never used as a path."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    return base[:120] or "未命名文件"


def upload_dir(instance: Instance) -> Path:
    """Where uploads are spooled while they are checked (emptied as each one finishes)."""
    folder = instance.home / UPLOAD_DIR
    folder.mkdir(exist_ok=True)
    return folder


def receive(instance: Instance, name: str, data: BinaryIO | Callable[[], BinaryIO], *,
            actor: str, declared_size: int | None = None) -> Received:
    """Take one uploaded file: register and store it, queue its reading; or say why not.

    A file whose declared size is already too large is refused before a byte is read (and
    before ``data``, when it is a function giving the stream, is even asked for).
    """
    received = Received(file=display_name(name))
    if declared_size is not None and declared_size > MAX_BYTES:
        received.error = too_large()
        return received
    # the extension alone is kept (checked: letters and digits), so that messages about a
    # file whose content does not match its extension name the right one
    suffix = Path(received.file).suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".upload"
    stream = data() if callable(data) else data
    fd, tmp_name = tempfile.mkstemp(dir=upload_dir(instance), prefix="upload-", suffix=suffix)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            size = 0
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                size += len(chunk)
                if size > MAX_BYTES:
                    received.error = too_large()
                    return received
                out.write(chunk)
        if declared_size is not None and size != declared_size:
            # a server that marks the input terminated (gunicorn) ends a cut-off body early
            # instead of raising: a short file must not become a letter
            received.error = cut_off(size, declared_size)
            return received
        return register(instance, tmp, received, actor=actor)
    finally:
        tmp.unlink(missing_ok=True)


def cut_off(size: int, declared: int) -> str:
    return (f"上传中断：只收到 {size} 字节，应为 {declared} 字节（连接中断），"
            "请重新上传")


def too_large() -> str:
    return f"文件超过 {MAX_BYTES >> 20} MB 上限：请把扫描件分成几份再上传"


def register(instance: Instance, path: Path, received: Received, *, actor: str,
             payload: dict[str, Any] | None = None) -> Received:
    """Admit a file that is complete on disk and queue its "ingest" task (shared by both ways)."""
    size = path.stat().st_size
    if size == 0:
        received.error = "文件是空的（0 字节）：扫描仪或上传没有写入内容，请重新扫描"
        return received
    if size > MAX_BYTES:
        received.error = too_large()
        return received
    try:
        admitted = admit(instance, path, actor=actor, name=received.file)
    except IntegrityError:  # the same file registered by another request at this instant
        admitted = admit(instance, path, actor=actor, name=received.file)
    result = admitted.result
    if result.error:
        received.error = result.error
        if result.kept:
            received.error = f"{result.error}（原件已保留，登记号 {result.reg_no}）"
            received.letter_id, received.reg_no, received.kept = (result.letter_id,
                                                                  result.reg_no, True)
        elif result.refusal == "changed":
            received.error = ("文件在读取过程中发生了变化（扫描仪可能还在写入）："
                              "请等文件写完后重新登记")
        return received
    if result.duplicate_of is not None:
        received.duplicate_of, received.reg_no = result.duplicate_of, result.reg_no
        return received
    assert result.letter_id is not None
    letter_id = result.letter_id
    with instance.db.session() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None
        task = tasks.enqueue(session, "ingest", f"ingest:{letter_id}",
                             {"letter_id": letter_id, **(payload or {})},
                             letter_id=letter_id, actor=actor)
        received.reg_no, received.task_id = letter.reg_no, task.id
    if admitted.new:
        received.letter_id = letter_id
    else:  # registered before and still being read: the same letter, not a new one
        received.duplicate_of = letter_id
    return received


# -- progress, for the intake page to poll ---------------------------------------------------

def progress(instance: Instance, letter_ids: list[int]) -> list[dict[str, Any]]:
    """Where each letter is: stored, OCR page n of m, indexed, or its error (in Chinese)."""
    ids = sorted({int(i) for i in letter_ids})[:200]
    with instance.db.session() as session:
        letters = {letter.id: letter for letter in session.scalars(
            select(Letter).where(Letter.id.in_(ids)))}
        by_letter = tasks.for_letters(session, ids)
        return [_status(letters[i], by_letter.get(i)) for i in ids if i in letters]


def _status(letter: Letter, task: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {"letter_id": letter.id, "reg_no": letter.reg_no,
                             "file": letter.source_name, "state": "stored", "page": 0,
                             "pages": 0, "error": None, "done": False}
    step = dict(task.progress) if task is not None else {}
    if letter.ingest_state == "indexed":
        pages = letter.page_count
        shown.update(state="indexed", page=pages, pages=pages, done=True,
                     label=f"已入库，共 {pages} 页，可检索")
        if pages and not (letter.text or "").strip():
            shown["warning"] = NO_TEXT_SHOWN
            shown["label"] = f"已入库，共 {pages} 页，但{NO_TEXT_SHOWN}"
    elif letter.ingest_state == "failed" or (task is not None and task.state == "failed"):
        error = letter.ingest_error or (task.error if task is not None else None) or "处理失败"
        shown.update(state="failed", error=f"{error}（原件已保留，登记号 {letter.reg_no}）",
                     done=True, label="处理失败")
    elif letter.ingest_state == "read" or step.get("step") == "index":
        shown.update(state="indexing", label="正在建立检索索引")
    elif step.get("step") == "ocr" and task is not None and task.state == "running":
        page, pages = int(step.get("page", 0)), int(step.get("pages", 0))
        label = f"正在识别 第 {min(page + 1, pages)}/{pages} 页" if pages else "正在识别"
        shown.update(state="ocr", page=page, pages=pages, label=label)
    else:
        shown.update(label="原件已保存，排队等待识别")
    return shown


# -- the watched folder ------------------------------------------------------------------------

_seen: dict[Path, dict[str, tuple[int, int]]] = {}
_seen_lock = threading.Lock()


def intake_folder(instance: Instance) -> Path:
    """The watched folder: the setting (relative to the instance folder), else intake/."""
    setting = str(instance.settings.get("intake_folder") or "").strip()
    folder = Path(setting).expanduser() if setting else Path("intake")
    return folder if folder.is_absolute() else instance.home / folder


def _folders(instance: Instance) -> dict[str, Path]:
    root = intake_folder(instance)
    found = {"root": root, "processing": root / "processing", "done": root / "done",
             "failed": root / "failed"}
    for folder in found.values():
        folder.mkdir(parents=True, exist_ok=True)
    return found


def _candidate(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    return (not name.startswith((".", "~")) and not name.lower().endswith(_SKIP_SUFFIXES)
            and entry.is_file(follow_symlinks=False))


def scan_folder(instance: Instance) -> list[int]:
    """Take the files whose size stopped changing since the last poll; returns their task ids.

    A file still being written by a scanner (its size or time changed since the previous
    poll) is left for a later poll. A taken file moves to processing/ at once (a rename, so
    two workers never take the same file) and an "intake-file" task is queued for it.
    """
    folders = _folders(instance)
    root = folders["root"]
    observed: dict[str, tuple[int, int]] = {}
    taken: list[tuple[str, str]] = []
    now = time.time()
    with _seen_lock:
        before = _seen.get(root, {})
        with os.scandir(root) as entries:
            for entry in entries:
                if not _candidate(entry):
                    continue
                stat = entry.stat(follow_symlinks=False)
                mark = (stat.st_size, stat.st_mtime_ns)
                settled = stat.st_size > 0 or now - stat.st_mtime > EMPTY_WAIT_S
                if before.get(entry.name) != mark or not settled:
                    observed[entry.name] = mark
                    continue
                work_name = f"{uuid.uuid4().hex[:12]}-{display_name(entry.name)}"
                try:
                    Path(entry.path).rename(folders["processing"] / work_name)
                except FileNotFoundError:
                    continue  # another worker took it
                taken.append((work_name, entry.name))
        _seen[root] = observed
    # files whose task was never queued (a crash between the rename and the commit)
    queued = {w for w, _ in taken}
    leftovers = [(p.name, p.name.split("-", 1)[-1]) for p in folders["processing"].iterdir()
                 if p.is_file() and p.name not in queued]
    ids = []
    with instance.db.session() as session:
        for work_name, name in [*taken, *leftovers]:
            task = tasks.enqueue(session, "intake-file", f"intake-file:{work_name}",
                                 {"file": work_name, "name": name}, actor=FOLDER_ACTOR)
            if task.state in tasks.ACTIVE:
                ids.append(task.id)
    return ids


def take_folder_file(instance: Instance, payload: dict[str, Any]) -> Received:
    """The "intake-file" task: register a taken file and queue its reading (or refuse it)."""
    folders = _folders(instance)
    path = folders["processing"] / Path(str(payload["file"])).name
    received = Received(file=display_name(str(payload.get("name") or path.name)))
    if not path.is_file():
        received.error = "文件已不在 processing/ 中（已被处理或移走）"
        return received
    received = register(instance, path, received, actor=FOLDER_ACTOR,
                        payload={"folder_file": path.name})
    if received.error:
        settle_folder_file(instance, path.name, received.file, error=received.error)
    elif received.duplicate_of is not None and received.task_id is None:
        settle_folder_file(instance, path.name, received.file,
                           note=f"与已登记的来信 {received.reg_no} 内容相同，未重复登记")
    elif received.letter_id is None:  # the same letter, still being read by its own task
        settle_folder_file(instance, path.name, received.file,
                           note=f"来信 {received.reg_no} 已在处理中，未重复登记")
    return received


def settle_folder_file(instance: Instance, work_name: str, name: str, *,
                       error: str | None = None, note: str | None = None) -> Path | None:
    """Move a processed file to done/ (or failed/, with <name>.reason.txt saying why)."""
    folders = _folders(instance)
    source = folders["processing"] / Path(work_name).name
    if not source.is_file():
        return None
    target = _free_name(folders["failed" if error else "done"], display_name(name))
    source.rename(target)
    reason = error or note
    if reason:
        stamp = dt.datetime.now(_zone(instance)).strftime("%Y-%m-%d %H:%M")
        target.with_name(target.name + ".reason.txt").write_text(
            f"{stamp}  {target.name}\n{reason}\n", encoding="utf-8")
    return target


def _zone(instance: Instance) -> ZoneInfo:
    return ZoneInfo(str(instance.settings["timezone"]))


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while target.exists() or target.with_name(target.name + ".reason.txt").exists():
        target = folder / f"{stem} ({n}){suffix}"
        n += 1
    return target


def folder_listing(instance: Instance, limit: int = 20) -> dict[str, Any]:
    """The watched folder for the intake page: waiting, being read, and recent done / failed."""
    try:
        return _listing(instance, limit)
    except OSError as e:
        return {"folder": str(intake_folder(instance)), "waiting": [], "processing": [],
                "recent": [], "error": f"无法读取扫描仪文件夹：{e.strerror or e}"}


def _listing(instance: Instance, limit: int) -> dict[str, Any]:
    folders = _folders(instance)

    def files(folder: Path) -> list[Path]:
        return [p for p in folder.iterdir()
                if p.is_file() and not p.name.endswith(".reason.txt")]

    recent = []
    for outcome in ("done", "failed"):
        for path in files(folders[outcome]):
            reason_file = path.with_name(path.name + ".reason.txt")
            reason = reason_file.read_text(encoding="utf-8").split("\n", 1)[-1].strip() \
                if reason_file.is_file() else ""
            when = dt.datetime.fromtimestamp(path.stat().st_ctime, _zone(instance))
            recent.append({"name": path.name, "outcome": outcome, "reason": reason,
                           "at": when, "when": when.strftime("%m-%d %H:%M")})
    recent.sort(key=lambda r: r["at"], reverse=True)
    return {"folder": str(folders["root"]),
            "waiting": sorted(p.name for p in files(folders["root"])
                              if not p.name.startswith((".", "~"))),
            "processing": sorted(p.name.split("-", 1)[-1] for p in files(folders["processing"])),
            "recent": recent[:limit]}


def describe(result: IngestResult) -> str:
    """A one-line account of a pipeline result, for the worker's log."""
    if result.error:
        return f"{result.file}: {result.error}"
    return f"{result.file}: letter {result.reg_no}, {result.pages} page(s), {result.chars} chars"
