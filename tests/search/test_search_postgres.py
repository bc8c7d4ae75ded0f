"""The postgres engine's own concerns: user text never becomes SQL, PostgreSQL's limits, and
the URL it is opened with. The shared behaviour is tested on every engine by the other files."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from search import LetterDoc, LetterIndex, QueryError, SearchError
from search._analysis import normalize_key
from search._postgres import TABLE, key_lexeme, parse_location, tsvector_literal
from search._schema import to_record
from tests.pg import new_schema_url

psycopg = pytest.importorskip("psycopg")

INJECTIONS = [
    "'; DROP TABLE search.letter_v2; --",
    "x') OR 1=1 --",
    "'' OR ''='",
    "\\'; SELECT pg_sleep(5); --",
    "a'b",
    "c\\d",
    "陈生' | '胡涛超",
    "陈生':* & !'x",
    "'<->'",
    "$$; DROP SCHEMA search CASCADE; $$",
    "%s %(match)s {0} {}",
    "E'\\x00'",
    "胡涛超)) OR ((1=1",
]
NAMES = ["O'Brien", "王'; DROP TABLE x; --", "back\\slash", "a:*b", "c&d|e!f(g)h<->i", "%(x)s"]


@pytest.fixture
def url(pg_url: str) -> str:
    """A schema of its own in the session's database."""
    return new_schema_url(pg_url, "inj")


@pytest.fixture
def pg_index(url: str) -> Iterator[LetterIndex]:
    """A postgres index holding letters whose names and texts are full of SQL syntax."""
    docs = [
        LetterDoc(
            k + 1,
            f"我叫{name}，反映拖欠工资问题。{name}",
            petitioners=(name,),
            township=name,
            phones=("13812345678",) if k == 0 else (),
            received=datetime.date(2025, 1, k + 1),
        )
        for k, name in enumerate(NAMES)
    ]
    with LetterIndex.open(url, engine="postgres") as ix:
        ix.add(docs)
        yield ix


def _table_intact(url: str) -> int:
    plain, schema = parse_location(url)
    with psycopg.connect(plain, autocommit=True) as conn:
        (count,) = conn.execute(f'SELECT count(*) FROM "{schema}"."{TABLE}"').fetchone()
        return int(count)


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_in_the_query_is_only_text(pg_index: LetterIndex, url: str, text: str) -> None:
    try:
        result = pg_index.search(text, facets=True)
    except QueryError as e:
        assert str(e)
    else:
        assert result.total <= len(NAMES)
    for where in ("township", "category", "status", "unit"):
        assert pg_index.search("拖欠工资", **{where: text}).total == 0  # type: ignore[arg-type]
    for person in ({"name": text}, {"phone": text}, {"id_number": text}):
        try:
            assert pg_index.letters_from(**person).total == 0
        except QueryError as e:  # nothing left of it once normalised
            assert str(e)
    assert _table_intact(url) == len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_names_with_sql_syntax_are_found_exactly(pg_index: LetterIndex, name: str) -> None:
    (hit,) = pg_index.letters_from(name=name).hits
    assert NAMES[hit.letter_id - 1] == name
    assert pg_index.search("拖欠工资", township=name).total == 1
    facets = pg_index.search("拖欠工资", facets=["township"]).facets["township"]
    assert facets[normalize_key(name)] == 1


def test_more_like_this_with_sql_syntax(pg_index: LetterIndex) -> None:
    pg_index.add([LetterDoc(20, "另一件事。", petitioners=(NAMES[1],))])
    result = pg_index.more_like_this(2)
    assert [h.letter_id for h in result.hits] == [20]


def test_literals_quote_every_lexeme() -> None:
    record = to_record(LetterDoc(1, "拖欠", petitioners=("a'b\\c",)))
    literal = tsvector_literal(record)
    assert "'petitioner=a''b\\\\c':1A" in literal
    assert "'拖欠':2" in literal


def test_a_very_long_key_is_stored_by_its_hash(url: str) -> None:
    name = "张" * 2000
    assert key_lexeme("petitioner", name).startswith("petitioner=#")
    with LetterIndex.open(url, engine="postgres") as ix:
        ix.add([LetterDoc(1, "来信", petitioners=(name,))])
        assert [h.letter_id for h in ix.letters_from(name=name).hits] == [1]


def test_a_very_long_letter_is_indexed(url: str) -> None:
    text = "村里的道路年久失修，雨天泥泞难行。" * 1500 + "我家的宅基地被邻居强占。"
    with LetterIndex.open(url, engine="postgres") as ix:
        ix.add([LetterDoc(1, text), LetterDoc(2, "拖欠工资" * 400)])
        assert ix.search("道路年久失修").total == 1
        # Past tsvector's last position (16,383) every token sits at that position: words of
        # two characters are still found there, longer phrases are not (a documented limit).
        assert ix.search("宅基").total == 1
        assert ix.search("宅基地").total == 0
        assert ix.search("拖欠工资").total == 1  # more than 256 positions of one lexeme


@pytest.mark.parametrize(
    "location",
    [
        "postgresql://u@/db?schema=Bad-Name",
        "postgresql://u@/db?schema=x;drop",
        "postgresql://u@/db?schema=",
        "mysql://u@/db",
    ],
)
def test_bad_locations_are_clear_errors(location: str) -> None:
    with pytest.raises(SearchError):
        LetterIndex.open(location, engine="postgres")


def test_location_forms() -> None:
    assert parse_location("postgresql+psycopg://u:p@h:5433/db?schema=idx&sslmode=disable") == (
        "postgresql://u:p@h:5433/db?sslmode=disable",
        "idx",
    )
    assert parse_location("postgres://u@/db?host=%2Frun%2Fpg") == (
        "postgresql://u@/db?host=%2Frun%2Fpg",
        "search",
    )


