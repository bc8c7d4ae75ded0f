"""校对: the clerk checks a letter's OCR text beside its scan and confirms what it is about.

Service functions, no Flask, so the pages and the API share them:

- ``review_queue``: letters read but not yet reviewed, oldest first.
- ``review_data``: what the review screen shows of one letter (pages, lines, proposed fields).
- ``edit_line``: correct one OCR line; the machine's reading is kept (``ocr_text`` in the line,
  and a ``PageEdit`` row per change), the letter's text follows and is reindexed (queued for
  the workers instead when the index is busy: the clerk's change is saved either way).
- ``save_metadata``: confirm petitioners, place, category and summary, and open a new case or
  link the letter to an existing one (routed as the CLI and the demo do).

Both changes carry the letter's ``version`` as the clerk saw it: a letter changed meanwhile by
someone else is refused with a ``ReviewConflict`` holding the current values.

    ReviewError          bad input; the message says what to fix
    └── ReviewConflict   the letter changed since the form was opened (HTTP 409)
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ocr import CHECK_BELOW
from ocr.fields import extract_fields, valid_id_number
from records import AuditEvent, Case, Letter, Page, PageEdit, RecordsError, audit, cases, intake
from records.models import utcnow
from records.routing import route_case
from web.services import labels
from web.services.doubts import doubts
from web.services.errors import ServiceError
from web.services.gazetteer import categories, gazetteer
from web.services.indexing import index_or_queue
from web.services.instance import Instance

# A line read with less confidence than this is marked for the clerk.
LOW_SCORE = CHECK_BELOW
MAX_LINE = 500  # characters in one corrected line
PETITIONER_FIELDS = ("name", "id_number", "phone", "address")
LETTER_FIELDS = ("township", "village", "category", "summary")
# A letter is filed only with these (and a petitioner's name); the category only where the
# office keeps a category table.
REQUIRED = ("township", "category", "summary")
LIMITS = {"name": 64, "address": 255, "township": 64, "village": 64, "category": 64,
          "summary": 255}
LABELS = {"name": "姓名", "id_number": "身份证号", "phone": "电话", "address": "住址",
          "township": "乡镇（街道）", "village": "村（社区）", "category": "事项分类",
          "summary": "事项摘要"}
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"0[1-9][0-9]{1,2}-?[1-9][0-9]{6,7}(?:-[0-9]{1,5})?")
_ADDRESS = re.compile(r"(?:家住|住址[:：]?|现住|住在)([^，。,；;\n]{2,40})")


class ReviewError(ServiceError):
    """A review the records cannot take as given; the message says what to fix.

    ``field`` names the form field at fault (``p0_id_number``, ``township`` ...) so a page can
    show the message beside it.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ReviewConflict(ReviewError):
    """Someone changed the letter since this form was opened; ``current`` is what it is now."""

    def __init__(self, message: str, current: dict[str, Any]) -> None:
        super().__init__(message)
        self.current = current


# ---------------------------------------------------------------- reading


def review_queue(instance: Instance, scope: ColumnElement[bool], *,
                 limit: int = 200) -> list[dict[str, Any]]:
    """Letters read but not yet reviewed, oldest first (received, then registered)."""
    with instance.db.session() as session:
        letters = session.scalars(
            select(Letter).where(scope, Letter.reviewed_at.is_(None),
                                 Letter.ingest_state.in_(("read", "indexed")))
            .order_by(Letter.received_on, Letter.id).limit(limit)
        ).all()
        return [_queue_row(letter) for letter in letters]


def _queue_row(letter: Letter) -> dict[str, Any]:
    lines = [line for page in letter.pages for line in page.lines]
    return {
        "id": letter.id, "reg_no": letter.reg_no, "received_on": letter.received_on,
        "channel": letter.channel, "source_name": letter.source_name,
        "pages": letter.page_count, "lines": len(lines),
        "low_lines": sum(1 for line in lines if _low(line)),
        "petitioners": "、".join(intake.petitioner_names(letter)),
        "summary": letter.summary, "case_id": letter.case_id,
        "case_no": letter.case.case_no if letter.case else None,
    }


