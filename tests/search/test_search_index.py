"""The index as the rest of Huiyin uses it: filters, upsert, delete, clear, snippets, locks."""

from __future__ import annotations

import datetime
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import search
from search import Hit, LetterDoc, LetterIndex, QueryError, SearchError, SearchResult
from search._schema import SCHEMA_VERSION
from search._tantivy import DIR_NAME as TANTIVY_DIR

try:
    import psycopg
except ImportError:  # pragma: no cover - psycopg comes with the postgres engine
    psycopg = None

Find = Callable[..., set[int]]
Open = Callable[..., LetterIndex]
D = datetime.date


def test_exports() -> None:
    assert sorted(search.__all__) == sorted(
        [
            "CONTENT_VERSION",
            "Hit",
            "LetterDoc",
            "LetterIndex",
            "QueryError",
            "SearchError",
            "SearchResult",
            "Suggestion",
            "clean_for_index",
            "prepare_tolerance",
        ]
    )
    assert issubclass(QueryError, SearchError)


def test_result_shape(index: LetterIndex) -> None:
    result = index.search("胡涛超")
    assert isinstance(result, SearchResult)
    assert result.query == "胡涛超" and result.total == 1
    (hit,) = result.hits
    assert isinstance(hit, Hit) and hit.letter_id == 1 and hit.score > 0


# -- filters ---------------------------------------------------------------------------


def test_filter_township(find: Find) -> None:
    assert find("拖欠工资", township="城关镇") == {3}
    assert find("拖欠工资", township="石桥镇") == {7}
    assert find("拆迁补偿", township="东坝乡") == {5}  # stored as 東壩鄉: folded alike


def test_filter_category_and_status(find: Find) -> None:
    assert find("双井村", category="环境污染") == {2}
    assert find("双井村", status="办理中") == {3}
    assert find("双井村", status="不存在") == set()


def test_filter_date_range(find: Find) -> None:
    assert find("拆迁补偿", received_from=D(2024, 1, 1)) == {4}
    assert find("拆迁补偿", received_to=D(2023, 12, 31)) == {5}
    assert find("城关镇", received_from=D(2025, 1, 1), received_to=D(2025, 12, 31)) == {2}
    assert find("城关镇", received_from=D(2025, 3, 27), received_to=D(2025, 3, 27)) == {2}


def test_filter_case(find: Find) -> None:
    assert find("征地补偿", case_id=11) == {1}
    assert find("征地补偿", case_id=12) == set()


def test_empty_query_with_filter_lists_newest_first(index: LetterIndex) -> None:
    result = index.search("", township="龙华镇")
    assert [h.letter_id for h in result.hits] == [6, 4]
    assert result.total == 2


def test_bad_filters_are_query_errors(index: LetterIndex) -> None:
    with pytest.raises(QueryError, match="起始日期晚于截止日期"):
        index.search("城关镇", received_from=D(2025, 2, 1), received_to=D(2025, 1, 1))
    with pytest.raises(QueryError):
        index.search("城关镇", received_from="2025-01-01")  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        index.search("城关镇", limit=0)


def test_limit_and_total(index: LetterIndex) -> None:
    result = index.search("城关镇 OR 石桥镇", limit=2)
    assert len(result.hits) == 2 and result.total == 4


# -- writing ---------------------------------------------------------------------------


def test_upsert_replaces_not_duplicates(index: LetterIndex, find: Find) -> None:
    old = len(index.letter_ids())
    assert index.add([LetterDoc(2, "我叫陈生，反映宅基地纠纷。", petitioners=("陈生",))]) == 1
    assert len(index.letter_ids()) == old
    assert find("宅基地纠纷") == {2}
    assert find("夜间偷排废水") == set()  # the old text is gone
    assert index.search("陈生").total == 2


