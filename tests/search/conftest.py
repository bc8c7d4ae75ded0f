"""Fixtures for the search tests: a small corpus written the way OCR delivers it, indexed
for real by each engine in turn (tantivy and whoosh in tmp_path; postgres in a schema of its own
on the session's private PostgreSQL server, skipped when PostgreSQL is absent; no mocks)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search import LetterDoc, LetterIndex
from tests.pg import new_schema_url, pg_url

__all__ = ["pg_url"]  # the session's PostgreSQL server, a fixture for every search test

D = datetime.date

# letter_id -> LetterDoc; texts carry the noise the analysis must see through.
LETTERS: dict[int, LetterDoc] = {
    d.letter_id: d
    for d in [
        LetterDoc(
            1,
            "尊敬的领导：\n我叫胡涛超，是石桥镇桃园村的村民，身份证号511521199008226380，"
            "联系电话151-7421-8096。\n村里修路征用了我家3亩承包地，约定的征地补偿款875102元"
            "至今没有到位。\n信访人：胡涛超  2025年5月2日",
            reg_no="2025-000001",
            petitioners=("胡涛超",),
            id_numbers=("511521199008226380",),
            phones=("15174218096",),
            township="石桥镇",
            village="桃园村",
            category="征地补偿",
            status="办理中",
            received=D(2025, 5, 2),
            case_id=11,
        ),
        LetterDoc(
            2,
            "我叫陈生，城关镇双井村人。永安物业服务公司夜间偷排废水，河水发黑发臭。\n"
            "电话：138 1234 5678",
            petitioners=("陈生",),
            township="城关镇",
            village="双井村",
            category="环境污染",
            status="已办结",
            received=D(2025, 3, 27),
        ),
        LetterDoc(
            3,
            "反映人陈生华，城关镇双井村。陈生华的儿子在工地干活，老板拖欠 工资 共计117344元，"
            "多次讨要未果。",
            petitioners=("陈生华",),
            township="城关镇",
            village="双井村",
            category="拖欠工资",
            status="办理中",
            received=D(2024, 11, 14),
        ),
        LetterDoc(
            4,
            "我是龙华镇枣树\n营村的王建国，身份证号51150219970109038X，电话１３９０１２３４５６７。"
            "我家房屋被列入拆迁范围，拆迁补偿没有公示。",
            petitioners=("王建国",),
            id_numbers=("51150219970109038x",),
            township="龙华镇",
            village="枣树营村",
            category="拆迁安置",
            status="登记",
            received=D(2024, 1, 5),
        ),
        LetterDoc(
            5,
            "東壩鄉棗樹營村村民李玉蘭反映：拆遷補償款被村幹部截留，至今未發放。",
            petitioners=("李玉蘭",),
            township="東壩鄉",
            village="棗樹營村",
            category="拆迁安置",
            status="登记",
            received=D(2023, 12, 30),
        ),
        LetterDoc(
            6,
            "枣树村的赵营反映：拆迁，补偿标准太低；另有营村道路损坏。建国路小区3号楼楼顶漏水。",
            petitioners=("赵营",),
            township="龙华镇",
            village="枣树村",
            category="物业维修",
            status="登记",
            received=D(2025, 6, 1),
        ),
        LetterDoc(
            7,
            "<script>alert('x')</script> 我叫张&伟，反映拖欠工资问题。"
            "小区173号楼楼顶漏水 & 无人管。",
            petitioners=("张伟",),
            township="石桥镇",
            category="拖欠工资",
            status="登记",
            received=D(2025, 6, 2),
        ),
    ]
}

Find = Callable[..., set[int]]
Open = Callable[..., LetterIndex]
ENGINES = ("tantivy", "whoosh", "postgres")


@pytest.fixture
def letters() -> dict[int, LetterDoc]:
    """The small corpus, by letter id."""
    return dict(LETTERS)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Each search engine in turn: the same tests hold for both."""
    return str(request.param)


class SchemaPerPath:
    """Opens the postgres engine where a file engine would open a folder: each folder path
    a test names becomes a schema of its own in the test database (the same path, the same
    schema), so the engine-parametrised tests run unchanged."""

    def __init__(self, url: str, method: Open) -> None:
        self.url, self.method = url, method
        self.schemas: dict[str, str] = {}

    def location(self, path: Path | str) -> str:
        """The URL standing for ``path``."""
        key = str(path)
        if key not in self.schemas:
            self.schemas[key] = new_schema_url(self.url)
        return self.schemas[key]

    def __call__(self, path: Path | str, **kwargs: object) -> LetterIndex:
        return self.method(self.location(path), engine="postgres", **kwargs)


@pytest.fixture
def schemas(engine: str, request: pytest.FixtureRequest) -> SchemaPerPath | None:
    """For postgres: the folder -> schema URL map shared by open_index and create_index."""
    if engine != "postgres":
        return None
    return SchemaPerPath(request.getfixturevalue("pg_url"), LetterIndex.open)


@pytest.fixture
def open_index(engine: str, schemas: SchemaPerPath | None) -> Open:
    """LetterIndex.open with the engine under test."""
    if schemas is not None:
        return schemas
    return functools.partial(LetterIndex.open, engine=engine)


@pytest.fixture
def create_index(engine: str, schemas: SchemaPerPath | None) -> Open:
    """LetterIndex.create with the engine under test (the same locations as open_index)."""
    if schemas is not None:
        created = SchemaPerPath(schemas.url, LetterIndex.create)
        created.schemas = schemas.schemas
        return created
    return functools.partial(LetterIndex.create, engine=engine)


@pytest.fixture
def index(tmp_path: Path, open_index: Open) -> Iterator[LetterIndex]:
    """A real index (each engine in turn) in a temporary directory holding the small corpus."""
    with open_index(tmp_path / "index") as ix:
        ix.add(LETTERS.values())
        yield ix


@pytest.fixture
def find(index: LetterIndex) -> Find:
    """Search the corpus index; return every letter id found (checking total == hits)."""

    def run(query: str, **kwargs: object) -> set[int]:
        result = index.search(query, limit=1000, **kwargs)  # type: ignore[arg-type]
        assert result.total == len(result.hits)
        return {h.letter_id for h in result.hits}

    return run