def test_two_schemas_are_two_indexes(pg_url: str) -> None:
    a, b = new_schema_url(pg_url), new_schema_url(pg_url)
    with LetterIndex.open(a, engine="postgres") as ia, LetterIndex.open(b, engine="postgres") as ib:
        ia.add([LetterDoc(1, "拖欠工资")])
        assert ia.letter_ids() == {1} and ib.letter_ids() == set()


def test_more_like_this_with_planner_statistics(
    url: str, monkeypatch: pytest.MonkeyPatch, letters: dict[int, LetterDoc]
) -> None:
    """Past ESTIMATE_FROM letters, common lexemes' frequencies come from ANALYZE."""
    import search._postgres as engine_module

    monkeypatch.setattr(engine_module, "ESTIMATE_FROM", 0)
    repeat = LetterDoc(
        40, "我是石桥镇桃园村村民。村里修路征用了我家承包地，征地补偿款至今没有到位。"
    )
    filler = [LetterDoc(100 + k, f"第{k}封来信：反映村里道路问题。") for k in range(60)]
    with LetterIndex.open(url, engine="postgres") as ix:
        ix.add([*letters.values(), repeat, *filler])
        plain, schema = parse_location(url)
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'ANALYZE "{schema}"."{TABLE}"')
        n_docs, freqs = ix._engine.doc_freqs(["道路", "征地", "不存在"])  # type: ignore[attr-defined]
        assert n_docs == 68
        assert freqs[0] >= 21 and freqs[1:] == [2, 0]  # 道路: capped past the 30 % share
        assert [h.letter_id for h in ix.more_like_this(1).hits][0] == 40


def test_opening_to_search_does_not_wait_for_a_writer(url: str) -> None:
    """A reindex holds the writer lock batch after batch: readers must still open at once."""
    from search._postgres import LOCK_CLASS, TABLE_PREFIX

    with LetterIndex.open(url, engine="postgres") as ix:
        ix.add([LetterDoc(1, "拖欠工资")])
    plain, schema = parse_location(url)
    with psycopg.connect(plain) as holder:
        holder.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            (LOCK_CLASS, f"{schema}.{TABLE_PREFIX}"),
        )
        with LetterIndex.open(url, engine="postgres", lock_timeout=0.1) as reader:
            assert reader.search("拖欠工资").total == 1
            with pytest.raises(SearchError, match="正忙"):
                reader.add([LetterDoc(2, "第二封")])
        holder.rollback()


def test_joints_of_consecutive_tokens() -> None:
    from search._analysis import tokens
    from search._postgres import JOIN, joints

    assert {"拆迁安", "迁安置", "<拆" + JOIN + "迁安"} <= joints(tokens("拆迁安置"))
    assert not {j for j in joints(tokens("问题，都没有")) if "题" in j and "都" in j}
    assert "拖了" + JOIN + "<73" in joints(tokens("已经拖了73天"))  # Chinese, then a number


def test_the_loose_query_finds_what_the_plan_needs() -> None:
    from search._postgres import loose_query
    from search._query import make_filters, parse

    loose = loose_query(parse("拆迁安置 胡涛超 -征地"), make_filters(township="石桥镇"))
    assert "'拆迁安'" in loose and "'迁安置'" in loose and "<->" not in loose
    assert "'petitioner=胡涛超'" in loose  # a word may be a name instead of text
    assert "征地" not in loose  # an excluded word is checked on the positions only
    assert "'township=石桥镇'" in loose


def test_the_expected_share_takes_a_phrase_as_common_as_its_rarest_part() -> None:
    from search._postgres import expected_share
    from search._query import make_filters, parse

    common = {"拆迁": 0.2, "迁安": 0.15, "安置": 0.3, "拆迁安": 0.13, "迁安置": 0.12,
              "township=石桥镇": 0.05, "问题": 0.9}
    share = expected_share(parse("拆迁安置"), make_filters(), common)
    assert 0.12 <= share <= 0.2  # the planner's product of the bigrams would say 0.009
    assert expected_share(parse("拆迁安置"), make_filters(township="石桥镇"), common) == 0.05
    assert expected_share(parse("陈洋"), make_filters(), common) < 0.2
    assert expected_share(parse("拆迁安置 OR 问题"), make_filters(), common) == 1.0


def test_a_small_index_is_counted_once_per_search_and_exactly_each_time(url: str) -> None:
    """A tolerant search asked for the letter count about four times, each a round trip: now
    once per search (in one statement with the planner's estimate), still exact afterwards."""
    docs = [LetterDoc(k + 1, f"第{k}号：老板拖欠工资，村里征地补偿没有到位。") for k in range(6)]
    with LetterIndex.open(url, engine="postgres") as ix:
        ix.add(docs)
        engine = ix._engine
        asked: list[str] = []
        read = engine._read

        def counting(query: object, params: object = None) -> object:
            text = query.as_string(engine._conn)  # type: ignore[attr-defined]
            if "pg_class" in text or text.startswith("SELECT count(*) FROM"):
                asked.append(text)
            return read(query, params)

        engine._read = counting  # type: ignore[method-assign]
        found = ix.search("拖欠工贺 征地", tolerant=True, facets=True)
        assert found.total == 0 or found.tolerant_total > 0
        assert len(asked) == 1 and "reltuples" in asked[0] and "count(*)" in asked[0]
        ix.add([LetterDoc(7, "又一封：拖欠工资。")])
        asked.clear()
        assert ix.search("拖欠工资").total == 7 and len(asked) == 1
        assert engine.doc_freqs([])[0] == 7  # outside a search: counted again
