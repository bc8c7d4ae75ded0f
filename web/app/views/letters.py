"""Letters: the register (newest first), one letter, and search over all of them.

A handler sees only its unit's letters: search passes the unit filter to the index (so totals
and pages are right) and every list is also filtered with letter_scope as a guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, joinedload, selectinload
from werkzeug.wrappers import Response

import search
from records import Case, Letter, Petitioner, audit
from records.models import letter_petitioner
from records.privacy import mask_personal
from web.app.auth import requires, user
from web.app.files import xlsx_response
from web.app.views import instance
from web.services import exports, letter_search, letter_view
from web.services.access import letter_scope, may_see_letter
from web.services.cache import Kept
from web.services.gazetteer import categories
from web.services.labels import INGEST_FILTERS

bp = Blueprint("letters", __name__)
bp.add_app_template_filter(mask_personal, "mask_ids")
PER_PAGE = 50
HITS_PER_PAGE = 20
MAX_SEARCH_PAGE = 100  # 2,000 hits deep: past that, narrow the search
RELATED_LIMIT = 50
STATE_LABELS = {key: label for key, (label, _) in INGEST_FILTERS.items()}
STATUS_LABELS = letter_view.STATUS_LABELS


@bp.get("/")
@requires("read_letters")
def register() -> str:
    """The register of letters, newest first, 50 to a page, with filters."""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    chosen, where = _register_filters()
    with instance().db.session() as session:
        total = _count(session, where, chosen)
        rows = session.scalars(
            select(Letter).where(*where)
            .options(selectinload(Letter.petitioners),
                     joinedload(Letter.case).joinedload(Case.unit))
            .order_by(Letter.received_on.desc(), Letter.id.desc())
            .offset((page - 1) * PER_PAGE).limit(PER_PAGE)
        ).unique().all()
        letters = [letter_view.letter_row(letter) for letter in rows]
        townships = _townships(session)
    args: dict[str, Any] = {k: v for k, v in chosen.items() if v}
    return render_template(
        "letters/register.html", letters=letters, total=total, page=page,
        pages=max(1, -(-total // PER_PAGE)), chosen=chosen, states=STATE_LABELS,
        townships=townships, categories=categories(instance()),
        args=args, export_url=url_for("letters.export", **args))


def _register_filters() -> tuple[dict[str, str], list[Any]]:
    """The register's filters from the address, and the conditions they make."""
    args = request.args
    chosen = {name: args.get(name, "").strip()[:64] for name in
              ("state", "reviewed", "township", "category", "caseless")}
    where = [letter_scope(user())]
    if chosen["state"] in INGEST_FILTERS:
        where.append(Letter.ingest_state.in_(INGEST_FILTERS[chosen["state"]][1]))
    if chosen["reviewed"] == "yes":
        where.append(Letter.reviewed_at.is_not(None))
    elif chosen["reviewed"] == "no":
        where.append(Letter.reviewed_at.is_(None))
    if chosen["township"]:
        where.append(Letter.township == chosen["township"])
    if chosen["category"]:
        where.append(Letter.category == chosen["category"])
    if chosen["caseless"]:
        where.append(Letter.case_id.is_(None))
    return chosen, where


@bp.get("/register.xlsx")
@requires("read_letters")
def export() -> Response:
    """The register as filtered, every page of it, as an Excel workbook (no ID numbers)."""
    _, where = _register_filters()
    with instance().db.session() as session:
        letters = session.scalars(
            select(Letter).where(*where)
            .options(selectinload(Letter.petitioners),
                     joinedload(Letter.case).joinedload(Case.unit))
            .order_by(Letter.received_on.desc(), Letter.id.desc())
            .limit(exports.MAX_ROWS + 1)).unique().all()
        rows = [(r["reg_no"], r["received_on"], r["petitioners"], r["township"] or "",
                 r["category"] or "", r["summary"], r["case_no"] or "未立案",
                 r["case_stage"] or "", "已校对" if r["reviewed"] else "未校对")
                for r in map(letter_view.letter_row, letters)]
    today = instance().today()
    return xlsx_response(f"来信登记簿 {today}", REGISTER_HEADERS, rows,
                         f"来信登记簿-{today}.xlsx")


REGISTER_HEADERS = ("登记编号", "收信日期", "信访人", "乡镇", "类别", "事项摘要", "信访事项",
                    "事项状态", "校对")