def test_same_letter_twice_in_one_add_keeps_the_last(tmp_path: Path, open_index: Open) -> None:
    with open_index(tmp_path / "ix") as ix:
        assert ix.add([LetterDoc(9, "第一稿"), LetterDoc(9, "第二稿")]) == 1
        assert {h.letter_id for h in ix.search("第二稿").hits} == {9}
        assert ix.search("第一稿", tolerant=False).total == 0
        # 一 and 二 look alike to the OCR: the tolerant search finds the letter, after saying so
        assert [h.match for h in ix.search("第一稿").hits] == ["shape"]
        assert ix.letter_ids() == {9}


def test_delete(index: LetterIndex, find: Find) -> None:
    assert index.delete([3, 3, 999]) == 1
    assert find("陈生") == {2}
    assert 3 not in index.letter_ids()
    assert index.delete([]) == 0
    assert index.delete([3]) == 0


def test_clear_and_letter_ids(index: LetterIndex, letters: dict[int, LetterDoc]) -> None:
    assert index.letter_ids() == set(letters)
    index.clear()
    assert index.letter_ids() == set()
    assert index.search("陈生").total == 0
    index.add([letters[1]])
    assert index.letter_ids() == {1}


def test_malformed_doc_is_a_search_error_and_saves_nothing(
    tmp_path: Path, open_index: Open
) -> None:
    with open_index(tmp_path / "ix") as ix:
        ix.add([LetterDoc(1, "第一封")])
        with pytest.raises(SearchError, match="letter_id"):
            ix.add([LetterDoc(2, "第二封"), LetterDoc("3", "第三封")])  # type: ignore[arg-type]
        assert ix.letter_ids() == {1}
        with pytest.raises(SearchError):
            ix.delete(["1"])  # type: ignore[list-item]


def test_open_creates_directory_and_reopens(tmp_path: Path, engine: str, open_index: Open) -> None:
    path = tmp_path / "a" / "b" / "index"
    with open_index(path) as ix:
        ix.add([LetterDoc(5, "枣树营村来信")])
        assert not ix.needs_reindex
    assert path.is_dir() or engine == "postgres"  # postgres: a schema, no folder
    with open_index(path) as ix:
        assert ix.letter_ids() == {5}


def test_closed_index_refuses_work(tmp_path: Path, open_index: Open) -> None:
    ix = open_index(tmp_path / "ix")
    ix.close()
    ix.close()  # closing twice is harmless
    with pytest.raises(SearchError):
        ix.search("陈生")


def pg_table(open_index: Open, path: Path, version: int = SCHEMA_VERSION) -> tuple[str, str]:
    """The postgres engine's URL and qualified table name standing for the folder ``path``."""
    from search._postgres import TABLE, TABLE_PREFIX, parse_location

    url, schema = parse_location(open_index.location(path))  # type: ignore[attr-defined]
    name = TABLE if version == SCHEMA_VERSION else f"{TABLE_PREFIX}{version}"
    return url, f'"{schema}"."{name}"'


def corrupt(path: Path, engine: str, open_index: Open) -> None:
    """Overwrite the engine's table of contents with garbage (postgres: the table)."""
    if engine == "postgres":
        url, table = pg_table(open_index, path)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE {table}")
            conn.execute(f"CREATE TABLE {table} (garbage text)")
    elif engine == "whoosh":
        for toc in path.glob("*.toc"):
            toc.write_bytes(b"garbage")
    else:
        (path / TANTIVY_DIR / "meta.json").write_bytes(b"garbage")


def test_create_discards_an_unreadable_index(
    tmp_path: Path, engine: str, open_index: Open, create_index: Open
) -> None:
    path = tmp_path / "ix"
    with open_index(path) as ix:
        ix.add([LetterDoc(1, "第一封")])
    corrupt(path, engine, open_index)
    with pytest.raises(SearchError, match="huiyin reindex"):
        open_index(path)
    with create_index(path) as ix:
        assert ix.letter_ids() == set()
        ix.add([LetterDoc(2, "第二封")])
    with open_index(path) as ix:
        assert ix.letter_ids() == {2}