def next_in_queue(instance: Instance, scope: ColumnElement[bool], after: int) -> int | None:
    """The letter to review after this one: the oldest waiting that is not ``after``."""
    with instance.db.session() as session:
        found = session.scalar(
            select(Letter.id).where(scope, Letter.reviewed_at.is_(None), Letter.id != after,
                                    Letter.ingest_state.in_(("read", "indexed")))
            .order_by(Letter.received_on, Letter.id).limit(1))
    return found


def review_data(instance: Instance, session: Session, letter: Letter) -> dict[str, Any]:
    """Everything the review screen shows of one letter, as plain data."""
    fields = extract_fields(letter.text or "", gazetteer=gazetteer(instance)).as_dict()
    pages = []
    for page in letter.pages:
        lines = [_line_view(i, line) for i, line in enumerate(page.lines)]
        pages.append({"id": page.id, "number": page.number, "width": page.width,
                      "height": page.height, "source": page.source, "lines": lines,
                      "mean_score": page.mean_score,
                      "low_lines": sum(1 for line in lines if line["low"])})
    edits = session.scalars(
        select(PageEdit).join(Page, Page.id == PageEdit.page_id)
        .where(Page.letter_id == letter.id).order_by(PageEdit.id.desc()).limit(50)).all()
    number_of = {page.id: page.number for page in letter.pages}
    return {
        "id": letter.id, "reg_no": letter.reg_no, "received_on": letter.received_on,
        "channel": letter.channel, "source_name": letter.source_name,
        "page_count": letter.page_count, "version": letter.version, "text": letter.text,
        "case_id": letter.case_id, "case_no": letter.case.case_no if letter.case else None,
        "case_title": letter.case.title if letter.case else None,
        "reviewed_by": letter.reviewed_by, "reviewed_at": letter.reviewed_at,
        "pages": pages, "doubtful": unchecked_low_lines(letter),
        "form": _prefill(letter, fields, categories(instance)),
        "found": {"id_numbers": fields["id_numbers"], "phones": fields["phones"],
                  "unverified_id_numbers": fields["unverified_id_numbers"],
                  "names": fields["names"], "signature": fields["signature"],
                  "townships": fields["townships"], "villages": fields["villages"],
                  "dates": fields["dates"], "amounts": fields["amounts"]},
        "categories": categories(instance),
        "edits": [{"page": number_of.get(e.page_id), "line": e.line + 1, "before": e.before,
                   "after": e.after, "by": e.by,
                   "at": e.at} for e in edits],  # UTC: the page shows it in office time
    }


def _low(line: dict[str, Any]) -> bool:
    score = line.get("score")
    return score is not None and float(score) < LOW_SCORE


def _line_view(index: int, line: dict[str, Any]) -> dict[str, Any]:
    box = line.get("box") or []
    points = " ".join(f"{x:g},{y:g}" for x, y in box)
    edited = "ocr_text" in line and line["ocr_text"] != line.get("text")
    text = str(line.get("text", ""))
    marks = doubts(line)
    return {"index": index, "text": text, "score": line.get("score"),
            "low": _low(line), "ocr_text": line.get("ocr_text"),
            "edited": edited, "points": points, "doubts": len(marks),
            "chars": [{"c": c, "alt": marks.get(i)} for i, c in enumerate(text)]}


