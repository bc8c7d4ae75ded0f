"""Recall and precision on the small corpus: names, places, topics, phrases, numbers, scripts.

Every query is typed the way a clerk would, without wildcards; the expected sets are exact, so
a query that also finds letters it should not is a failure too.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from search import LetterIndex

Find = Callable[..., set[int]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # names: 2 and 3 characters, a name inside a longer one, a given name
        ("陈生", {2, 3}),  # 陈生华 contains 陈生: both letters contain the text
        ("陈生华", {3}),
        ("胡涛超", {1}),
        ("涛超", {1}),  # given name: last two characters of a three-character name
        ("建国", {4, 6}),  # 王建国 and 建国路
        ("王建国", {4}),
        ("李玉兰", {5}),  # simplified query, traditional letter (李玉蘭)
        ("李玉蘭", {5}),
        # villages, even when OCR broke the line inside the name
        ("枣树营村", {4, 5}),
        ("棗樹營村", {4, 5}),  # traditional query finds the simplified letter too
        ("桃园村", {1}),
        ("枣树村", {6}),
        # topics and several words (all must occur)
        ("拆迁补偿", {4, 5}),  # not 6, where 拆迁，补偿 are split by a comma
        ("拆遷補償", {4, 5}),
        ("拖欠工资", {3, 7}),  # letter 3 has 拖欠 工资 with an OCR space
        ("征地补偿", {1}),
        ("城关镇 拖欠工资", {3}),
        ("双井村 陈生", {2, 3}),
        ("枣树营村 拆迁补偿", {4, 5}),
        ("枣树营村 拖欠工资", set()),
        # phrases inside sentences, quoted or not
        ("夜间偷排废水", {2}),
        ('"夜间偷排废水"', {2}),
        ("“偷排 废水”", {2}),  # quoted text: inner spaces are treated like OCR's
        ("3号楼楼顶", {6, 7}),  # 173号楼 ends with 3
        ("73号楼楼顶", {7}),
        ("家3亩承包", {1}),  # a phrase cut in the middle of runs
        ("款875102元至今", {1}),
        ("87510", {1}),  # a number's beginning
        ("5102元", {1}),  # its end
        ("7510", {1}),  # its middle
        ("5678", {2}),  # 尾号: the last digits of a phone
        ("份证号5115", {1, 4}),  # a phrase cut inside an ID number
        ("1990082263", {1}),
        ("号楼", {6, 7}),
        ("电话1", {1, 4}),  # not 2: 电话：138 has a colon between
        ("117344元", {3}),
        # phone and ID numbers, however they were written or typed
        ("15174218096", {1}),  # written 151-7421-8096 in the letter
        ("151-7421-8096", {1}),
        ("151 7421 8096", {1}),
        ("13812345678", {2}),  # written 138 1234 5678
        ("13901234567", {4}),  # written in full-width digits
        ("１３９０１２３４５６７", {4}),
        ("511521199008226380", {1}),
        ("51150219970109038X", {4}),
        ("51150219970109038x", {4}),
        ("2025-000001", {1}),  # registration number
    ],
)
def test_recall_and_precision(find: Find, query: str, expected: set[int]) -> None:
    assert find(query) == expected


def test_name_not_found_in_unrelated_letters(find: Find) -> None:
    assert find("赵营") == {6}
    assert find("营村") == {4, 5, 6}  # 枣树营村 (x2) and 另有营村


def test_exact_petitioner_ranks_first(index: LetterIndex) -> None:
    result = index.search("陈生")
    assert [h.letter_id for h in result.hits][0] == 2  # 陈生 himself before 陈生华
    assert result.total == 2


def test_exact_field_only_in_metadata_is_found(index: LetterIndex) -> None:
    # 张伟 is written 张&伟 in the letter: the petitioner field still finds it.
    assert {h.letter_id for h in index.search("张伟").hits} == {7}


def test_or_and_not(find: Find) -> None:
    assert find("陈生华 OR 胡涛超") == {1, 3}
    assert find("拖欠工资 NOT 陈生华") == {7}
    assert find("拖欠工资 -陈生华") == {7}
    assert find("拖欠工资 AND 城关镇") == {3}


def test_single_character(find: Find) -> None:
    assert find("蘭") == {5}
    assert find("乙") == set()
