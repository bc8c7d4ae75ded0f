"""One map from internal names to the Chinese a clerk reads; tested against the code itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web.services import labels
from web.services.replies import mask_name
from web.services.review import propose_category, propose_summary

ROOT = Path(__file__).resolve().parents[3]
# audit.record(session, actor, "ACTION", ...) with the action written out in the code
RECORDED = re.compile(r"audit\.record\(\s*\w+,\s*[^,]+,\s*\"([a-z-]+)\"")


def test_every_audit_action_the_code_records_has_a_chinese_name() -> None:
    actions = {m.group(1) for folder in ("records", "web", "letters")
               for path in (ROOT / folder).rglob("*.py")
               for m in RECORDED.finditer(path.read_text(encoding="utf-8"))}
    assert len(actions) > 30, actions  # the pattern still finds them
    unnamed = sorted(a for a in actions if a not in labels.EVENT_LABELS)
    assert not unnamed, f"name these in web/services/labels.py: {unnamed}"
    assert labels.event_label("no-such-action") == "其他操作"


def test_machine_actors_and_people_are_shown_by_name() -> None:
    names = {"leader1": "王建军", **labels.MACHINE_ACTORS}
    assert [labels.person(u, names) for u in ("leader1", "demo", "intake-folder", "cli", "")] \
        == ["王建军", "演示数据", "扫描文件夹", "命令行", ""]


def test_a_template_version_reads_in_chinese() -> None:
    shown = labels.template_version_label("builtin:01471b2c9d0e5f66")
    assert shown == "系统内置模板（校验码 01471b2c）"
    assert labels.template_version_label("office:abcdef0123456789").startswith("本单位上传的模板")
    assert labels.template_version_label(None) == "未记录"


def test_a_certificate_name_has_no_english_attribute_names() -> None:
    shown = labels.certificate_name({"country_name": "CN", "organization_name": "清河县信访局",
                                     "common_name": "清河县信访局 答复签章"})
    assert shown == "国家：中国；单位：清河县信访局；名称：清河县信访局 答复签章"


@pytest.mark.parametrize(("name", "masked"), [("韩秋菊", "韩*菊"), ("李娜", "李*"),
                                              ("欧阳小明", "欧**明"), ("X", "X")])
def test_the_public_page_masks_the_recipient(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_a_category_is_proposed_from_the_letter_s_words() -> None:
    known = ["征地拆迁", "劳动社保", "民政救助", "其他"]
    assert propose_category("修路时征收了我家承包地，补偿款至今没有发放。", known) == "征地拆迁"
    assert propose_category("老板拖欠农民工工资三个月。", known) == "劳动社保"
    assert propose_category("今年交了低保申请被退回。", known) == "民政救助"
    assert propose_category("村里的路灯坏了。", known) == ""
    assert propose_category("补偿款没有发放。", ["其他"]) == ""  # only the office's categories


def test_the_summary_is_what_the_letter_asks_for() -> None:
    text = ("尊敬的县信访局领导：\n我叫韩秋菊，家住石桥镇枣树营村三组。\n"
            "二〇二五年修建高速公路时征收了我家承包地，到现在只领到两万元。\n"
            "我多次到镇政府反映，一直没有答复。请求领导督促有关部门尽快兑现拖欠的补偿款。")
    assert propose_summary(text) == "督促有关部门尽快兑现拖欠的补偿款"
    assert propose_summary("尊敬的领导：\n您好。") == ""


def test_a_reported_problem_is_summarised_without_its_preamble() -> None:
    text = "我反映的问题是征地补偿款至今没有发放，请求领导督促解决。\n信访人：韩秋菊"
    assert propose_summary(text) == "征地补偿款至今没有发放，请求领导督促解决"
