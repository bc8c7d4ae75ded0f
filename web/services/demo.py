"""Demo letters: written for Huiyin, drawn as scans by ocr.synthetic, then ingested for real.

The people, places and numbers are invented (ID numbers carry a valid check digit so that the
field extraction can be seen working); nothing here comes from real petitions.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from ocr import synthetic
from ocr.fields import valid_id_number
from records import Category, Letter, Place, Unit, User, audit, cases, intake, routing, workflow
from records.calendar import library_years
from web.services import admin
from web.services.access import hash_password
from web.services.indexing import index_letters
from web.services.instance import Instance
from web.services.pipeline import ingest_file

WIDTH = 24  # characters per written line on an A4 page


@dataclass(frozen=True)
class DemoLetter:
    file: str
    days_ago: int
    petitioners: tuple[tuple[str, str, str], ...]  # name, ID number stem (17 digits), phone
    township: str
    village: str
    category: str
    summary: str
    paragraphs: tuple[str, ...]
    degrade: bool = False
    actions: tuple[str, ...] = ()  # what the office has done so far, one action a day


def _id(stem: str) -> str:
    """Complete a 17-digit stem with its check digit (the demo's IDs are invented)."""
    for check in "0123456789X":
        if valid_id_number(stem + check):
            return stem + check
    raise AssertionError(stem)


DEMO: tuple[DemoLetter, ...] = (
    DemoLetter(
        "demo-01-征地补偿.jpg", 12, (("韩秋菊", "41172219630412352", "13839452176"),),
        "石桥镇", "枣树营村", "征地拆迁", "请求兑现高速公路征地补偿款",
        ("尊敬的县信访局领导：",
         "我叫韩秋菊，家住清河县石桥镇枣树营村三组，身份证号{id0}，联系电话{phone0}。",
         "二〇二五年修建高速公路时征收了我家承包地一亩六分，按公示标准应补偿四万八千元，"
         "到现在只领到两万元，青苗补偿也没有发放。",
         "我多次到镇政府反映，一直没有答复。请求领导督促有关部门尽快兑现拖欠的补偿款。",
         "信访人：韩秋菊"),
        actions=("assign", "start"),
    ),
    DemoLetter(
        "demo-02-拖欠工资.png", 9,
        (("卢振东", "41172219780923181", "15903967742"),
         ("田广福", "41172219820317203", "13598120463")),
        "城关镇", "南关社区", "劳动社保", "请求督促建筑公司支付拖欠的农民工工资",
        ("尊敬的领导：",
         "我们是在城关镇南关社区安置房工地干活的十二名农民工，代表人卢振东，电话{phone0}。",
         "从去年三月干到十月，包工头一直拖欠工资共计十八万六千元，"
         "我们到劳动监察大队投诉过三次，至今没有结果。",
         "马上就要过年了，请求政府督促建筑公司和包工头尽快支付拖欠的工资。",
         "联名人：卢振东、田广福等十二人"),
        True,
        ("accept",),
    ),
    DemoLetter(
        "demo-03-物业维修.pdf", 6, (("钟晓岚", "41172219910605432", "18637715209"),),
        "城关镇", "北苑小区", "城乡建设", "反映小区电梯长期停运无人维修",
        ("县信访局：",
         "本人钟晓岚，住城关镇北苑小区六号楼，电话{phone0}。",
         "我们楼的电梯从今年八月起停运，物业公司说维修基金没有批下来，"
         "住在高层的老人和病人上下楼非常困难。",
         "我们找过物业和社区好几次，都说在协调。",
         "请求有关部门督促物业公司尽快维修电梯，维护业主的合法权益。",
         "此致",
         "敬礼",
         "信访人：钟晓岚"),
        actions=("accept", "start"),
    ),
    DemoLetter(
        "demo-04-低保申请.tiff", 4, (("祁宝山", "41172219520130271", "13027685514"),),
        "青山乡", "杨树岗村", "民政救助", "询问低保申请被退回的原因",
        ("尊敬的领导：",
         "我叫祁宝山，青山乡杨树岗村人，今年七十三岁，老伴常年卧病，电话{phone0}。",
         "今年五月我向村里交了低保申请，九月被退回，村干部没有说明原因。",
         "请求领导帮忙查一查，给我一个说法。",
         "信访人：祁宝山"),
        True,
    ),
    DemoLetter(
        "demo-05-宅基地.jpg", 2, (("晏红梅", "41172219850817106", "15237719038"),),
        "李集镇", "柳河湾村", "国土资源", "反映邻居占用宅基地建房",
        ("县信访局领导：",
         "我叫晏红梅，住李集镇柳河湾村，身份证号{id0}。",
         "邻居今年翻建房屋时占用我家宅基地约十五平方米，"
         "村委会调解两次没有结果，镇国土所来看过也没有处理。",
         "请求依法确认宅基地界址，责令其停止侵占。联系电话{phone0}。",
         "信访人：晏红梅"),
    ),
)


UNITS = ("县自然资源局", "县人力资源和社会保障局", "县住房和城乡建设局", "县民政局",
         "李集镇人民政府")
# Demo sign-ins, one per role; the password is printed by `huiyin init --demo` (demo only).
DEMO_PASSWORD = "huiyin-demo"
USERS = (("clerk", "李娜", "clerk", None), ("leader", "王建军", "leader", None),
         ("handler", "赵刚", "handler", "县自然资源局"), ("admin", "系统管理员", "admin", None))
CATEGORIES = ("征地拆迁", "劳动社保", "城乡建设", "民政救助", "农村农业", "环境保护", "其他")
ROUTES = (("", "征地拆迁", "县自然资源局"), ("", "劳动社保", "县人力资源和社会保障局"),
          ("", "城乡建设", "县住房和城乡建设局"), ("", "民政救助", "县民政局"),
          ("李集镇", "", "李集镇人民政府"))


def render(letter: DemoLetter, folder: Path, seed: int) -> Path:
    """Draw a demo letter as a scan in the format its file name says."""
    person = letter.petitioners[0]
    text = [p.format(id0=_id(person[1]), phone0=person[2]) for p in letter.paragraphs]
    lines = [piece for p in text for piece in textwrap.wrap(p, WIDTH)]
    per_page = 18
    chunks = [lines[i:i + per_page] for i in range(0, len(lines), per_page)]
    if letter.file.endswith(".pdf") and len(chunks) == 1:
        chunks = [lines[: len(lines) // 2], lines[len(lines) // 2:]]  # a two-page letter
    images = [synthetic.render_scan(c, degrade=letter.degrade, seed=seed + i)
              for i, c in enumerate(chunks)]
    path = folder / letter.file
    if path.suffix == ".pdf":
        synthetic.save_pdf(images, path)
    elif path.suffix == ".tiff":
        synthetic.save_tiff(images, path)
    else:
        images[0].save(path, quality=90)
    return path


def load(instance: Instance, progress: Callable[[int, int], None] | None = None) -> list[str]:
    """Ingest the demo letters and confirm their details as a clerk would; once per instance."""
    with instance.db.session() as session:
        present = session.scalar(
            select(func.count()).where(Letter.source_name.like("demo-%"))
        )
    if present:
        return []
    _office(instance)
    # The demo's cases fall due next year, whose 放假安排 an office enters from the State
    # Council's notice; a demo without one counts on the statutory days, said to be an estimate.
    for year in range(max(library_years()) + 1, instance.today().year + 2):
        admin.estimate_year(instance, year, actor="demo",
                            note="演示：仅按法定节假日估计，正式使用前请按国务院办公厅通知录入")
    added = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, demo in enumerate(DEMO, 1):
            result = ingest_file(instance, render(demo, Path(tmp), seed=n), actor="demo")
            if result.letter_id is None:
                raise RuntimeError(f"demo letter {demo.file} failed: {result.error}")
            _confirm(instance, result.letter_id, demo)
            added.append(result.reg_no or "")
            if progress:
                progress(n, len(DEMO))
    return added


def _confirm(instance: Instance, letter_id: int, demo: DemoLetter) -> None:
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        letter.received_on = instance.today() - dt.timedelta(days=demo.days_ago)
        letter.township, letter.village = demo.township, demo.village
        letter.category, letter.summary = demo.category, demo.summary
        for name, stem, phone in demo.petitioners:
            intake.attach_petitioner(session, letter, name=name, id_number=_id(stem), phone=phone,
                                     township=demo.township, village=demo.village, actor="demo")
        audit.record(session, "demo", "confirm", "letter", letter.id)
        case = cases.open_case(session, letter, actor="demo")
        routing.route_case(session, case, actor="demo")
        for n, action in enumerate(demo.actions, 1):  # as if each step's document was signed
            cases.transition(session, case, action, letter.received_on + dt.timedelta(days=n),
                             actor="demo", calendar=instance.calendar,
                             evidence=workflow.document_evidence(action))
        index_letters(instance, [letter])


def _office(instance: Instance) -> None:
    """The demo county's handling units and its routing table."""
    with instance.db.session() as session:
        units = {
            name: Unit(name=name, kind="township", level="township") if name.endswith("人民政府")
            else Unit(name=name, kind="department", level="county")
            for name in UNITS
        }
        session.add_all(units.values())
        session.flush()
        for username, name, role, unit in USERS:
            session.add(User(username=username, display_name=name, role=role,
                             unit_id=units[unit].id if unit else None,
                             password_hash=hash_password(DEMO_PASSWORD)))
        session.add_all(Category(name=name) for name in CATEGORIES)
        places = {(d.township, "") for d in DEMO} | {(d.township, d.village) for d in DEMO}
        session.add_all(Place(township=t, village=v) for t, v in sorted(places))
        for township, category, unit in ROUTES:
            routing.set_route(session, township=township, category=category, unit=units[unit],
                              lead=None, actor="demo")