def _prefill(letter: Letter, fields: dict[str, Any], known: list[str]) -> dict[str, Any]:
    """The form as the clerk first sees it: confirmed values, else what the text proposes."""
    if letter.petitioners:
        people = [{"name": p.name, "id_number": p.id_number or "", "phone": p.phone or "",
                   "address": p.address} for p in letter.petitioners]
    else:
        names = list(fields["names"]) or ([fields["petitioner"]] if fields["petitioner"] else [])
        ids, phones = list(fields["id_numbers"]), list(fields["phones"])
        found = _ADDRESS.search(letter.text or "")
        address = found.group(1).strip() if found else ""
        people = [{"name": name, "id_number": ids[i] if i < len(ids) else "",
                   "phone": phones[i] if i < len(phones) else "",
                   "address": address if i == 0 else ""} for i, name in enumerate(names)]
        if not people and (ids or phones):
            people = [{"name": "", "id_number": ids[0] if ids else "",
                       "phone": phones[0] if phones else "", "address": address}]
    return {
        "petitioners": people,
        "township": letter.township or next(iter(fields["townships"]), ""),
        "village": letter.village or next(iter(fields["villages"]), ""),
        "category": letter.category or (letter.case.category if letter.case else "")
        or propose_category(letter.text or "", known),
        # until a clerk confirms one, what the letter asks for beats the reader's first sentence
        "summary": (letter.summary if letter.reviewed_at else "")
        or propose_summary(letter.text or "") or letter.summary or fields["summary"] or "",
    }


# Words that point at a 事项分类 when the office's category table has it (names as in the
# demo and the provincial list); the category's own name in the text counts most.
CATEGORY_WORDS = {
    "征地拆迁": ("征地", "拆迁", "征收", "补偿款", "安置费", "青苗"),
    "劳动社保": ("工资", "欠薪", "社保", "养老保险", "工伤", "劳动合同", "农民工"),
    "民政救助": ("低保", "救助", "五保", "残疾", "优抚", "困难补助"),
    "城乡建设": ("房屋", "物业", "小区", "道路", "住房", "违建", "施工"),
    "农村农业": ("土地承包", "承包地", "种粮", "农业补贴", "合作社"),
    "国土资源": ("宅基地", "土地确权", "界址", "占地"),
    "环境保护": ("污染", "噪音", "排污", "粉尘", "异味", "垃圾"),
}


def propose_category(text: str, known: list[str]) -> str:
    """The office's category the letter's words point at most, or "" when none does."""
    best, best_score = "", 0
    for category in known:
        score = 3 * text.count(category) + sum(
            text.count(word) for word in CATEGORY_WORDS.get(category, ()))
        if score > best_score:
            best, best_score = category, score
    return best


_REQUEST = re.compile(r"(?:请求|要求|希望|恳请|反映)[^。！？\n]{4,60}")


def propose_summary(text: str) -> str:
    """What the letter asks for (its 请求 sentence), shortened to a summary; "" if none."""
    flat = re.sub(r"\s+", "", text)
    found = [m.group(0) for m in _REQUEST.finditer(flat)]
    if not found:
        return ""
    best = max(found, key=lambda s: s.startswith(("请求", "要求", "恳请")))
    best = re.sub(r"^(?:请求|恳请)(?:领导|县领导|有关部门|政府)?(?:帮忙|帮助)?|^反映(?:的问题是)?",
                  "", best)
    return best.strip("，,：: ")[:60]


