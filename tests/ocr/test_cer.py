"""character_error_rate: Levenshtein over the reference length, blind to width and spaces."""

from __future__ import annotations

import pytest

from ocr import character_error_rate, character_errors, edit_distance, normalize_for_cer


def test_identical_is_zero():
    assert character_error_rate("信访人：韩秋菊", "信访人：韩秋菊") == 0.0


def test_one_substitution_in_ten():
    assert character_error_rate("我家承包地被征收两年", "我家承包他被征收两年") == pytest.approx(
        0.1
    )


def test_insertions_and_deletions_count():
    assert edit_distance("补偿款", "补偿款项") == 1
    assert edit_distance("补偿款", "补款") == 1
    assert edit_distance("", "abc") == 3
    assert edit_distance("kitten", "sitting") == 3


def test_whitespace_and_line_breaks_do_not_count():
    assert character_error_rate("联系电话 138 3945 2176", "联系电话\n13839452176") == 0.0


@pytest.mark.parametrize(
    ("full", "half"),
    [
        ("信访人：韩秋菊，电话１３８。", "信访人:韩秋菊,电话138."),
        ("（一）请求！", "(一)请求!"),
        ("“拆迁补偿”", '"拆迁补偿"'),
        ("ＡＢＣ－１２", "ABC-12"),
    ],
)
def test_full_and_half_width_punctuation_fold(full: str, half: str):
    assert normalize_for_cer(full) == normalize_for_cer(half)
    assert character_error_rate(full, half) == 0.0


def test_can_exceed_one_when_the_hypothesis_is_long():
    assert character_error_rate("信", "信访人韩秋菊") == 5.0


def test_empty_reference():
    assert character_error_rate("", "") == 0.0
    assert character_error_rate(" \n", "多余") == 1.0


def test_pooled_counts():
    assert character_errors("我 叫 韩秋菊", "我叫韩秋") == (1, 5)
