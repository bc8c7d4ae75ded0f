"""Fields proposed from letter text: ID numbers (check digit), phones, the petitioner, the ask."""

from __future__ import annotations

import pytest

from ocr.fields import extract_fields, valid_id_number

VALID_ID = "41172219630412352X"


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (VALID_ID, True),
        ("411722196304123524", False),
        ("11010519491231002X", True),
        ("11010519491231002x", True),
        ("4117221963041235", False),
    ],
)
def test_id_check_digit(number: str, valid: bool) -> None:
    assert valid_id_number(number) is valid


def test_a_letter_with_everything() -> None:
    text = (
        f"尊敬的领导：\n我叫韩秋菊，家住石桥镇枣树营村，身份证号{VALID_ID}，"
        "联系电话138-3945-2176，家里座机0391-5123456。\n请求督促有关部门兑现补偿款。\n信访人：韩秋菊"
    )
    fields = extract_fields(text)
    assert fields.petitioner == "韩秋菊"
    assert fields.id_numbers == (VALID_ID,)
    assert fields.phones == ("13839452176", "0391-5123456")
    assert fields.summary == "请求督促有关部门兑现补偿款。"


def test_full_width_digits_and_spaces_inside_numbers() -> None:
    fields = extract_fields("联系电话：１３８ ３９４５ ２１７６")
    assert fields.phones == ("13839452176",)


def test_the_signature_line_names_the_petitioner_before_the_self_introduction() -> None:
    fields = extract_fields("我叫程国，家住桃园村。\n信访人：梁建明\n2025年11月23日")
    assert fields.petitioner == "梁建明"
    assert fields.names == ("梁建明", "程国")


def test_a_wrong_check_digit_is_proposed_only_for_checking() -> None:
    fields = extract_fields("身份证号411722196304123524")
    assert fields.id_numbers == ()
    assert fields.unverified_id_numbers == ("411722196304123524",)
    assert fields.phones == ()


def test_digits_inside_longer_numbers_are_not_phones() -> None:
    assert extract_fields("账号6222021309123456789").phones == ()


def test_nothing_found_in_an_empty_page() -> None:
    fields = extract_fields("")
    assert fields.as_dict() == {
        "petitioner": None,
        "names": [],
        "id_numbers": [],
        "phones": [],
        "summary": "",
        "unverified_id_numbers": [],
    }


def test_numbers_and_sentences_wrapped_onto_the_next_line() -> None:
    text = (
        "本人钟晓岚，住城关镇北苑小区，电话1863\n7715209。身份证号41172\n21963041235\n2X。\n"
        "请求有关部门督促物业公司尽快维修电梯，维护业主的\n合法权益。\n信访人：钟晓岚"
    )
    fields = extract_fields(text)
    assert fields.phones == ("18637715209",)
    assert fields.id_numbers == (VALID_ID,)
    assert fields.summary == "请求有关部门督促物业公司尽快维修电梯，维护业主的合法权益。"


def test_a_joint_letter_names_every_signatory() -> None:
    fields = extract_fields(
        "我们是十二名农民工，代表人卢振东，电话15903967742。\n联名人：卢振东、田广福等十二人"
    )
    assert fields.petitioner == "卢振东"
    assert fields.names == ("卢振东", "田广福")
