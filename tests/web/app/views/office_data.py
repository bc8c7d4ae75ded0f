"""A small office for the letters and cases pages: letters registered with text (no OCR),
cases opened and given to units, everything indexed. Built with records' own functions."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from records import Letter, Unit, cases, intake
from records.routing import assign_owner
from tests.web.signin import HANDLER_UNIT, add_users
from web.services.indexing import index_letters
from web.services.instance import Instance
from web.services.registration import register_written

OTHER_UNIT = "县民政局"
ID_HAN = "41172219630412352X"
TODAY = dt.date.today()


@dataclass
class Office:
    home: Path
    letters: dict[str, int] = field(default_factory=dict)  # label -> letter id
    cases: dict[str, int] = field(default_factory=dict)  # label -> case id


def _letter(instance: Instance, text: str, name: str, *, township: str, category: str,
            days_ago: int, id_number: str | None = None, phone: str | None = None) -> int:
    letter_id = register_written(instance, channel="visit", text=text, name=name, phone=phone,
                                 id_number=id_number, township=township,
                                 received_on=TODAY - dt.timedelta(days=days_ago), actor="clerk1")
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        letter.category = category
    return letter_id


def copy(template: Office, folder: Path) -> Office:
    """A private copy of the small office for one test (actions change it)."""
    home = folder / "instance"
    shutil.copytree(template.home, home)
    return Office(home, dict(template.letters), dict(template.cases))


def build(home: Path, *, wages: int = 0) -> Office:
    """Five letters in three cases (two units, one unowned) and `wages` more about wages."""
    office = Office(home)
    with Instance(home) as instance:
        instance.create()
        add_users(home)
        add = office.letters
        add["han1"] = _letter(
            instance, f"我叫韩秋菊，身份证号{ID_HAN}，石桥镇枣树营村人。"
            "高速公路征地补偿款至今没有发放，请求督促兑现。",
            "韩秋菊", township="石桥镇", category="征地拆迁", days_ago=20, id_number=ID_HAN,
            phone="13839452176")
        add["han2"] = _letter(
            instance, "韩秋菊再次反映：枣树营村征地补偿款还是没有发放，请求督促。", "韩秋菊",
            township="石桥镇", category="征地拆迁", days_ago=5, id_number=ID_HAN)
        add["lu"] = _letter(
            instance, "城关镇南关社区工地拖欠农民工工资十八万元，请求督促支付。", "卢振东",
            township="城关镇", category="劳动社保", days_ago=10, phone="15903967742")
        add["zhong"] = _letter(
            instance, "北苑小区电梯停运无人维修，请求督促物业公司。", "钟晓岚",
            township="城关镇", category="城乡建设", days_ago=3)
        add["qi"] = _letter(
            instance, "低保申请被退回，询问原因。", "祁宝山", township="青山乡",
            category="民政救助", days_ago=1)
        for n in range(wages):
            add[f"wage{n}"] = _letter(
                instance, f"第{n}号工地拖欠农民工工资，请求支付。", f"工人{n:02d}",
                township="李集镇", category="劳动社保", days_ago=30 + n)
        with instance.db.session() as session:
            own = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
            other = Unit(name=OTHER_UNIT)
            session.add(other)
            session.flush()
            get = lambda key: intake.get_letter(session, add[key])  # noqa: E731
            land = cases.open_case(session, get("han1"), actor="clerk1")
            cases.link_letter(session, get("han2"), land, actor="clerk1")
            assign_owner(session, land, own, None, actor="clerk1", reason="属地")
            wage = cases.open_case(session, get("lu"), actor="clerk1")
            assign_owner(session, wage, other, None, actor="clerk1", reason="属地")
            lift = cases.open_case(session, get("zhong"), actor="clerk1")
            session.flush()
            office.cases.update(land=land.id, wage=wage.id, lift=lift.id)
            index_letters(instance, session.scalars(select(Letter)).all())
    return office
