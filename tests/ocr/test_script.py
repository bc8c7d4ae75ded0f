"""Stray traditional forms on a simplified page become simplified; traditional pages stay."""

from __future__ import annotations

from ocr import Line
from ocr._script import is_mostly_simplified, to_simplified, unify_script

BOX = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))


def lines(*texts: str) -> tuple[Line, ...]:
    return tuple(Line(text, BOX, 0.9) for text in texts)


def test_stray_traditional_forms_on_a_simplified_page():
    page = lines("以上情況属实，如有虛假愿承担法律责任。", "联系电话157，住址广西")
    fixed = unify_script(page)
    assert [line.text for line in fixed] == [
        "以上情况属实，如有虚假愿承担法律责任。",
        "联系电话157，住址广西",
    ]
    assert fixed[0].box == BOX and fixed[0].score == 0.9


def test_a_page_written_in_traditional_is_left_alone():
    page = lines("衹辱於奴隸人之手，駢死於槽櫪之間", "國家興亡，匹夫有責")
    assert unify_script(page) == page


def test_one_to_many_characters_are_never_changed():
    # 乾 is 干 in 乾净 but stays 乾 in 乾隆; 著 is both 著 and 着: no one-to-one mapping
    assert to_simplified("乾著") == "乾著"
    assert to_simplified("號電話國廣") == "号电话国广"


def test_too_little_evidence_changes_nothing():
    assert not is_mostly_simplified("號")
    assert not is_mostly_simplified("我叫韩秋菊")  # nothing traditional to fix
    assert is_mostly_simplified("我们这里号召，联系電話")
