"""Analysis unit tests: cleaning OCR text, folding, bigrams and the tokens with their positions."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import clean_for_index
from search._analysis import bigrams, clean_with_map, fold, grams, index_text, segments, tokens


def token_list(text: str) -> list[tuple[str, int]]:
    """Tokens of raw text as the index sees them."""
    return list(tokens(index_text(text)))


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("ＩＤ：５１１５", "ID:5115"),  # full-width letters and colon
        ("胡涛\n超", "胡涛超"),  # a line break OCR put inside a name
        ("枣树 营村", "枣树营村"),  # a space inside a run of Chinese
        ("枣树\u3000营村", "枣树营村"),  # an ideographic space
        ("拖欠\r\n 工资", "拖欠工资"),
        ("138 1234 5678", "13812345678"),  # a phone written in groups
        ("138-1234-5678", "13812345678"),
        ("电话138－1234－5678。", "电话13812345678。"),  # full-width dashes
        ("5115 2119 9008 2263 80", "511521199008226380"),  # spaces inside a run of digits
        ("共计 117344 元", "共计117344元"),  # spaces between Chinese and digits
        ("hello world", "hello world"),  # Latin words stay apart
        ("2025-05-02", "2025-05-02"),  # a date is not a phone
        ("a\u200bb\x00c", "abc"),  # zero-width and control characters go
        ("我们。\n村里", "我们。 村里"),  # a break after punctuation stays a separator
    ],
)
def test_clean_for_index(raw: str, cleaned: str) -> None:
    assert clean_for_index(raw) == cleaned


def test_clean_map_points_back_to_original() -> None:
    raw = "电话：１３８-1234-5678，胡涛\n超"
    cleaned, origin = clean_with_map(raw)
    assert len(origin) == len(cleaned)
    start = cleaned.index("13812345678")
    assert raw[origin[start] : origin[start + 10] + 1] == "１３８-1234-5678"
    name = cleaned.index("胡涛超")
    assert raw[origin[name] : origin[name + 2] + 1] == "胡涛\n超"


def _one_character_at_a_time(text: str) -> tuple[str, list[int]]:
    """What cleaning is defined as, before the whitespace and phone rules: each character
    cleaned alone (a break a space, a control character nothing, else NFKC)."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch in "\n\r\t":
            out = " "
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            out = ""
        else:
            out = unicodedata.normalize("NFKC", ch)
        chars.extend(out)
        origin.extend([i] * len(out))
    return "".join(chars), origin


@given(st.text(alphabet=st.sampled_from(
    "胡涛超枣树营村 \n\t\r1234５６ＡＢab-—，。、：（）\u200b\u00ad\x00\ufeff\u2028\u3000\u00a0㈱①"
    "\U00020000\ud800"), max_size=40) | st.text(max_size=40))
@settings(max_examples=400, deadline=None)
def test_cleaning_maps_every_character_as_one_at_a_time(text: str) -> None:
    """Only the characters cleaning changes are looked at one by one (speed): same result."""
    cleaned, origin = clean_with_map(text)
    plain, plain_origin = _one_character_at_a_time(text)
    assert len(cleaned) == len(origin)
    assert all(0 <= o < len(text) for o in origin) and origin == sorted(origin)
    # the whitespace and phone rules only ever drop characters of the plain cleaning
    at = iter(enumerate(plain))
    for ch, o in zip(cleaned, origin, strict=True):
        assert any(c == ch and plain_origin[j] == o for j, c in at)


def test_fold_traditional_to_simplified_and_lowercase() -> None:
    assert fold("東壩鄉棗樹營村 拆遷補償") == "东坝乡枣树营村 拆迁补偿"
    assert fold("ABC李玉蘭") == "abc李玉兰"
    assert fold("拆迁补偿") == "拆迁补偿"  # simplified stays as it is
    text = "乾隆年間發髮"
    assert len(fold(text)) == len(text)  # one character for one: offsets stay valid


def test_bigrams() -> None:
    assert bigrams("枣树营村") == ["枣树", "树营", "营村"]
    assert bigrams("王伟") == ["王伟"]
    assert bigrams("王") == ["王"]
    assert grams("13812345678", 3)[:3] == ["138", "381", "812"]
    assert grams("55", 3) == ["55"]


def test_segments_split_at_separators_and_keep_adjacent_runs() -> None:
    segs = segments(fold("我家55亩承包地，abc-12"))
    assert [[r.text for r in s] for s in segs] == [["我家", "55", "亩承包地"], ["abc"], ["12"]]
    assert [[r.cjk for r in s] for s in segs][0] == [True, False, True]


def test_tokens_bigrams_with_positions_and_edges() -> None:
    toks = token_list("枣树营村")
    assert ("枣树", 1) in toks and ("树营", 2) in toks and ("营村", 3) in toks
    assert ("<枣", 1) in toks and ("村>", 3) in toks


def test_tokens_single_character_run_kept() -> None:
    toks = token_list("3号楼，乙")
    assert ("乙", 4) in toks  # a separator skips one position
    assert ("号楼", 2) in toks


def test_tokens_digits_and_latin_trigrams_lowercased() -> None:
    toks = token_list("ID51150219970109038X 电话13812345678")
    texts = {t for t, _ in toks}
    assert {"id5", "d51", "511", "38x"} <= texts  # an ID with its x, lowercased
    assert {"<1", "<13", "8>", "78>"} <= texts  # edges: begins with 1/13, ends with 8/78
    pos = {t: p for t, p in toks if t in ("138", "381", "678")}
    assert pos["381"] == pos["138"] + 1 and pos["678"] == pos["138"] + 8


def test_tokens_short_alnum_runs_kept() -> None:
    toks = token_list("3号楼55亩")
    assert ("3", 1) in toks and ("<3", 1) in toks and ("3>", 1) in toks
    assert ("55", 3) in toks and ("<55", 3) in toks and ("5>", 3) in toks
    assert ("<亩", 4) in toks and ("亩", 4) in toks


def test_tokens_traditional_text_indexed_as_simplified() -> None:
    toks = {t for t, _ in token_list("拆遷補償")}
    assert {"拆迁", "迁补", "补偿"} <= toks


def test_positions_make_phrases_consecutive() -> None:
    toks = token_list("征地补偿款")
    pos = {t: p for t, p in toks if len(t) == 2 and "<" not in t and ">" not in t}
    assert pos["地补"] == pos["征地"] + 1 and pos["补偿"] == pos["地补"] + 1


def _spaces_inside_runs_by_definition(joined: str) -> set[int]:
    """Every whitespace run, looked at one by one (what _inside_runs finds faster)."""
    from search._analysis import _is_alnum, is_cjk

    drop: set[int] = set()
    for m in re.finditer(r"\s+", joined):
        i, j = m.span()
        if i == 0 or j == len(joined):
            continue
        before, after = joined[i - 1], joined[j]
        if ((is_cjk(before) and (is_cjk(after) or _is_alnum(after)))
                or (is_cjk(after) and _is_alnum(before))
                or (before.isdigit() and after.isdigit())):
            drop.update(range(i, j))
    return drop


@given(st.text(alphabet=st.sampled_from(
    "胡涛超枣 \n\t\u3000\u00a012ab²٣_-，。〇\ufa6e\U0002a6e0Ωé"), max_size=40)
    | st.text(max_size=30))
@settings(max_examples=400, deadline=None)
def test_spaces_inside_runs_are_the_ones_the_definition_drops(text: str) -> None:
    from search._analysis import _inside_runs

    assert _inside_runs(text) == _spaces_inside_runs_by_definition(text)