# Totals of the register's filters, kept until the records change: counting reads an index
# entry per letter (a few ms at 100k letters). Not with the ingest-state filter: the worker's
# progress from state to state is not an audited change.
_TOTALS = Kept(256)


def _count(session: Session, where: list[Any], chosen: dict[str, str]) -> int:
    key = None
    if not chosen["state"]:
        key = (str(session.get_bind().engine.url), audit.newest_change(session),
               user().unit_ids, tuple(sorted(chosen.items())))
        kept = _TOTALS.get(key)
        if kept is not None:
            return int(kept)
    # straight from the table: counting a subquery of whole rows reads every letter
    total = session.scalar(select(func.count()).select_from(Letter).where(*where)) or 0
    if key is not None:
        _TOTALS.put(key, total)
    return total


def _townships(session: Session) -> list[str]:
    """The letters' townships, by skipping from one to the next along their index.

    A plain DISTINCT reads every letter's entry (5 ms at 100k letters, on every register page);
    this is one index lookup per township (a loose index scan, on SQLite and PostgreSQL alike).
    """
    first = select(func.min(Letter.township).label("v")).where(Letter.township > "")
    found = first.cte("townships", recursive=True)
    following = select(func.min(Letter.township)).where(Letter.township > found.c.v)
    found = found.union_all(select(following.scalar_subquery()).where(found.c.v.is_not(None)))
    return list(session.scalars(select(found.c.v).where(found.c.v.is_not(None))))


@bp.get("/letters/<int:letter_id>")
@requires("read_letters")
def show(letter_id: int) -> str:
    """One letter: registration data, petitioners, case, pages, replies; each read audited."""
    try:
        record = letter_view.letter_record(instance(), user(), letter_id)
    except letter_view.LetterNotFound:
        abort(404)
    return render_template("letters/show.html", letter=record, pages=record["pages_text"],
                           people=record["people"], case=record["case"],
                           replies=record["replies"],
                           full_ids=letter_view.sees_full_ids(user()))


