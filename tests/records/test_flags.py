"""越级 and 集体 proposed from a letter's text and petitioners (pure)."""

from __future__ import annotations

import pytest

from records.flags import chinese_number, propose_flags, signatories


def _flags(text: str, petitioners: int = 0) -> dict[str, str]:
    return {p.flag: p.reason for p in propose_flags(text, petitioners)}


@pytest.mark.parametrize(("text", "addressee"), [
    ("尊敬的省信访局领导：\n我叫韩秋菊……", "省信访局"),
    ("河南省人民政府：\n我们村的土地……", "河南省人民政府"),
    ("尊敬的市长：您好！", "市长"),
    ("国家信访局：\n我要反映……", "国家信访局"),
    ("尊敬的中央领导：", "中央领导"),
])
def test_a_letter_addressed_above_the_county_is_bypass(text: str, addressee: str) -> None:
    assert _flags(text) == {"越级": f"写给上级机关：{addressee}"}


@pytest.mark.parametrize("text", [
    "尊敬的县信访局领导：\n我反映的问题是省道旁的征地补偿，市里也知道。",  # body, not the addressee
    "清河县市场监督管理局：\n菜市场占道经营。",
    "石桥镇人民政府：\n我家承包地被占。",
    "",
])
def test_a_letter_to_the_county_or_below_is_not_bypass(text: str) -> None:
    assert "越级" not in _flags(text)


@pytest.mark.parametrize(("text", "petitioners", "reason"), [
    ("县信访局：\n……", 5, "5 名信访人"),
    ("县信访局：\n……\n联名人：张三、李四、王五、赵六、孙七", 1, "5 人署名"),
    ("县信访局：\n我们二十三户村民的承包地被占用", 0, "以群体名义：二十三户村民"),
    ("县信访局：\n我们12名农民工的工资被拖欠", 0, "以群体名义：12名农民工"),
    ("县信访局：\n我们全体业主要求维修电梯", 0, "以群体名义：全体业主"),
    ("县信访局：\n……\n信访人：枣树营村村民代表", 0, "以群体名义：村民代表"),
])
def test_five_people_or_a_stated_group_is_collective(text: str, petitioners: int,
                                                     reason: str) -> None:
    assert _flags(text, petitioners) == {"集体": reason}


@pytest.mark.parametrize(("text", "petitioners"), [
    ("县信访局：\n我和我爱人的养老金……\n信访人：张三、李四", 2),
    ("县信访局：\n我们三户村民的宅基地纠纷", 0),
    ("县信访局：\n损害了群众利益", 1),
])
def test_fewer_than_five_is_not_collective(text: str, petitioners: int) -> None:
    assert "集体" not in _flags(text, petitioners)


def test_both_flags_at_once_and_the_helpers() -> None:
    text = "尊敬的市委书记：\n我们全村村民联名反映……\n联名人：甲、乙、丙"
    assert set(_flags(text)) == {"越级", "集体"}
    assert signatories(text) == 3
    words = ("5", "５", "五", "十二", "二十三", "一百", "两", "许多")
    assert [chinese_number(w) for w in words] == [5, 5, 5, 12, 23, 100, 2, None]
