"""Fuzzing the search text: any unicode a user types gives results or our QueryError — never
another exception — and every snippet is safe HTML whose only markup is <mark>."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import search
from search._analysis import clean_with_map, fold, tokens
from search._query import parse
from search._snippet import snippet
from tests.fuzz.runs import count, fuzz_settings

MARK = re.compile(r"</?mark>")
LETTER_TEXT = ("我叫韩秋菊，身份证号41172219630412352X，电话138-3945-2176。"
               "<script>alert(1)</script>石桥镇枣树营村征地补偿款至今没有发放 & \"拆迁\" 'OR' 1=1 "
               "{{ 7*7 }}；請求領導督促解決。")
OTHER_TEXTS = ("城关镇南关社区拖欠农民工工资十八万元，请求督促支付。",
               "<b>卢振东</b> & 钟晓岚：小区电梯停运无人维修 OR 1=1")
# Text that means something to the query syntax, to the index or to HTML, mixed into the
# fuzzer's alphabet so that it meets them far more often than chance would.
SPECIAL = ['"', "“", "”", "「", "」", "OR", "AND", "NOT", "-", "+", "*", "?", ":", "(", ")",
           "[", "]", "{", "}", "\\", "<", ">", "&", "&amp;", "<mark>", "\u202e", "\u200b",
           "\ufeff", "\x00", "\ud800", "ﬀ", "Ⅻ", "㍿", "ｱ", "１２３", "138", "4117",
           "韩秋菊", "征地", "補償", " ", "\n", "\t", "'", ";", "--", "%", "_"]
query_text = st.lists(st.one_of(st.text(max_size=8), st.sampled_from(SPECIAL)),
                      max_size=40).map("".join)


def assert_safe_html(fragment: str, source: str) -> None:
    """Only <mark> tags, balanced; everything else escaped text from the source."""
    assert fragment.count("<mark>") == fragment.count("</mark>"), fragment
    bare = MARK.sub("", fragment)
    assert "<" not in bare and ">" not in bare and '"' not in bare, fragment
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", bare), fragment
    shown = set(html.unescape(bare)) - set(source) - set("… ")
    assert not shown, f"characters the text does not have: {shown!r}"


@pytest.mark.soak
@fuzz_settings(quick=1500, soak=100_000)
@given(query_text)
def test_any_text_parses_or_is_refused_clearly(text: str) -> None:
    count("search: query parser")
    try:
        plan = parse(text)
    except search.QueryError as e:
        assert str(e).strip()
        return
    for word in plan.words:
        assert all(needle for needle in word.needles), word


@pytest.mark.soak
@fuzz_settings(quick=1000, soak=100_000)
@given(query_text)
def test_the_analysis_keeps_its_map(text: str) -> None:
    count("search: analysis")
    cleaned, origin = clean_with_map(text)
    assert len(origin) == len(cleaned)
    assert all(0 <= i < len(text) for i in origin)
    assert origin == sorted(origin)
    folded = fold(cleaned)
    for token, position in tokens(folded):
        assert token and position >= 0


@pytest.mark.soak
@fuzz_settings(quick=1000, soak=100_000)
@given(st.one_of(query_text, st.just(LETTER_TEXT)), st.lists(query_text, max_size=4))
def test_snippets_escape_everything_but_their_marks(text: str, needles: list[str]) -> None:
    count("search: snippets")
    folded = [fold(clean_with_map(n)[0]) for n in needles]
    assert_safe_html(snippet(text, folded), text)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[search.LetterIndex]:
    """A real index (the instance's engine) holding hostile letters."""
    import datetime as dt

    from web.services.instance import Instance
    from web.services.registration import register_written

    home: Path = tmp_path_factory.mktemp("fuzz-search") / "instance"
    with Instance(home) as instance:
        instance.create()
        for i, text in enumerate((LETTER_TEXT, *OTHER_TEXTS)):
            register_written(instance, channel="visit", text=text, name="韩秋菊", phone=None,
                             id_number=None, township="石桥镇",
                             received_on=dt.date(2026, 1, 5 + i), actor="fuzz")
    instance = Instance(home)
    yield instance.index
    instance.close()


@pytest.mark.soak
@fuzz_settings(quick=400, soak=20_000)
@given(query_text, st.sampled_from(["relevance", "date"]))
def test_the_index_answers_any_text(index: search.LetterIndex, text: str, sort: str) -> None:
    count("search: index end to end")
    try:
        result = index.search(text, limit=5, sort=sort, facets=True)  # type: ignore[arg-type]
    except search.QueryError as e:
        assert str(e).strip()
        return
    for hit in result.hits:
        stored = index.search("", limit=50, township="石桥镇", snippets=False)
        assert hit.letter_id in {h.letter_id for h in stored.hits}
        assert_safe_html(hit.snippet, LETTER_TEXT + "".join(OTHER_TEXTS))