@bp.get("/search")
@requires("read_letters")
def find() -> Any:
    """Search the letters with filters, facets and pages; the query is user text, never trusted.

    A case or registration number opens that case or letter; misread or by-ear spellings are
    found after the exact hits unless the clerk asks for the exact text only (exact=1)."""
    args = request.args
    query = args.get("q", "")[:2000]
    exact = args.get("exact") == "1"
    opened = letter_search.opened_by_number(instance(), user(), query)
    if opened is not None:
        kind, record_id = opened
        return redirect(url_for("cases.show", case_id=record_id) if kind == "case"
                        else url_for("letters.show", letter_id=record_id))
    form = {name: args.get(name, "").strip()[:64] for name in
            ("township", "category", "status", "unit", "from", "to")}
    sort = "date" if args.get("sort") == "date" else "relevance"
    page = min(max(args.get("page", 1, type=int) or 1, 1), MAX_SEARCH_PAGE)
    context: dict[str, Any] = {"query": query, "form": form, "sort": sort, "page": page,
                               "hits": [], "total": 0, "facets": {}, "error": None,
                               "estimated": False, "exact": exact, "suggestions": (),
                               "searched": False, "statuses": STATUS_LABELS}
    context["args"] = {k: v for k, v in {"q": query, **form, "sort": sort,
                                         "exact": "1" if exact else ""}.items()
                       if v and not (k == "sort" and v == "relevance")}
    if not query.strip() and not any(form.values()):
        return render_template("letters/search.html", **context)
    try:
        found = letter_search.search_letters(
            instance(), user(), query, letter_search.parse_filters(form), sort=sort,
            offset=(page - 1) * HITS_PER_PAGE, limit=HITS_PER_PAGE, tolerant=not exact)
    except search.SearchError as e:  # QueryError included: a message for the clerk
        context["error"] = str(e)
        return render_template("letters/search.html", **context)
    rows = _rows(h.letter_id for h in found.hits)
    context.update(
        searched=True, total=found.total, facets=found.facets, estimated=found.estimated,
        pages=max(1, min(-(-found.total // HITS_PER_PAGE), MAX_SEARCH_PAGE)),
        hits=[{**rows[h.letter_id], "snippet": Markup(mask_personal(h.snippet)),
               "score": h.score, "note": h.note} for h in found.hits if h.letter_id in rows],
        suggestions=found.suggestions,
    )
    return render_template("letters/search.html", **context)


@bp.get("/letters/<int:letter_id>/similar")
@requires("read_letters")
def similar(letter_id: int) -> str:
    """More like this: the letters most like one letter (its own scope rules apply)."""
    letter = _visible_letter(letter_id)
    error, hits = None, []
    try:
        result = instance().index.more_like_this(letter_id, limit=RELATED_LIMIT)
    except search.SearchError as e:
        error = str(e)
    else:
        rows = _rows(h.letter_id for h in result.hits)
        hits = [{**rows[h.letter_id], "snippet": Markup(mask_personal(h.snippet))}
                for h in result.hits if h.letter_id in rows]
        letter_search.record_shown(instance(), user(), "", [h["id"] for h in hits],
                                   similar_to=letter_id)
    return render_template("letters/related.html", letter=letter, hits=hits, error=error,
                           heading="相似来信", kind="similar")


@bp.get("/letters/<int:letter_id>/person")
@requires("read_letters")
def same_person(letter_id: int) -> str:
    """All letters from this letter's petitioner (?p= one of its petitioners), newest first.

    The person is named by ID number, else phone, else name in the township; the numbers stay
    on the server (never in a URL).
    """
    letter = _visible_letter(letter_id)
    wanted = request.args.get("p", type=int)
    with instance().db.session() as session:
        found = session.get(Letter, letter_id)
        assert found is not None
        people: Sequence[Petitioner] = found.petitioners
        person = next((p for p in people if p.id == wanted), people[0] if people else None)
        extracted = found.extracted or {}
        if person is not None:
            key = {"id_number": person.id_number} if person.id_number else (
                {"phone": person.phone} if person.phone else
                {"name": person.name, "township": person.township or found.township or None})
            who = person.name
        elif extracted.get("id_numbers"):
            key, who = {"id_number": extracted["id_numbers"][0]}, "身份证号相同"
        elif extracted.get("phones"):
            key, who = {"phone": extracted["phones"][0]}, "电话相同"
        elif extracted.get("petitioner"):
            key = {"name": extracted["petitioner"], "township": found.township or None}
            who = str(extracted["petitioner"])
        else:
            key, who = {}, ""
    error, hits = None, []
    if not key:
        error = "这封来信还没有确认信访人，也没有识别出姓名、身份证号或电话。"
    else:
        try:
            result = instance().index.letters_from(limit=100, **key)
        except search.SearchError as e:
            error = str(e)
        else:
            rows = _rows(h.letter_id for h in result.hits)
            hits = [{**rows[h.letter_id], "snippet": ""} for h in result.hits
                    if h.letter_id in rows]
    by = ("身份证号" if "id_number" in key else "电话" if "phone" in key else "姓名")
    letter_view.record_read(instance(), user(), "letter", letter_id, via="person",
                            letters=[h["id"] for h in hits])  # who looked up whose letters
    return render_template("letters/related.html", letter=letter, hits=hits, error=error,
                           heading=f"同一信访人的来信：{who}", by=by, kind="person")



def _visible_letter(letter_id: int) -> dict[str, Any]:
    """The letter's list row, or 404 when it does not exist or the user may not see it."""
    with instance().db.session() as session:
        letter = session.get(Letter, letter_id)
        if letter is None or not may_see_letter(user(), letter):
            abort(404)
        return letter_view.letter_row(letter)






def _rows(letter_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The list rows of these letters that the user may see, in one query."""
    ids = list(letter_ids)
    if not ids:
        return {}
    with instance().db.session() as session:
        # Explicit joins from the page's letters (a joinedload of the petitioners would scan
        # the whole letter_petitioner table at 100k letters).
        letters = session.scalars(
            select(Letter).where(Letter.id.in_(ids), letter_scope(user()))
            .outerjoin(letter_petitioner, letter_petitioner.c.letter_id == Letter.id)
            .outerjoin(Petitioner, Petitioner.id == letter_petitioner.c.petitioner_id)
            .options(contains_eager(Letter.petitioners),
                     joinedload(Letter.case).joinedload(Case.unit))
            .order_by(Letter.id, letter_petitioner.c.position)
        ).unique().all()
        return {letter.id: letter_view.letter_row(letter) for letter in letters}

