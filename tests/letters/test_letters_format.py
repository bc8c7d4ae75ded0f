"""Pure helpers: dates in the GB/T 9704 form, sentence endings, XML-safe text."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from letters._format import cn_date, sentence, xml_safe


@pytest.mark.parametrize(("value", "expected"), [
    (date(2026, 11, 24), "2026年11月24日"),
    (date(2026, 1, 5), "2026年1月5日"),
    (datetime(2026, 12, 31, 23, 59), "2026年12月31日"),
])
def test_cn_date(value: date, expected: str) -> None:
    assert cn_date(value) == expected


def test_cn_date_refuses_strings() -> None:
    with pytest.raises(TypeError, match="expected a datetime.date, got str"):
        cn_date("2026-11-24")  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [
    ("拖欠工资问题", "拖欠工资问题。"),
    ("拖欠工资问题。", "拖欠工资问题。"),
    ("拖欠工资问题；", "拖欠工资问题。"),
    ("拖欠工资问题. ", "拖欠工资问题。"),
    ("为什么不发工资？", "为什么不发工资？"),
    ("  ", ""),
])
def test_sentence(value: str, expected: str) -> None:
    assert sentence(value) == expected


def test_xml_safe() -> None:
    assert xml_safe("a\r\nb\rc\x00d\x1fe\tf\ud800") == "a\nb\ncde\tf"
