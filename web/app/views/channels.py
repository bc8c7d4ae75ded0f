"""登记来访/来电/信箱/网上 and 领导接待日: what reaches the office without a scan, written down.

The registration form has a letter's fields (who, where, what, when and on what basis, the level
the petitioners went to, how many came); web.services.registration checks and stores it, and a
refusal is shown beside its field. After saving: the letter's page, from where it is reviewed and
a case opened (or linked) as for a scanned letter.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from records.models import ADDRESSED_LEVELS, RECEIPT_BASES
from web.app.auth import requires, user
from web.app.views import instance
from web.services import receptions, registration
from web.services.gazetteer import gazetteer

bp = Blueprint("channels", __name__, url_prefix="/channels")


@bp.get("/register")
@requires("register_visits")
def register() -> str:
    """The blank form; ?channel=phone (or a reception day) chosen ahead."""
    chosen = {"channel": request.args.get("channel", "visit"),
              "reception_id": request.args.get("reception", "")}
    return _form(chosen)


def _form(values: dict[str, str], *, error: str | None = None,
          field: str | None = None) -> Any:
    today = instance().today()
    places = gazetteer(instance())
    days = receptions.open_on(instance(), today)
    status = 200 if error is None else 400
    return render_template(
        "channels/register.html", values=values, error=error, field=field,
        channels=registration.CHANNEL_LABELS, bases=RECEIPT_BASES,
        channel_bases=registration.CHANNEL_BASES, levels=ADDRESSED_LEVELS,
        level_labels=registration.LEVEL_LABELS, townships=places.townships,
        villages=places.villages, receptions=days, today=today), status


@bp.post("/register")
@requires("register_visits")
def save() -> Any:
    """Register it; the letter's page next, or the form again with the refusal at its field."""
    values = {k: request.form.get(k, "") for k in registration.FIELDS}
    try:
        letter_id = registration.register_form(instance(), values, actor=user().username)
    except registration.RegistrationError as e:
        return _form(values, error=str(e), field=e.field)
    label = registration.CHANNEL_LABELS.get(values["channel"], "")
    flash(f"{label}已登记；请校对并立案（或关联已有事项）")
    return redirect(url_for("letters.show", letter_id=letter_id), 303)


@bp.get("/receptions")
@requires("register_visits")
def reception_days() -> str:
    """领导接待日: every day recorded, newest first, and the form for a new one."""
    return _receptions({})


def _receptions(values: dict[str, str], *, error: str | None = None,
                field: str | None = None) -> Any:
    status = 200 if error is None else 400
    return render_template("channels/receptions.html", days=receptions.reception_list(instance()),
                           leaders=receptions.leaders(instance()), values=values, error=error,
                           field=field, today=instance().today(),
                           units=receptions.office_units(instance()),
                           chosen_units=request.form.getlist("units")), status


@bp.post("/receptions")
@requires("register_visits")
def add_reception() -> Any:
    """Record a reception day; then its page, where the day's visits are registered."""
    values = {k: request.form.get(k, "") for k in ("held_on", "leader", "place", "note")}
    try:
        reception_id = receptions.add_reception(instance(), values, actor=user().username,
                                                units=request.form.getlist("units"))
    except receptions.ReceptionError as e:
        return _receptions(values, error=str(e), field=e.field)
    flash("已记录领导接待日")
    return redirect(url_for("channels.reception", reception_id=reception_id), 303)


@bp.get("/receptions/<int:reception_id>")
@requires("register_visits")
def reception(reception_id: int) -> Any:
    """One reception day: the leader, place, units, whom they received, the matters opened."""
    return _reception(reception_id)


def _reception(reception_id: int, *, error: str | None = None, field: str | None = None,
               values: dict[str, Any] | None = None) -> Any:
    try:
        day = receptions.reception_detail(instance(), reception_id)
    except receptions.ReceptionError:
        abort(404)
    return render_template("channels/reception.html", day=day, today=instance().today(),
                           units=receptions.office_units(instance()), error=error, field=field,
                           values=values), 200 if error is None else 400


@bp.post("/receptions/<int:reception_id>")
@requires("register_visits")
def edit_reception(reception_id: int) -> Any:
    """Correct the day's place and note, set the units of a joint reception (audited)."""
    values = {k: request.form.get(k, "") for k in ("place", "note")}
    units = request.form.getlist("units")
    try:
        receptions.edit_reception(instance(), reception_id, values, units=units,
                                  actor=user().username)
    except receptions.ReceptionError as e:
        return _reception(reception_id, error=str(e), field=e.field,
                          values={**values, "units": units})
    flash("已修改接待日记录")
    return redirect(url_for("channels.reception", reception_id=reception_id), 303)


@bp.post("/receptions/<int:reception_id>/matters/<int:case_id>")
@requires("register_visits")
def assign_matter(reception_id: int, case_id: int) -> Any:
    """Give a matter of a joint reception to one of the units taking part (§18 ¶3)."""
    try:
        unit = receptions.assign_matter(instance(), reception_id, case_id,
                                        request.form.get("unit", ""), actor=user().username)
    except receptions.ReceptionError as e:
        return _reception(reception_id, error=str(e))
    flash(f"已交由 {unit} 承办")
    return redirect(url_for("channels.reception", reception_id=reception_id), 303)
