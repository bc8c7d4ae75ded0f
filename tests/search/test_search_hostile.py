"""User text is never trusted: every input gives a SearchResult or a QueryError, quickly."""

from __future__ import annotations

import time

import pytest

from search import LetterIndex, QueryError, SearchResult
from search._query import MAX_QUERY_CHARS, parse

HOSTILE = [
    "",
    "   ",
    '"',
    '"拖欠工资',
    '拖欠工资"',
    '""',
    "“拖欠",
    "「」",
    "AND",
    "OR",
    "NOT",
    "AND OR NOT",
    "陈生 AND",
    "OR 陈生",
    "陈生 OR",
    "NOT 陈生",
    "-陈生",
    "-",
    "--",
    "+",
    "*",
    "?",
    "陈*",
    "*生",
    "陈?",
    "**拖欠工资**",
    "id:1",
    "letter_id:1",
    "text:陈生",
    "content:拖欠",
    ":",
    "陈生:",
    "(((",
    ")))",
    "(" * 6000,
    "(陈生 OR 胡涛超)",
    "[1 TO 9]",
    "{a TO z}",
    "陈生^100",
    "陈生~2",
    "/regex/",
    "\\",
    "'; DROP TABLE letters; --",
    "<script>alert(1)</script>",
    "\x00\x01\x02",
    "陈\x00生",
    "\u200b",
    "\ud800",
    "陈生\ud800",
    "\t\n\r",
    "🙂",
    "陈生🙂",
    "%s %d {0}",
    "x" * 10_000,
    "拖欠工资 " * 2000,
    "陈" * MAX_QUERY_CHARS,
    " ".join(["陈生"] * 13),
    "1",
    "0" * 64,
    "9" * 200,
    "ABC",
    "ｉｄ：１",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:20]) + f"[{len(t)}]")
def test_hostile_query(index: LetterIndex, text: str) -> None:
    start = time.monotonic()
    try:
        result = index.search(text)
    except QueryError as e:
        assert str(e) and len(str(e)) < 200  # a message a user can read
    else:
        assert isinstance(result, SearchResult)
        assert result.total >= len(result.hits)
        for hit in result.hits:
            bare = hit.snippet.replace("<mark>", "").replace("</mark>", "")
            assert "<" not in bare and ">" not in bare
    assert time.monotonic() - start < 2.0


def test_star_does_not_match_everything(index: LetterIndex) -> None:
    with pytest.raises(QueryError):
        index.search("*")
    assert index.search("陈生 *").total == index.search("陈生").total == 2


def test_empty_query_without_filter_is_a_clear_error(index: LetterIndex) -> None:
    with pytest.raises(QueryError, match="请输入姓名"):
        index.search("")
    with pytest.raises(QueryError, match="请输入姓名"):
        index.search("*** ((( )))")


def test_too_long_is_a_clear_error(index: LetterIndex) -> None:
    with pytest.raises(QueryError, match="太长"):
        index.search("x" * 10_000)


def test_field_syntax_is_plain_text(index: LetterIndex) -> None:
    # "letter_id:1" must not search another field; it is the words letter_id and 1.
    assert index.search("letter_id:1").total == 0


def test_not_alone_is_a_clear_error(index: LetterIndex) -> None:
    with pytest.raises(QueryError, match="排除"):
        index.search("-陈生")


def test_non_text_query_is_a_query_error(index: LetterIndex) -> None:
    with pytest.raises(QueryError):
        index.search(None)  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        index.search(b"\xe9\x99\x88")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "groups", "excluded"),
    [
        ("河口村 征地补偿", [["河口村"], ["征地补偿"]], []),
        ('"拆迁 补偿" 陈生', [["拆迁补偿"], ["陈生"]], []),
        ("陈生 OR 胡涛超 拖欠", [["陈生", "胡涛超"], ["拖欠"]], []),
        ("拖欠 NOT 陈生", [["拖欠"]], ["陈生"]),
        ("拖欠 -陈生 +工资", [["拖欠"], ["工资"]], ["陈生"]),
        ("AND 陈生 AND", [["陈生"]], []),
        ("138 1234 5678", [["13812345678"]], []),
        ("陈*生?", [["陈*生?"]], []),
    ],
)
def test_parse_words(text: str, groups: list[list[str]], excluded: list[str]) -> None:
    plan = parse(text)
    assert [[w.text for w in g] for g in plan.groups] == groups
    assert [w.text for w in plan.excluded] == excluded
