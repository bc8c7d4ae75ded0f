"""The postgres engine past its exact limit: a common search answers a page at a bounded cost
(estimated total and facets, exact names and numbers first, the rest newest first) and the
same letters in the same order as an exact search wherever the order is defined."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from typing import Any

import pytest

from search import LetterDoc, LetterIndex
from tests.pg import new_schema_url

pytest.importorskip("psycopg")

N = 240
TOWNSHIPS = ("石桥镇", "城关镇", "河西乡")
COMMON = "拆迁安置"  # in every letter
HALF = "征地补偿"  # in the even letters
NAME = "胡涛超"  # the petitioner of three letters, named in the text of others


def _docs() -> list[LetterDoc]:
    rng = random.Random(5)
    days = [datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(700))
            for _ in range(N)]
    docs = []
    for k in range(N):
        text = f"反映{COMMON}问题。" + (f"还有{HALF}没有到位。" if k % 2 == 0 else "")
        if k % 3 == 0:
            text += f"邻居{NAME}也知道。"
        docs.append(LetterDoc(
            k + 1, text, petitioners=(NAME,) if k in (10, 100, 200) else ("李四",),
            township=TOWNSHIPS[k % 3], category="城乡建设",
            received=days[k] if k % 50 else None))
    return docs


@pytest.fixture(scope="module")
def url(pg_url: str) -> Iterator[str]:
    """One index of N letters for the module (built once)."""
    location = new_schema_url(pg_url, "many")
    with LetterIndex.create(location, engine="postgres") as ix:
        ix.add(_docs())
    yield location


def _open(url: str, *, exact_up_to: int, sample_rows: int) -> LetterIndex:
    ix = LetterIndex.open(url, engine="postgres")
    engine: Any = ix._engine
    engine.exact_up_to, engine.sample_rows = exact_up_to, sample_rows
    return ix


@pytest.fixture
def many(url: str) -> Iterator[LetterIndex]:
    """The index with a small exact limit: 60 matches, a sample of the newest 100 letters."""
    with _open(url, exact_up_to=60, sample_rows=100) as ix:
        yield ix


@pytest.fixture
def exact(url: str) -> Iterator[LetterIndex]:
    with _open(url, exact_up_to=10_000, sample_rows=10_000) as ix:
        yield ix


def _ids(result: Any) -> list[int]:
    return [h.letter_id for h in result.hits]


def test_a_rare_search_stays_exact(many: LetterIndex, exact: LetterIndex) -> None:
    rare = many.search(f"{NAME} {HALF}", limit=10, facets=True)  # 43 letters
    assert not rare.estimated and rare.total == 43
    assert rare == exact.search(f"{NAME} {HALF}", limit=10, facets=True)
    common = many.search(NAME, limit=10, facets=True)  # 83 letters
    assert common.estimated and common.total > 60


@pytest.mark.parametrize("query", [COMMON, HALF, f"{COMMON} -{HALF}", ""])
def test_by_date_the_page_is_the_exact_page(many: LetterIndex, exact: LetterIndex,
                                            query: str) -> None:
    filters = {"township": "石桥镇"} if not query else {}
    for offset in (0, 20, 35):  # pages ending within the exact limit
        got = many.search(query, limit=offset + 20, offset=offset, sort="date", **filters)
        want = exact.search(query, limit=offset + 20, offset=offset, sort="date", **filters)
        assert got.estimated is (want.total > 60)
        assert _ids(got) == _ids(want)
        assert [h.snippet for h in got.hits] == [h.snippet for h in want.hits]


def test_by_relevance_exact_names_first_then_newest(many: LetterIndex,
                                                    exact: LetterIndex) -> None:
    everything = exact.search(NAME, limit=N, sort="date")
    result = many.search(NAME, limit=25)
    assert result.estimated
    ids = _ids(result)
    assert ids[:3] == _ids(exact.search(NAME, limit=3))  # the petitioner's own letters
    assert set(ids[:3]) == {11, 101, 201}
    newest = [i for i in _ids(everything) if i not in ids[:3]]
    assert ids[3:] == newest[:22]


def test_pages_join_up(many: LetterIndex) -> None:
    """Page after page gives every letter once, the same as one long page."""
    whole = _ids(many.search(NAME, limit=30))
    pages = [_ids(many.search(NAME, limit=k + 7, offset=k)) for k in range(0, 30, 7)]
    assert [i for page in pages for i in page][:30] == whole
    assert len(set(whole)) == 30


def test_the_estimate(many: LetterIndex, exact: LetterIndex) -> None:
    every = many.search(COMMON, limit=20, facets=True)
    assert every.estimated and every.total == N  # every sampled letter matches: exact share
    assert sum(every.facets["township"].values()) == pytest.approx(N, abs=3)
    assert set(every.facets["township"]) == set(TOWNSHIPS)
    half = many.search(HALF, limit=20, facets=True)
    true = exact.search(HALF, limit=N).total
    assert half.estimated and 61 <= half.total <= N
    assert abs(half.total - true) <= N // 4  # a sample of 100 letters of 240


def test_dates_leaving_few_letters_count_exactly(many: LetterIndex, exact: LetterIndex) -> None:
    """When the dates leave no more letters than the sample, the sample is all of them."""
    window = {"received_from": datetime.date(2024, 1, 1), "received_to": datetime.date(2024, 8, 31)}
    got = many.search(COMMON, limit=20, facets=True, **window)
    want = exact.search(COMMON, limit=N, facets=True, sort="date", **window)
    assert 60 < want.total <= 100
    assert not got.estimated and got.total == want.total and got.facets == want.facets


def test_every_hit_asked_for_is_exact(many: LetterIndex, exact: LetterIndex) -> None:
    """An export or the evaluation asks for more hits than the limit: all are found."""
    got = many.search(HALF, limit=N, facets=True)
    assert not got.estimated
    assert got == exact.search(HALF, limit=N, facets=True)



def test_more_like_this_looks_at_the_newest_letters_and_every_letter_of_the_person(
        url: str) -> None:
    """Content is compared with the newest letters (a fixed cost); the same petitioner's
    letters are found however old."""
    text = "村里的自来水管道破裂三个月无人维修，全村饮水困难，请求尽快派人修复供水设施。"
    docs = [LetterDoc(1001, text, petitioners=("赵老栓",), received=datetime.date(2020, 1, 1)),
            LetterDoc(1002, text + "又及。", petitioners=("钱二",),
                      received=datetime.date(2020, 1, 2)),
            LetterDoc(1003, "赵老栓反映低保问题。", petitioners=("赵老栓",),
                      received=datetime.date(2019, 5, 1)),
            LetterDoc(1004, text + "再次反映。", petitioners=("孙三",),
                      received=datetime.date(2026, 1, 2))]
    location = new_schema_url(url.rsplit("&schema=", 1)[0], "window")
    with LetterIndex.create(location, engine="postgres") as ix:
        ix.add(_docs() + docs)
        engine: Any = ix._engine
        assert {h.letter_id for h in ix.more_like_this(1001).hits} >= {1002, 1003, 1004}
        engine.similar_window = 50  # the newest 50 letters: 1004, not 1002 (of 2020)
        found = {h.letter_id for h in ix.more_like_this(1001).hits}
        assert 1004 in found and 1002 not in found
        assert 1003 in found  # the same petitioner, five years before


def test_only_dates_newest_first(many: LetterIndex, exact: LetterIndex) -> None:
    """No words and no exact field, only dates: every letter of the period, newest first."""
    window = {"received_from": datetime.date(2024, 1, 1)}
    got = many.search("", limit=20, facets=True, **window)
    want = exact.search("", limit=20, facets=True, **window)
    assert got.total >= 60 and _ids(got) == _ids(want)
