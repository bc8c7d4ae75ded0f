"""Fields proposed from letter text: ID numbers (check digit), phones, the petitioner, the ask."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocr.fields import Gazetteer, extract_fields, score_fields, valid_id_number

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
        "dates": [],
        "amounts": [],
        "signature": None,
        "townships": [],
        "villages": [],
        "found": [],
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


def test_positions_point_at_what_was_written() -> None:
    text = "电话：１３８ ３９４５ ２１７６，2026.3.5收到3万元。"
    fields = extract_fields(text)
    spans = {f.kind: text[f.start : f.end] for f in fields.found}
    assert spans == {"phone": "１３８ ３９４５ ２１７６", "date": "2026.3.5", "amount": "3万元"}


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("2026年3月5日", "2026-03-05"),
        ("2026.3.5", "2026-03-05"),
        ("2026-03-05", "2026-03-05"),
        ("三月五日", "--03-05"),
        ("十二月三十一日", "--12-31"),
        ("二〇二五年三月八日", "2025-03-08"),
    ],
)
def test_dates(written: str, iso: str) -> None:
    assert extract_fields(f"我于{written}到镇里反映。").dates == (iso,)


@pytest.mark.parametrize(
    ("written", "yuan"),
    [("12,500元", "12500"), ("3万元", "30000"), ("1.5万", "15000"), ("¥186,000元", "186000"),
     ("460块", "460"), ("人民币5000元", "5000")],
)
def test_amounts(written: str, yuan: str) -> None:
    assert extract_fields(f"补偿款{written}没有发放").amounts == (yuan,)


@pytest.mark.parametrize(
    ("ending", "name"),
    [
        ("此致\n敬礼\n韩秋菊\n2026年3月5日", "韩秋菊"),
        ("信访人：梁建明\n2025年11月23日", "梁建明"),
        ("2026年3月5日\n钟晓岚", "钟晓岚"),
        ("赵春生 2026年2月20日", "赵春生"),
        ("请求领导督促解决。", None),
    ],
)
def test_signature_at_the_end(ending: str, name: str | None) -> None:
    assert extract_fields("我家承包地被征收。\n" + ending).signature == name


def test_gazetteer_places_with_and_without_their_suffix(tmp_path: Path) -> None:
    table = tmp_path / "places.csv"
    table.write_text("township,village\n石桥镇,枣树营村\n城关镇,\n", encoding="utf-8")
    gazetteer = Gazetteer.from_csv(table)
    fields = extract_fields("家住石桥镇枣树营，后搬到城关镇。", gazetteer=gazetteer)
    assert fields.townships == ("石桥镇", "城关镇")
    assert fields.villages == ("枣树营村",)
    assert extract_fields("家住石桥镇").townships == ()  # no gazetteer, no places


def test_the_labelled_letters_meet_the_figures() -> None:
    labelled = json.loads((Path(__file__).parent / "data/letters_fields.json").read_text("utf-8"))
    scores = score_fields(labelled)
    assert scores["id_numbers"]["expected"] >= 8 and scores["phones"]["expected"] >= 16
    for kind in ("id_numbers", "phones"):
        assert scores[kind]["precision"] >= 0.98, scores[kind]
        assert scores[kind]["recall"] >= 0.95, scores[kind]
