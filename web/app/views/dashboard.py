"""工作台: the work owed now and the office's rates; every number opens the list behind it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from web.app.auth import requires, user
from web.app.files import xlsx_response
from web.app.views import instance
from web.services import dashboard
from web.services.cache import Kept

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
PAGE_SIZE = 100
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@bp.get("/")
@requires("dashboard")
def index() -> str:
    """The figures of the user's scope for the chosen period, with charts by month."""
    today = instance().today()
    period, first, last = _period(today)
    me = user()
    key = (dashboard.state(instance(), me, today, period), first, last,
           me.can("read_letters"), me.unit_name)
    body = _BODIES.get(key)
    if body is None:
        body = Markup(_body(today, period, first, last))
        _BODIES.put(key, body)
    return render_template("dashboard/index.html", body=body)


# The body has a few hundred links: rendering it costs more than the figures once they are kept.
_BODIES = Kept()


def _body(today: dt.date, period: dashboard.Period, first: str, last: str) -> str:
    scope = user()
    figures = dashboard.summary(instance(), scope, today, period)
    months = dashboard.monthly(instance(), period.end.year, scope, today, figures=figures)
    year = period.end.year

    def link(metric: str, **narrow: Any) -> str:
        """The list behind a number of this page (the period's, unless a year is given)."""
        span = narrow.pop("span", {"from": first, "to": last})
        return url_for("dashboard.rows", metric=metric, **span,
                       **{k: v for k, v in narrow.items() if v is not None})

    whole_year = {"from": f"{year}-01", "to": f"{year}-12"}
    return render_template(
        "dashboard/_body.html", s=figures, first=first, last=last, today=today,
        year=year, can_list=user().can("read_letters"), link=link,
        letters_link=lambda month: link("received", month=month, span=whole_year),
        rate_link=lambda key, month: link("rate", key=key, part="numerator", month=month,
                                          span=whole_year),
        by_unit=work_matrix(figures["work"], "by_unit"),
        by_lead=work_matrix(figures["work"], "by_lead"),
        letters_chart=bar_chart([(m["month"][5:] + "月", m["letters"], m["month"])
                                 for m in months]),
        rates_chart=line_chart(months, ("on_time", "timely_acceptance")),
    )


@bp.get("/export.xlsx")
@requires("dashboard")
def export() -> Response:
    """The statistics of the chosen period (by township, by unit) as an Excel workbook."""
    today = instance().today()
    period, first, last = _period(today)
    figures = dashboard.summary(instance(), user(), today, period)
    rates = figures["rates"]
    headers = ["分组", "名称", "事项（件）"]
    for r in rates:
        headers += [f"{r['name']}（%）", f"{r['name']} 分子", f"{r['name']} 分母"]
    rows = []
    for group, table in (("按乡镇", figures["by_township"]), ("按承办单位", figures["by_unit"])):
        for row in table:
            values: list[object] = [group, row["name"], row["cases"]]
            for r in row["rates"]:
                values += [None if r["value"] is None else round(r["value"] * 100, 1),
                           r["numerator"], r["denominator"]]
            rows.append(values)
    title = f"信访工作统计 {first} 至 {last}"
    return xlsx_response(title, headers, rows, f"信访工作统计-{first}-{last}.xlsx")


@bp.get("/rows")
@requires("read_letters")
def rows() -> str:
    """The letters or cases that make up one figure (same query as the number)."""
    today = instance().today()
    period, first, last = _period(today)
    metric = request.args.get("metric", "")
    key = request.args.get("key") or None
    part = request.args.get("part", "numerator")
    try:
        about = dashboard.describe(metric, key, part)
        flt = _filter()
    except ValueError:
        abort(404)
    scope = user()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    total = dashboard.count(instance(), metric, scope, today, period=period, key=key,
                            part=part, flt=flt)
    found = dashboard.rows_behind(instance(), metric, scope, today, period=period, key=key,
                                  part=part, flt=flt, limit=PAGE_SIZE,
                                  offset=(page - 1) * PAGE_SIZE, reader=user())
    return render_template(
        "dashboard/rows.html", about=about, rows=found, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), metric=metric, first=first, last=last,
        narrowed=_narrowed_label(flt), dated=metric not in dashboard.WORK,
        page_url=lambda n: url_for("dashboard.rows", **{**request.args.to_dict(), "page": n}),
    )


def work_matrix(work: dict[str, Any], by: str) -> list[dict[str, Any]]:
    """One row per unit (or leader) with its count of each work figure, busiest first."""
    rows: dict[Any, dict[str, Any]] = {}
    for metric, figure in work.items():
        for cell in figure[by]:
            row = rows.setdefault(cell["id"], {"id": cell["id"], "name": cell["name"],
                                               "param": "none" if cell["id"] is None
                                               else cell["id"], "counts": {}})
            row["counts"][metric] = cell["count"]
    return sorted(rows.values(), key=lambda r: (-r["counts"].get("overdue", 0),
                                                -sum(r["counts"].values()), r["name"]))