def _current(session: Session, letter: Letter, instance: Instance) -> dict[str, Any]:
    """The letter as it is now, and who changed it last: shown when a save is refused."""
    last = session.scalars(
        select(AuditEvent).where(AuditEvent.entity == "letter", AuditEvent.entity_id == letter.id,
                                 AuditEvent.action != "read")
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    return {
        "version": letter.version,
        "changed_by": last.actor if last else None,
        "changed_at": instance.local_time(last.at).strftime("%Y-%m-%d %H:%M:%S")
        if last else None,
        "change": last.action if last else None,
        "petitioners": [{"name": p.name, "phone": p.phone or ""} for p in letter.petitioners],
        **{name: getattr(letter, name) for name in LETTER_FIELDS},
        "case_no": letter.case.case_no if letter.case else None,
        "reviewed_by": letter.reviewed_by,
    }


def _name(session: Session, username: str | None) -> str:
    """Who changed a letter, by the name the office knows them by."""
    if not username:
        return "他人"
    return labels.person(username, labels.display_names(session, [username]))


def _check_version(session: Session, letter: Letter, expected: int | None,
                   instance: Instance) -> None:
    if expected is None:
        raise ReviewError("缺少版本号（version）：请重新打开本页后再保存")
    if letter.version != expected:
        current = _current(session, letter, instance)
        who = _name(session, current["changed_by"])
        raise ReviewConflict(f"来信 {letter.reg_no} 已被 {who} 修改（{current['changed_at']}），"
                             "请看过对方的修改后再保存", current)


def _conflict_after_race(instance: Instance, letter_id: int) -> ReviewConflict:
    """Two saves at the same moment: the database refused the second; say what won."""
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        current = _current(session, letter, instance)
        who = _name(session, current["changed_by"])
    return ReviewConflict(f"来信 {letter_id} 刚被 {who} 修改，"
                          "请看过对方的修改后再保存", current)


# ---------------------------------------------------------------- line edits


def edit_line(instance: Instance, page_id: int, line: int, text: str, *, actor: str,
              expected_version: int | None) -> dict[str, Any]:
    """Correct line ``line`` (0-based) of a page; the OCR reading and every edit are kept."""
    text = _clean_line(text)
    try:
        with instance.db.session() as session:
            page = session.get(Page, page_id)
            if page is None:
                raise ReviewError(f"没有编号为 {page_id} 的页面")
            letter = page.letter
            _check_version(session, letter, expected_version, instance)
            lines = [dict(item) for item in page.lines]
            proposed: dict[str, Any] = {}
            if not 0 <= line < len(lines):
                raise ReviewError(f"第 {page.number} 页没有第 {line + 1} 行")
            before = str(lines[line].get("text", ""))
            changed = before != text
            if changed:
                lines[line].setdefault("ocr_text", before)
                lines[line]["text"] = text
                page.lines = lines
                page.text = "\n".join(str(item["text"]) for item in lines if item.get("text"))
                letter.text = "\n\n".join(p.text for p in letter.pages)
                proposed = extract_fields(letter.text, gazetteer=gazetteer(instance)).as_dict()
                intake.propose_fields(letter, proposed)
                session.add(PageEdit(page_id=page.id, line=line, before=before, after=text,
                                     by=actor, at=utcnow()))
                audit.record(session, actor, "edit-line", "letter", letter.id, page=page.number,
                             line=line + 1, before=before, after=text)
                session.flush()
                index_or_queue(instance, session, [letter], actor=actor, why="a line edit")
            return {"letter_id": letter.id, "page_id": page.id, "page": page.number,
                    "line": line, "text": text, "ocr_text": lines[line].get("ocr_text"),
                    "changed": changed, "version": letter.version, "before": before,
                    "found": {k: list(letter.extracted.get(k) or []) for k in
                              ("id_numbers", "phones", "unverified_id_numbers")}
                    | {"names": _names_in(proposed, text)}}
    except StaleDataError as e:
        raise _conflict_after_race(instance, _letter_of(instance, page_id)) from e


def _names_in(proposed: dict[str, Any], line: str) -> list[str]:
    """The names the text proposes that the corrected line holds (a signature, a 我叫 line)."""
    names = [*proposed.get("names", []), proposed.get("signature"), proposed.get("petitioner")]
    return list(dict.fromkeys(n for n in names if n and n in line))


def _letter_of(instance: Instance, page_id: int) -> int:
    with instance.db.session() as session:
        return int(session.scalar(select(Page.letter_id).where(Page.id == page_id)) or 0)


def _clean_line(text: str) -> str:
    text = " ".join(str(text).replace("\r", "\n").split("\n")).strip()
    if len(text) > MAX_LINE:
        raise ReviewError(f"一行最多 {MAX_LINE} 个字，这一行有 {len(text)} 个字")
    return text


# ---------------------------------------------------------------- metadata


def normalize_id_number(value: str) -> str:
    """An 18-digit resident ID number with a valid check digit, or a ReviewError saying why."""
    number = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()
    if not number:
        return ""
    if len(number) != 18 or not number[:17].isdigit():
        raise ReviewError(f"身份证号“{value.strip()}”应为 18 位（前 17 位是数字，"
                          f"最后一位是数字或 X），现在是 {len(number)} 位")
    if not valid_id_number(number):
        raise ReviewError(f"身份证号“{number}”的校验位不对：请对照原件检查每一位数字")
    return number


def normalize_phone(value: str) -> str:
    """A mobile (11 digits) or landline (区号-号码) number, or a ReviewError saying why."""
    phone = re.sub(r"[\s()（）]+", "", unicodedata.normalize("NFKC", value))
    phone = re.sub(r"^(?:\+?86)(?=1[3-9][0-9]{9}$)", "", phone)
    if not phone:
        return ""
    if _MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone):
        return phone
    raise ReviewError(f"电话“{value.strip()}”不是有效的号码：手机号为 1 开头的 11 位数字，"
                      "固定电话写作 区号-号码（如 0371-12345678）")