def test_older_index_version_asks_for_reindex(
    tmp_path: Path, engine: str, open_index: Open, create_index: Open
) -> None:
    path = tmp_path / "ix"
    path.mkdir()
    old = path / ("_letters_v0_1.toc" if engine == "whoosh" else "tantivy_v0")
    if engine == "postgres":
        url, table = pg_table(open_index, path, version=0)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {table.split('.')[0]}")
            conn.execute(f"CREATE TABLE {table} (letter_id bigint)")
    elif engine == "whoosh":
        old.write_bytes(b"an index built by an older analysis")
    else:
        old.mkdir()
    with open_index(path) as ix:
        assert ix.needs_reindex
        assert ix.letter_ids() == set()
    with create_index(path) as ix:
        assert not ix.needs_reindex
    if engine == "postgres":
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,)
    assert not old.exists()


def test_unknown_engine_is_a_search_error(tmp_path: Path) -> None:
    with pytest.raises(SearchError, match="未知的搜索引擎"):
        LetterIndex.open(tmp_path / "ix", engine="lucene")  # type: ignore[arg-type]


def test_reader_sees_other_writers_commits(tmp_path: Path, open_index: Open) -> None:
    path = tmp_path / "ix"
    with open_index(path) as reader, open_index(path) as writer:
        assert reader.search("第一封", limit=5).total == 0
        writer.add([LetterDoc(1, "第一封")])
        assert reader.search("第一封", limit=5).total == 1


# -- snippets --------------------------------------------------------------------------


def test_snippet_marks_and_escapes(index: LetterIndex) -> None:
    (hit,) = index.search("张伟 拖欠工资").hits
    assert "<mark>拖欠工资</mark>" in hit.snippet
    bare = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare and "&lt;/script&gt;" in bare
    assert "张&amp;伟" in hit.snippet


def test_snippet_marks_text_as_written(index: LetterIndex) -> None:
    (hit,) = index.search("15174218096").hits
    assert "<mark>151-7421-8096</mark>" in hit.snippet
    (hit,) = index.search("李玉兰").hits
    assert "<mark>李玉蘭</mark>" in hit.snippet  # traditional as written
    hits = index.search("枣树营村", limit=5).hits
    snippets = {h.letter_id: h.snippet for h in hits}
    assert "<mark>枣树营村</mark>" in snippets[4]  # the line break a writer made is not shown
    assert "<mark>棗樹營村</mark>" in snippets[5]


def test_snippet_is_cut_around_the_match(tmp_path: Path, open_index: Open) -> None:
    filler = "村里的道路年久失修，雨天泥泞难行。" * 30
    text = filler + "我家的宅基地被邻居强占。" + filler
    with open_index(tmp_path / "ix") as ix:
        ix.add([LetterDoc(1, text)])
        (hit,) = ix.search("宅基地").hits
    plain = hit.snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<mark>宅基地</mark>" in hit.snippet
    assert 60 <= len(plain) <= 125
    assert plain.startswith("…") and plain.endswith("…")


# -- locks and failures ----------------------------------------------------------------


@contextmanager
def writer_lock_held(path: Path, engine: str, open_index: Open) -> Iterator[Callable[[], None]]:
    """Take the index's writer lock as another writer would; yield a function releasing it."""
    if engine == "postgres":
        from search._postgres import LOCK_CLASS, TABLE_PREFIX, parse_location

        url, schema = parse_location(open_index.location(path))  # type: ignore[attr-defined]
        conn = psycopg.connect(url)  # a transaction holding the advisory lock
        conn.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            (LOCK_CLASS, f"{schema}.{TABLE_PREFIX}"),
        )

        def release() -> None:
            if not conn.closed:
                conn.rollback()
                conn.close()
    elif engine == "whoosh":
        from whoosh.filedb.filestore import FileStorage

        from search._whoosh import INDEX_NAME

        lock = FileStorage(str(path)).lock(f"{INDEX_NAME}_WRITELOCK")
        assert lock.acquire()
        held: list[object] = [lock]

        def release() -> None:
            if held:
                lock.release()
                held.clear()
    else:
        import tantivy

        writers = [tantivy.Index.open(str(path / TANTIVY_DIR)).writer(15_000_000, 1)]

        def release() -> None:
            writers.clear()  # dropping the writer frees tantivy's lock

    try:
        yield release
    finally:
        release()