def _period(today: dt.date) -> tuple[dashboard.Period, str, str]:
    """?year=2026, or ?from=2026-01&to=2026-06; by default this year."""
    year = request.args.get("year", type=int)
    if year and 2000 <= year <= 2100:
        first, last = f"{year}-01", f"{year}-12"
    else:
        first = request.args.get("from", "")
        last = request.args.get("to", "")
        first = first if MONTH.match(first) else f"{today.year}-01"
        last = last if MONTH.match(last) else f"{today.year}-12"
        first, last = min(first, last), max(first, last)
    return dashboard.Period.months(first, last), first, last


def _filter() -> dashboard.Filter:
    """One breakdown cell from the query string: unit, lead (an id or "none"), township, month."""

    def ident(name: str) -> int | None | str:
        value = request.args.get(name)
        if value is None or value == "":
            return "*"
        if value == "none":
            return None
        if not value.isdigit():
            raise ValueError(f"bad {name}")
        return int(value)

    month = request.args.get("month")
    if month is not None and not MONTH.match(month):
        raise ValueError("bad month")
    return dashboard.Filter(unit=ident("unit"), lead=ident("lead"),
                            township=request.args.get("township"), month=month)


def _narrowed_label(flt: dashboard.Filter) -> str:
    parts = []
    if flt.township is not None:
        parts.append(f"乡镇：{flt.township or dashboard.NO_TOWNSHIP}")
    if flt.month is not None:
        parts.append(f"月份：{flt.month}")
    if flt.unit != "*":
        parts.append("承办单位：" + (_unit_name(flt.unit) if flt.unit else dashboard.NO_UNIT))
    if flt.lead != "*":
        parts.append("包案领导：" + (_user_name(flt.lead) if flt.lead else dashboard.NO_LEAD))
    return "；".join(parts)


def _unit_name(unit_id: Any) -> str:
    from records import Unit

    with instance().db.session() as session:
        unit = session.get(Unit, unit_id)
        return unit.name if unit else str(unit_id)


def _user_name(user_id: Any) -> str:
    from records import User

    with instance().db.session() as session:
        found = session.get(User, user_id)
        return (found.display_name or found.username) if found else str(user_id)


# ---------------------------------------------------------------------------------------------
# Charts drawn on the server as SVG (presentation attributes only: the CSP allows no styles).

CHART_W, CHART_H = 520, 220
PAD_L, PAD_R, PAD_T, PAD_B = 44, 12, 16, 28
SERIES_COLOURS = ("#8b0000", "#1f5f99", "#5a8f29")


def _nice_max(value: float) -> float:
    """A round top for the axis (1, 2, 5 × 10^n) at or above the value."""
    if value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def bar_chart(points: list[tuple[str, int, str]]) -> dict[str, Any]:
    """Bars of counts by month: geometry for templates/dashboard/_charts.html."""
    top = _nice_max(max((v for _, v, _ in points), default=0))
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    slot = inner_w / max(1, len(points))
    bars = []
    for i, (label, value, month) in enumerate(points):
        h = inner_h * value / top
        bars.append({"x": round(PAD_L + i * slot + slot * .15, 1), "w": round(slot * .7, 1),
                     "y": round(PAD_T + inner_h - h, 1), "h": round(h, 1), "value": value,
                     "label": label, "cx": round(PAD_L + (i + .5) * slot, 1), "month": month})
    ticks = [{"y": round(PAD_T + inner_h - inner_h * f, 1), "label": f"{top * f:g}"}
             for f in (0, .5, 1)]
    return {"w": CHART_W, "h": CHART_H, "bars": bars, "ticks": ticks, "left": PAD_L,
            "right": CHART_W - PAD_R, "base": PAD_T + inner_h}


def line_chart(months: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """Rates by month as lines (0–100%); a month without cases leaves a gap."""
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    slot = inner_w / max(1, len(months))
    series = []
    for colour, key in zip(SERIES_COLOURS, keys, strict=False):
        points = []
        for i, month in enumerate(months):
            rate = next(r for r in month["rates"] if r["key"] == key)
            if rate["value"] is None:
                continue
            points.append({"x": round(PAD_L + (i + .5) * slot, 1),
                           "y": round(PAD_T + inner_h * (1 - rate["value"]), 1),
                           "month": month["month"], "rate": rate})
        segments = " ".join(f"{p['x']},{p['y']}" for p in points)
        series.append({"key": key, "name": dashboard.RATE_NAMES[key][0], "colour": colour,
                       "points": points, "polyline": segments})
    labels = [{"x": round(PAD_L + (i + .5) * slot, 1), "label": m["month"][5:] + "月"}
              for i, m in enumerate(months)]
    ticks = [{"y": round(PAD_T + inner_h * (1 - f), 1), "label": f"{f:.0%}"}
             for f in (0, .5, 1)]
    return {"w": CHART_W, "h": CHART_H, "series": series, "labels": labels, "ticks": ticks,
            "left": PAD_L, "right": CHART_W - PAD_R, "base": PAD_T + inner_h}