def clean_form(form: dict[str, Any], known_categories: list[str]) -> dict[str, Any]:
    """Check and normalise the review form; the first problem is raised as a ReviewError."""
    people = []
    for n, row in enumerate(form.get("petitioners") or [], 1):
        values = {k: str(row.get(k) or "").strip() for k in PETITIONER_FIELDS}
        if not any(values.values()):
            continue  # an empty row of the form
        if not values["name"]:
            raise ReviewError(f"第 {n} 位信访人没有填写姓名", f"p{n - 1}_name")
        for name, normalize in (("id_number", normalize_id_number), ("phone", normalize_phone)):
            try:
                values[name] = normalize(values[name])
            except ReviewError as e:
                raise ReviewError(str(e), f"p{n - 1}_{name}") from None
        for name in ("name", "address"):
            if len(values[name]) > LIMITS[name]:
                raise ReviewError(f"{LABELS[name]}最多 {LIMITS[name]} 个字", f"p{n - 1}_{name}")
        people.append(values)
    if not people:
        raise ReviewError("请填写信访人姓名（匿名来信填“匿名”）", "p0_name")
    ids = [p["id_number"] for p in people if p["id_number"]]
    if len(ids) != len(set(ids)):
        raise ReviewError("同一个身份证号填了两次：每位信访人的身份证号应各不相同",
                          f"p{len(people) - 1}_id_number")
    cleaned: dict[str, Any] = {"petitioners": people}
    for name in LETTER_FIELDS:
        cleaned[name] = " ".join(str(form.get(name) or "").split())
        if len(cleaned[name]) > LIMITS[name]:
            raise ReviewError(f"{LABELS[name]}最多 {LIMITS[name]} 个字", name)
    for name in REQUIRED:
        if not cleaned[name] and (name != "category" or known_categories):
            raise ReviewError(f"请填写{LABELS[name]}", name)
    if cleaned["category"] and known_categories and cleaned["category"] not in known_categories:
        raise ReviewError(f"事项分类“{cleaned['category']}”不在分类表中，请从列表中选择",
                          "category")
    return cleaned


def unchecked_low_lines(letter: Letter) -> int:
    """Lines read with low confidence that nobody has corrected: the clerk must look at them."""
    return sum(1 for page in letter.pages for line in page.lines
               if _low(line) and "ocr_text" not in line)


