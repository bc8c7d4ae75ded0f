"""What the index holds for one letter, independent of the engine that holds it.

An engine module turns a :class:`Record` into its own document and its own schema; the field
names and the normalisation live here so that a second engine indexes exactly the same thing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from search._analysis import index_text, normalize_key, normalize_number, tokens
from search._tolerance import alternative_tokens
from search._types import LetterDoc, SearchError

SCHEMA_VERSION = 2  # bump when analysis or fields change: the index must then be rebuilt
# What the index holds of a letter, where the schema stays: 1 its text and fields; 2 also the
# OCR's alternatives (LetterDoc.alternatives). An index records the version its letters were
# written with; the letters of an older one are added again, in place (LetterIndex.content_version).
CONTENT_VERSION = 2
UNMARKED_CONTENT = 1  # the version of an index written before the version was recorded

LETTER_ID = "letter_id"  # unique key, stored
CONTENT = "content"  # cleaned + folded text, bigram tokens with positions (not stored)
TEXT = "text"  # the text as written, stored for snippets
PETITIONER = "petitioner"  # exact names, ranked first
ID_NUMBER = "id_number"  # exact ID numbers (lowercase x)
PHONE = "phone"  # exact phone numbers, digits only
REG_NO = "reg_no"
TOWNSHIP = "township"
VILLAGE = "village"
CATEGORY = "category"
STATUS = "status"
RECEIVED = "received"  # date as a proleptic ordinal (date.toordinal()), for ranges and sorting
CASE_ID = "case_id"
UNIT = "unit"  # 承办单位 of the letter's case

KEY_FIELDS = (PETITIONER, REG_NO, TOWNSHIP, VILLAGE, CATEGORY, STATUS, UNIT)
NUMBER_FIELDS = (ID_NUMBER, PHONE)
EXACT_FIELDS = KEY_FIELDS + NUMBER_FIELDS
# Exact fields a query word is also looked up in (category and status are filters only).
WORD_KEY_FIELDS = (PETITIONER, REG_NO, TOWNSHIP, VILLAGE)
# Single-valued exact fields whose values can be counted over a result (facets).
FACET_FIELDS = (TOWNSHIP, CATEGORY, STATUS, UNIT)
# Exact fields stored with the letter: more-like-this uses them to find the same person.
PERSON_FIELDS = (PETITIONER, ID_NUMBER, PHONE)


@dataclass(frozen=True)
class Record:
    """One letter ready for an engine: analysed content, shown text, exact keys, numbers."""

    letter_id: int
    content: str
    text: str
    exact: dict[str, tuple[str, ...]]
    received: int | None
    case_id: int | None
    # OCR alternatives as marked bigrams at the positions of the bigrams they replace
    alternatives: tuple[tuple[str, int], ...] = ()


def record_tokens(record: Record) -> list[tuple[str, int]]:
    """Every (token, position) of a record's content: the text's, then its OCR alternatives'."""
    return [*tokens(record.content), *record.alternatives]


def _alternatives(doc: LetterDoc) -> tuple[tuple[str, int], ...]:
    """Check the OCR's per-character alternatives and turn them into marked bigrams."""
    pairs = doc.alternatives
    if not isinstance(pairs, tuple | list):
        raise SearchError(f"来信 {doc.letter_id}：alternatives 必须是（位置, 字）的列表。")
    for pair in pairs:
        if (
            not isinstance(pair, tuple | list)
            or len(pair) != 2
            or isinstance(pair[0], bool)
            or not isinstance(pair[0], int)
            or not isinstance(pair[1], str)
        ):
            raise SearchError(f"来信 {doc.letter_id}：alternatives 的每一项必须是（位置, 字）。")
    return tuple(alternative_tokens(doc.text, [(int(i), c) for i, c in pairs]))


def _keys(values: tuple[str, ...] | str, normalize: Callable[[str], str]) -> tuple[str, ...]:
    """Normalise one or several values for an exact field, without blanks or repeats."""
    items = (values,) if isinstance(values, str) else tuple(values)
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise SearchError(f"姓名、号码、地名等字段必须是文字，而不是 {type(item).__name__}。")
        key = normalize(item)
        if key and key not in out:
            out.append(key)
    return tuple(out)


def to_record(doc: LetterDoc) -> Record:
    """Validate a LetterDoc and normalise it for indexing (raises SearchError when malformed)."""
    if not isinstance(doc, LetterDoc):
        raise SearchError(f"索引只接受 LetterDoc，而不是 {type(doc).__name__}。")
    if isinstance(doc.letter_id, bool) or not isinstance(doc.letter_id, int):
        raise SearchError(f"来信编号 letter_id 必须是整数，而不是 {doc.letter_id!r}。")
    if not isinstance(doc.text, str):
        raise SearchError(f"来信 {doc.letter_id}：正文必须是文字。")
    exact = {
        PETITIONER: _keys(doc.petitioners, normalize_key),
        ID_NUMBER: _keys(doc.id_numbers, normalize_number),
        PHONE: _keys(doc.phones, normalize_number),
        REG_NO: _keys(doc.reg_no, normalize_key),
        TOWNSHIP: _keys(doc.township, normalize_key),
        VILLAGE: _keys(doc.village, normalize_key),
        CATEGORY: _keys(doc.category, normalize_key),
        STATUS: _keys(doc.status, normalize_key),
        UNIT: _keys(doc.unit, normalize_key),
    }
    return Record(
        letter_id=doc.letter_id,
        content=index_text(doc.text),
        text=doc.text,
        exact=exact,
        received=doc.received.toordinal() if doc.received is not None else None,
        case_id=doc.case_id,
        alternatives=_alternatives(doc),
    )
