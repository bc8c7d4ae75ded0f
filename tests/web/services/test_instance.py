"""One instance seen by several processes: a holiday table changed by one is read by all."""

from __future__ import annotations

import datetime as dt

from web.services import dashboard
from web.services.instance import Instance


def _next_weekday(instance: Instance) -> dt.date:
    day = instance.today() + dt.timedelta(days=30)
    while not instance.calendar.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def test_a_holiday_written_elsewhere_is_read_at_the_next_use(instance: Instance) -> None:
    day = _next_weekday(instance)
    period = dashboard.Period.year(instance.today().year)
    before = dashboard.state(instance, None, instance.today(), period)
    with Instance(instance.home) as other:  # another web process, or a clerk with an editor
        (other.home / "holidays.csv").write_text(
            f"date,kind,name\n{day.isoformat()},holiday,县庆\n", encoding="utf-8")
    assert not instance.calendar.is_working_day(day)
    assert instance.calendar.names[day] == "县庆"
    assert dashboard.state(instance, None, instance.today(), period) != before
    (instance.home / "holidays.csv").unlink()
    assert instance.calendar.is_working_day(day)
    assert dashboard.state(instance, None, instance.today(), period) == before