def test_second_writer_waits_then_succeeds(tmp_path: Path, engine: str, open_index: Open) -> None:
    path = tmp_path / "ix"
    with open_index(path, lock_timeout=20) as ix:
        ix.add([LetterDoc(1, "第一封")])  # the index exists before the race
        with writer_lock_held(path, engine, open_index) as release:
            timer = threading.Timer(0.5, release)
            timer.start()
            t0 = time.monotonic()
            assert ix.add([LetterDoc(2, "第二封")]) == 1  # waits for the lock, no LockError
            waited = time.monotonic() - t0
            timer.join()
        assert waited > 0.3
        assert ix.letter_ids() == {1, 2}


def test_busy_writer_times_out_with_a_clear_error(
    tmp_path: Path, engine: str, open_index: Open
) -> None:
    path = tmp_path / "ix"
    with open_index(path, lock_timeout=0.2) as ix:
        ix.add([LetterDoc(1, "第一封")])
        with (
            writer_lock_held(path, engine, open_index),
            pytest.raises(SearchError, match="正忙") as info,
        ):
            ix.add([LetterDoc(2, "第二封")])
        assert type(info.value) is SearchError
        assert ix.search("第一封").total == 1  # readers are never blocked
        assert ix.add([LetterDoc(2, "第二封")]) == 1  # free again afterwards


def test_failed_add_saves_nothing_and_releases_the_lock(tmp_path: Path, open_index: Open) -> None:
    path = tmp_path / "ix"

    def broken() -> Iterator[LetterDoc]:
        yield LetterDoc(2, "第二封，拖欠工资")
        yield LetterDoc(3, "第三封，拖欠工资")
        raise RuntimeError("database went away")

    with open_index(path, lock_timeout=0.5) as ix:
        ix.add([LetterDoc(1, "第一封，拖欠工资")])
        with pytest.raises(RuntimeError, match="database went away"):
            ix.add(broken())
        assert ix.letter_ids() == {1}
        assert {h.letter_id for h in ix.search("拖欠工资").hits} == {1}
        assert ix.add([LetterDoc(4, "第四封")]) == 1  # the lock was released
    with open_index(path) as again:
        assert again.letter_ids() == {1, 4}


def test_killed_writer_leaves_the_index_usable(
    tmp_path: Path, engine: str, open_index: Open
) -> None:
    path = tmp_path / "ix"
    with open_index(path) as ix:
        ix.add([LetterDoc(1, "第一封，拖欠工资")])
    if engine == "postgres":
        script = POSTGRES_KILLED_WRITER
        where = open_index.location(path)  # type: ignore[attr-defined]
    else:
        script = FILE_KILLED_WRITER.replace("ENGINE", engine).replace("CLASS", engine.capitalize())
        where = str(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, where], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
    finally:
        proc.kill()  # SIGKILL while holding the writer lock
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    with open_index(path, lock_timeout=5) as ix:
        assert ix.letter_ids() == {1}
        assert ix.add([LetterDoc(2, "第二封，拖欠工资")]) == 1
        assert {h.letter_id for h in ix.search("拖欠工资").hits} == {1, 2}


FILE_KILLED_WRITER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from search import LetterDoc\n"
    "from search._schema import to_record\n"
    "from search._ENGINE import CLASSEngine as Engine, _document\n"
    "engine = Engine(Path(sys.argv[1]), lock_timeout=5)\n"
    "with engine._writer() as writer:\n"
    "    for i in range(100, 150):\n"
    "        doc = _document(to_record(LetterDoc(i, '拖欠工资' * 50)))\n"
    "        add = writer.add_document\n"
    "        add(**doc) if isinstance(doc, dict) else add(doc)\n"
    "    print('writing', flush=True)\n"
    "    time.sleep(60)\n"
)
# postgres: rows written inside the writer's transaction, then SIGKILL before the commit.
POSTGRES_KILLED_WRITER = (
    "import sys, time\n"
    "from psycopg import sql\n"
    "from search import LetterDoc\n"
    "from search._schema import to_record\n"
    "from search._postgres import COLUMNS, PostgresEngine, _row\n"
    "engine = PostgresEngine(sys.argv[1], lock_timeout=5)\n"
    "cols = sql.SQL(', ').join(map(sql.Identifier, COLUMNS))\n"
    "with engine._writer() as conn:\n"
    "    with conn.cursor().copy(sql.SQL('COPY {} ({}) FROM STDIN').format(engine._table, cols))"
    " as copy:\n"
    "        for i in range(100, 150):\n"
    "            copy.write_row(_row(to_record(LetterDoc(i, '拖欠工资' * 50))))\n"
    "    print('writing', flush=True)\n"
    "    time.sleep(60)\n"
)