def save_metadata(instance: Instance, letter_id: int, form: dict[str, Any], *, actor: str,
                  expected_version: int | None, case: str | int | None,
                  low_lines_checked: bool | None = None) -> dict[str, Any]:
    """Confirm who wrote, from where, about what; open a case (``"new"``) or link to one (id).

    ``case=None`` leaves the letter's case as it is. The letter is marked reviewed by
    ``actor``, reindexed, and the result says which case it now belongs to. A page passes
    ``low_lines_checked`` (its 已核对 box): False refuses a letter whose doubtful lines were
    neither corrected nor confirmed.
    """
    cleaned = clean_form(form, categories(instance))
    if case is not None and case != "new" and not isinstance(case, int):
        raise ReviewError("请选择新建案件，或选择要并入的已有案件")
    try:
        with instance.db.session() as session:
            letter = session.get(Letter, letter_id)
            if letter is None:
                raise ReviewError(f"没有编号为 {letter_id} 的来信")
            _check_version(session, letter, expected_version, instance)
            doubtful = unchecked_low_lines(letter)
            if low_lines_checked is False and doubtful:
                raise ReviewError(f"本件有 {doubtful} 行识别置信度低：请逐行核对原件后勾选"
                                  "“已核对”，再保存", "low_lines_checked")
            before = {name: getattr(letter, name) for name in LETTER_FIELDS}
            for name in LETTER_FIELDS:
                setattr(letter, name, cleaned[name])
            _set_petitioners(session, letter, cleaned["petitioners"], actor=actor)
            opened = False
            target: Case | None = letter.case
            try:
                if case == "new":
                    if letter.case is not None:
                        raise ReviewError(f"本件已属于案件 {letter.case.case_no}，不能再新建")
                    target = cases.open_case(session, letter, actor=actor)
                    route_case(session, target, actor=actor)
                    opened = True
                elif isinstance(case, int):
                    target = session.get(Case, case)
                    if target is None:
                        raise ReviewError(f"没有编号为 {case} 的案件")
                    cases.link_letter(session, letter, target, actor=actor,
                                      reason="校对时由登记员确认")
            except RecordsError as e:
                raise ReviewError(str(e)) from e
            letter.reviewed_by, letter.reviewed_at = actor, utcnow()
            audit.record(session, actor, "review", "letter", letter.id,
                         changed={k: [v, cleaned[k]] for k, v in before.items()
                                  if v != cleaned[k]},
                         petitioners=len(cleaned["petitioners"]),
                         case=target.case_no if target else None, opened=opened)
            session.flush()
            index_or_queue(instance, session, [letter], actor=actor, why="review")
            return {"letter_id": letter.id, "reg_no": letter.reg_no, "version": letter.version,
                    "case_id": target.id if target else None,
                    "case_no": target.case_no if target else None, "opened": opened,
                    "unit": target.unit.name if target and target.unit else None}
    except StaleDataError as e:
        raise _conflict_after_race(instance, letter_id) from e


def _set_petitioners(session: Session, letter: Letter, people: list[dict[str, str]], *,
                     actor: str) -> None:
    """The letter's petitioners become exactly these, in this order (same ID: same person)."""
    current = {(p.name, p.id_number or "", p.phone or "", p.address): p
               for p in letter.petitioners}
    wanted = []
    for values in people:
        key = (values["name"], values["id_number"], values["phone"], values["address"])
        person = current.get(key)
        if person is None:
            person = intake.attach_petitioner(
                session, letter, name=values["name"], id_number=values["id_number"] or None,
                phone=values["phone"] or None, address=values["address"],
                township=letter.township, village=letter.village, actor=actor)
            # The clerk's reading of this letter is the newest word on how to reach them.
            if values["phone"]:
                person.phone = values["phone"]
            if values["address"]:
                person.address = values["address"]
        wanted.append(person)
    dropped = [p for p in letter.petitioners if p not in wanted]
    if dropped:
        audit.record(session, actor, "unlink-petitioner", "letter", letter.id,
                     petitioner_ids=[p.id for p in dropped])
    letter.petitioners = wanted

