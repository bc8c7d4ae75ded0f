"""Filters, sorting, facets, "all letters from this person" and "more like this" (both engines)."""

from __future__ import annotations

import datetime

import pytest

from search import LetterDoc, LetterIndex, QueryError, SearchError

D = datetime.date


def ids(result: object) -> list[int]:
    return [h.letter_id for h in result.hits]  # type: ignore[attr-defined]


def test_sort_by_date_newest_first(index: LetterIndex) -> None:
    result = index.search("城关镇 OR 石桥镇", sort="date")
    assert ids(result) == [7, 1, 2, 3]
    with pytest.raises(QueryError, match="排序"):
        index.search("城关镇", sort="size")  # type: ignore[arg-type]


def test_facets_count_every_match_not_only_the_shown_hits(index: LetterIndex) -> None:
    result = index.search("拖欠工资 OR 拆迁补偿", limit=1, facets=True)
    assert result.total == 4 and len(result.hits) == 1
    assert result.facets["township"] == {"城关镇": 1, "石桥镇": 1, "龙华镇": 1, "东坝乡": 1}
    assert result.facets["category"] == {"拖欠工资": 2, "拆迁安置": 2}
    assert set(result.facets) == {"township", "category", "status", "unit"}
    only = index.search("双井村", facets=["status"])
    assert only.facets == {"status": {"已办结": 1, "办理中": 1}}
    assert index.search("双井村").facets == {}
    with pytest.raises(QueryError, match="无法按"):
        index.search("双井村", facets=["petitioner"])


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_an_offset_gives_the_rest_of_the_same_ranking(index: LetterIndex, sort: str) -> None:
    """A deep result page reads only its own hits: the same ones the whole ranking has there."""
    whole = index.search("城关镇 OR 石桥镇 OR 拖欠工资", sort=sort,  # type: ignore[arg-type]
                         facets=True)
    assert whole.total >= 4
    for offset in range(whole.total + 1):
        page = index.search("城关镇 OR 石桥镇 OR 拖欠工资", sort=sort,  # type: ignore[arg-type]
                            facets=True, offset=offset)
        assert ids(page) == ids(whole)[offset:]
        assert [h.snippet for h in page.hits] == [h.snippet for h in whole.hits][offset:]
        assert (page.total, page.facets) == (whole.total, whole.facets)
    two = index.search("城关镇 OR 石桥镇 OR 拖欠工资", limit=3, offset=1,
                       sort=sort)  # type: ignore[arg-type]
    assert ids(two) == ids(whole)[1:3]
    with pytest.raises(QueryError, match="起始位置"):
        index.search("城关镇", offset=-1)


def test_unit_filter(index: LetterIndex) -> None:
    index.add([LetterDoc(20, "反映拖欠工资问题。", unit="县人社局", status="办理中")])
    assert ids(index.search("拖欠工资", unit="县人社局")) == [20]
    assert index.search("", unit="县人社局").total == 1
    assert index.search("拖欠工资", facets=["unit"]).facets["unit"] == {"县人社局": 1}


def test_letters_from_a_person(index: LetterIndex) -> None:
    index.add(
        [
            LetterDoc(
                30,
                "我再次反映征地补偿款的问题。",
                petitioners=("胡涛超",),
                phones=("15174218096",),
                township="石桥镇",
                received=D(2025, 8, 1),
            ),
            LetterDoc(31, "胡涛超的邻居来信。", petitioners=("胡涛超",), township="城关镇"),
        ]
    )
    assert ids(index.letters_from(id_number="511521199008226380")) == [1]
    assert ids(index.letters_from(phone="151-7421-8096")) == [30, 1]  # newest first
    assert set(ids(index.letters_from(name="胡涛超"))) == {1, 30, 31}
    assert ids(index.letters_from(name="胡涛超", township="石桥镇")) == [30, 1]
    assert ids(index.letters_from(name="李玉兰")) == [5]  # 李玉蘭, folded
    assert index.letters_from(name="胡涛").total == 0  # exact names only
    with pytest.raises(QueryError, match="身份证号、电话号码或姓名"):
        index.letters_from(township="石桥镇")


def test_more_like_this_finds_the_repeat_and_never_the_letter_itself(index: LetterIndex) -> None:
    repeat = LetterDoc(
        40,
        "尊敬的领导：我是石桥镇桃园村村民。村里修路征用了我家承包地，约定的征地补偿款至今没有到位，"
        "请领导督促解决。",
        township="石桥镇",
    )
    index.add([repeat])
    result = index.more_like_this(1)
    assert 1 not in ids(result)
    assert ids(result)[0] == 40
    assert 1 in ids(index.more_like_this(40))
    assert ids(index.more_like_this(1, township="城关镇")) == []
    with pytest.raises(SearchError, match="不在搜索索引中"):
        index.more_like_this(999)
    with pytest.raises(QueryError):
        index.more_like_this("1")  # type: ignore[arg-type]


def test_more_like_this_counts_the_same_person(index: LetterIndex) -> None:
    index.add([LetterDoc(41, "另一件事：邻居家的树挡住了阳光。", petitioners=("陈生华",))])
    assert 41 in ids(index.more_like_this(3))


@pytest.mark.parametrize(
    "text",
    [
        '"拖欠',
        "AND OR NOT",
        "*",
        "?",
        "id:1 township:石桥镇",
        "拖欠" * 5000,
        "\x00\x01\u200b",
        ")(" * 60,
    ],
)
def test_hostile_text_with_filters_and_facets(index: LetterIndex, text: str) -> None:
    try:
        result = index.search(text, township="石桥镇", facets=True, sort="date")
    except QueryError as e:
        assert str(e)
    else:
        assert result.total >= 0


def test_snippets_can_be_left_out(index: LetterIndex) -> None:
    result = index.search("拖欠工资", snippets=False)
    assert result.total == 2 and all(h.snippet == "" for h in result.hits)


def test_letters_of_excluded_cases_are_left_out_of_hits_total_and_facets(
    index: LetterIndex, letters: dict[int, LetterDoc]
) -> None:
    """§30 ¶3: a search that leaves out the letters accusing its reader counts none of them,
    in the total, in every facet and in the tolerant tail (one search, the engine filters)."""
    import dataclasses

    everything = index.search("拖欠工资 OR 拆迁补偿", facets=True)
    accusing, other = ids(everything)[:2]
    index.add([dataclasses.replace(letters[accusing], case_id=991),
               dataclasses.replace(letters[other], case_id=992)])
    kept = index.search("拖欠工资 OR 拆迁补偿", facets=True, exclude_cases=[991, 990])
    assert accusing not in ids(kept) and other in ids(kept)
    assert kept.total == everything.total - 1 == len(kept.hits)
    left_out = letters[accusing]
    for name, value in (("township", left_out.township), ("category", left_out.category)):
        expected = dict(everything.facets[name])
        expected[value] -= 1
        assert kept.facets[name] == {k: n for k, n in expected.items() if n}
    assert index.search("拖欠工资 OR 拆迁补偿", exclude_cases=[]).total == everything.total
    # a filter alone (newest first) leaves it out too; an exclusion alone is no search
    township = left_out.township
    assert accusing not in ids(index.search("", township=township, exclude_cases=[991]))
    with pytest.raises(QueryError, match="请输入"):
        index.search("", exclude_cases=[991])
    with pytest.raises(QueryError, match="排除"):
        index.search("拖欠工资", exclude_cases=["991"])  # type: ignore[list-item]
