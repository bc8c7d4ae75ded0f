"""Reading order on boxes alone: lines top to bottom, each left to right, baselines drifting."""

from __future__ import annotations

import random

import pytest

from ocr import Line, reading_order
from ocr._layout import group_lines, merge_line, page_slope


def quad(x0: float, y0: float, x1: float, y1: float, height: float = 50) -> Line:
    """A box from its top-left (x0, y0) to its top-right (x1, y1), ``height`` tall."""
    return Line(
        text="",
        box=((x0, y0), (x1, y1), (x1, y1 + height), (x0, y0 + height)),
        score=0.9,
    )


def named(text: str, line: Line, score: float = 0.9) -> Line:
    return Line(text=text, box=line.box, score=score)


def texts(lines: tuple[Line, ...]) -> list[str]:
    return [line.text for line in lines]


def test_nothing_in_nothing_out():
    assert reading_order([]) == ()


def test_one_box_is_kept_as_it_is():
    box = named("信访人：韩秋菊", quad(100, 100, 600, 100))
    assert reading_order([box]) == (box,)


def test_fragments_of_two_lines_in_any_order():
    first = [named(t, quad(x, 100, x + 280, 100)) for t, x in (("我叫", 0), ("韩秋菊", 300))]
    second = [named(t, quad(x, 200, x + 280, 200)) for t, x in (("家住", 0), ("石桥镇", 300))]
    fragments = first + second
    for seed in range(6):
        random.Random(seed).shuffle(fragments)
        assert texts(reading_order(fragments)) == ["我叫韩秋菊", "家住石桥镇"]


def test_drifting_baseline_is_not_interleaved_with_the_next_line():
    # the first line sinks 90 px from left to right; the second starts level with its end
    a = named("化浮萍", quad(0, 100, 300, 130))
    b = named("躺湖心", quad(310, 131, 600, 160))
    c = named("我愿意", quad(610, 161, 900, 190))
    d = named("第二行", quad(0, 170, 300, 172))
    e = named("开头", quad(310, 172, 600, 174))
    naive = sorted([a, b, c, d, e], key=lambda f: sum(p[1] for p in f.box))
    assert "".join(f.text for f in naive) != "化浮萍躺湖心我愿意第二行开头"  # what sorting does
    assert texts(reading_order([e, c, a, d, b])) == ["化浮萍躺湖心我愿意", "第二行开头"]


def test_rotated_page_with_a_short_right_aligned_line():
    slope = 0.03  # a page scanned 1.7 degrees askew
    rows = [
        ("第一行写满了整个宽度", 0, 100),
        ("第二行也写满了整个宽度", 0, 190),
        ("信访人：韩秋菊", 1100, 280),
        ("二〇二五年三月八日", 1100, 370),
    ]
    fragments = [named(t, quad(x, y + slope * x, 1500, y + slope * 1500)) for t, x, y in rows]
    assert page_slope([f.box for f in fragments]) == pytest.approx(slope)
    assert texts(reading_order(fragments[::-1])) == [t for t, _, _ in rows]


def test_slightly_overlapping_neighbours_are_one_line():
    left = named("联系电话", quad(0, 100, 320, 100))
    right = named("13839452176", quad(300, 104, 700, 104))
    assert texts(reading_order([right, left])) == ["联系电话13839452176"]


def test_boxes_stacked_in_one_column_are_separate_lines():
    top = named("上", quad(0, 100, 100, 100))
    below = named("下", quad(0, 160, 100, 160))
    assert texts(reading_order([below, top])) == ["上", "下"]


def test_merge_joins_latin_runs_with_a_space_and_chinese_without():
    parts = [
        named("电话", quad(0, 0, 100, 0), score=0.8),
        named("138", quad(110, 0, 200, 0), score=1.0),
        named("1234", quad(210, 0, 300, 0), score=1.0),
    ]
    line = merge_line(parts)
    assert line.text == "电话138 1234"
    assert line.box == ((0, 0), (300, 0), (300, 50), (0, 50))
    assert line.score == pytest.approx((0.8 * 2 + 1.0 * 3 + 1.0 * 4) / 9)


def test_groups_keep_every_box_once():
    fragments = [
        named(str(n), quad(n * 37 % 500, n * 53 % 900, n * 37 % 500 + 80, n * 53 % 900))
        for n in range(40)
    ]
    groups = group_lines(fragments)
    flat = [f for g in groups for f in g]
    assert sorted(f.text for f in flat) == sorted(f.text for f in fragments)
    for group in groups:
        lefts = [min(p[0] for p in f.box) for f in group]
        assert lefts == sorted(lefts)


def test_polygons_with_more_points_are_accepted():
    pentagon = Line("五边形", ((0, 0), (50, -5), (100, 0), (100, 40), (0, 40)), 0.9)
    assert texts(reading_order([pentagon])) == ["五边形"]