def test_searches_run_while_another_thread_writes(tmp_path: Path, open_index: Open) -> None:
    path = tmp_path / "ix"
    with open_index(path) as reader, open_index(path) as writer:
        writer.add([LetterDoc(0, "拖欠工资")])
        errors: list[BaseException] = []

        def write() -> None:
            try:
                for batch in range(10):
                    writer.add(LetterDoc(batch * 10 + k + 1, "拖欠工资问题") for k in range(10))
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        thread = threading.Thread(target=write)
        thread.start()
        seen = 0
        while thread.is_alive():
            result = reader.search("拖欠工资", limit=5)
            assert result.total >= seen  # never goes back
            seen = result.total
        thread.join()
        assert not errors
        assert reader.search("拖欠工资").total == 101


def test_odd_text_is_indexed_and_shown_safely(tmp_path: Path, open_index: Open) -> None:
    text = "开头\ud800中间\x00拖欠工资\u200b结尾" + "。" * 5000
    with open_index(tmp_path / "ix") as ix:
        ix.add([LetterDoc(1, text), LetterDoc(2, ""), LetterDoc(3, "   \n ")])
        (hit,) = ix.search("拖欠工资").hits
        assert "<mark>拖欠工资</mark>" in hit.snippet
        hit.snippet.encode("utf-8")  # no lone surrogate reaches a page
        assert ix.letter_ids() == {1, 2, 3}


def test_open_on_a_file_is_a_search_error(tmp_path: Path, engine: str, open_index: Open) -> None:
    path = tmp_path / "not-a-dir"
    path.write_text("x", encoding="utf-8")
    if engine == "postgres":  # the postgres counterpart: a server that is not there
        with pytest.raises(SearchError, match="无法打开"):
            LetterIndex.open(f"postgresql://nobody@/x?host={tmp_path}&port=9", engine="postgres")
        with pytest.raises(SearchError, match="数据库地址"):
            LetterIndex.open(path, engine="postgres")
        with pytest.raises(SearchError, match="文件夹"):
            LetterIndex.open("postgresql://nobody@/x", engine="tantivy")
        return
    with pytest.raises(SearchError, match="无法打开"):
        open_index(path)


def test_phrase_positions_must_be_consecutive(tmp_path: Path, open_index: Open) -> None:
    with open_index(tmp_path / "ix") as ix:
        ix.add(
            [
                LetterDoc(1, "征地地补偿"),  # 征地 地补 补偿 all occur, not in a row
                LetterDoc(2, "补偿征地，地补"),
                LetterDoc(3, "征地补偿款"),
                LetterDoc(4, "营村枣树"),
            ]
        )
        assert {h.letter_id for h in ix.search("征地补偿").hits} == {3}
        assert ix.search("枣树营村").total == 0


def test_snippet_prefers_a_window_with_every_word(tmp_path: Path, open_index: Open) -> None:
    filler = "村里的道路年久失修，雨天泥泞难行。" * 10
    text = "王伟来信。" + filler + "王伟反映拖欠工资问题。" + filler
    with open_index(tmp_path / "ix") as ix:
        ix.add([LetterDoc(1, text)])
        (hit,) = ix.search("王伟 拖欠工资").hits
    assert "<mark>王伟</mark>反映<mark>拖欠工资</mark>" in hit.snippet
