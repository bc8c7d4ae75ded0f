"""Snippets join the lines a handwritten letter was wrapped into."""

from search._snippet import snippet


def test_wrapped_chinese_lines_join_without_a_space() -> None:
    text = (
        "我叫钟晓岚，住北苑小区，电话1863\n7715209。\n我们楼的电梯\n停运了。\nSee page 2\nfor more"
    )
    shown = snippet(text, ["电梯"])
    assert "我们楼的<mark>电梯</mark>停运了。" in shown
    assert "电话<mark>18637715209</mark>。" in snippet(text, ["18637715209"])
    assert "See page 2 for more" in shown
