"""Fields proposed from a letter's text, each with where it was written.

ID numbers (check digit validated), mobile and landline numbers, dates, amounts, the name
signed at the end (落款), the petitioner, the request, and townships and villages from the
office's gazetteer. Pure functions over text: the clerk confirms what they propose.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID = re.compile(r"(?<![0-9])([1-9][0-9]{16}[0-9Xx])(?![0-9Xx])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9]{9})(?![0-9])")
_LANDLINE = re.compile(r"(?<![0-9])(0[1-9][0-9]{1,2}-[1-9][0-9]{6,7})(?![0-9])")
_SEPARATED_DIGITS = re.compile(r"(?<=[0-9])[ \-\r\n]+(?=[0-9])")
# A line break that does not end a sentence is where the writer ran out of paper.
_WRAP = re.compile(r"(?<=[^。！？!?：:\s])[ \t]*\r?\n(?=\S)")
_NAME = "([\u4e00-\u9fff]{2,4}?)"
_SIGNATORIES = re.compile(
    r"(?:信访人|反映人|来信人|具名人|代表人|联名人)[:：\s]*"
    r"((?:[\u4e00-\u9fff]{2,4}?[、 ]+)*[\u4e00-\u9fff]{2,4}?)(?=[\s,，。0-9（(等]|$)",
    re.M,
)
_SELF = re.compile(r"(?:我叫|我是|本人)" + _NAME + r"(?=[,，。、；]|$)", re.M)
_REQUEST = re.compile(r"[^。！？\n]*(?:请求|恳请|要求|希望)[^。！？\n]*[。！？]?")


_DATE_YMD = re.compile(
    r"(?<![0-9])((?:19|20)[0-9]{2})\s*(?:年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]?"
    r"|[./\-]\s*([0-9]{1,2})\s*[./\-]\s*([0-9]{1,2}))(?![0-9])"
)
_CN_VALUE = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}
_CN_NUMBER = "[〇零一二三四五六七八九十]"
_DATE_CN = re.compile(
    rf"(?:([〇零一二三四五六七八九]{{4}})年)?(十[一二]?|[一二三四五六七八九])月"
    rf"({_CN_NUMBER}{{1,3}})[日号]"
)
_AMOUNT = re.compile(
    r"(?:(?:人民币|¥|￥)\s*)?(?<![0-9.])([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?"
    r"\s*(万元|万|元|块)"
)
_SIGN_PREFIX = re.compile(r"^(?:信访人|反映人|来信人|具名人|代表人|联名人|签名|落款)?[:：\s]*")
_SIGN_NAME = re.compile(r"^([\u4e00-\u9fff]{2,4})(?:[（(][^）)]*[）)])?[\s.。]*$")
_NOT_A_NAME = {"此致", "敬礼", "谢谢", "您好", "领导", "附件", "特此", "恳请", "万分感谢", "信访人"}
SUFFIXES = ("街道", "社区", "镇", "乡", "村")


@dataclass(frozen=True)
class Found:
    """One field found in the text: its kind, value as stored, and where it was written."""

    kind: str  # id_number, unverified_id_number, phone, date, amount, signature, township, village
    value: str
    start: int  # offsets into the text as given (after any line wrap), end exclusive
    end: int

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {"kind": self.kind, "value": self.value, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Gazetteer:
    """The office's own table of townships and villages (it edits it; we only read it)."""

    townships: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()

    @classmethod
    def from_csv(cls, path: Path) -> Gazetteer:
        """A CSV with columns ``township`` and ``village`` (either may be empty on a row)."""
        townships: dict[str, None] = {}
        villages: dict[str, None] = {}
        with Path(path).open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                if (row.get("township") or "").strip():
                    townships.setdefault(row["township"].strip(), None)
                if (row.get("village") or "").strip():
                    villages.setdefault(row["village"].strip(), None)
        return cls(tuple(townships), tuple(villages))


@dataclass(frozen=True)
class LetterFields:
    """What the text says about who wrote, from where, what they ask, and where it says so."""

    petitioner: str | None = None
    id_numbers: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    summary: str = ""
    names: tuple[str, ...] = field(default=())
    # 18 digits with a plausible birth date but a wrong check digit: a misread, or a miswritten ID.
    unverified_id_numbers: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()  # ISO, "--MM-DD" when the year is not written
    amounts: tuple[str, ...] = ()  # yuan, as a decimal string
    signature: str | None = None  # the name signed at the end of the letter (落款)
    townships: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    found: tuple[Found, ...] = ()  # every field above with its position in the text

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, for storing beside the letter."""
        return {
            "petitioner": self.petitioner,
            "names": list(self.names),
            "id_numbers": list(self.id_numbers),
            "phones": list(self.phones),
            "summary": self.summary,
            "unverified_id_numbers": list(self.unverified_id_numbers),
            "dates": list(self.dates),
            "amounts": list(self.amounts),
            "signature": self.signature,
            "townships": list(self.townships),
            "villages": list(self.villages),
            "found": [f.as_dict() for f in self.found],
        }


class _Mapped:
    """A folded copy of the text that remembers where each of its characters came from."""

    def __init__(self, text: str) -> None:
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            for out in unicodedata.normalize("NFKC", ch):
                chars.append(out)
                origin.append(i)
        self.text = "".join(chars)
        self.origin = origin
        self.length = len(text)

    def without(self, pattern: re.Pattern[str]) -> _Mapped:
        """A copy with every match of ``pattern`` deleted, positions still mapped."""
        keep = [True] * len(self.text)
        for m in pattern.finditer(self.text):
            for i in range(m.start(), m.end()):
                keep[i] = False
        copy = _Mapped("")
        copy.text = "".join(c for c, k in zip(self.text, keep, strict=True) if k)
        copy.origin = [o for o, k in zip(self.origin, keep, strict=True) if k]
        copy.length = self.length
        return copy

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original text of this copy's ``[start, end)``."""
        if start >= end or not self.origin:
            return (0, 0)
        return self.origin[start], self.origin[end - 1] + 1


def valid_id_number(number: str) -> bool:
    """GB 11643 check digit of an 18-digit resident ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def extract_fields(text: str, *, gazetteer: Gazetteer | None = None) -> LetterFields:
    """Propose fields from OCR text; only checksum-valid ID numbers are proposed as IDs."""
    mapped = _Mapped(text)
    folded_map = mapped.without(_WRAP)
    digits_map = folded_map.without(_SEPARATED_DIGITS)
    folded, digits = folded_map.text, digits_map.text
    found: list[Found] = []

    def add(kind: str, value: str, where: _Mapped, start: int, end: int) -> None:
        found.append(Found(kind, value, *where.span(start, end)))

    ids: list[str] = []
    unverified: list[str] = []
    for m in _ID.finditer(digits):
        number = m.group(1).upper()
        if valid_id_number(number):
            ids.append(number)
            add("id_number", number, digits_map, *m.span(1))
        elif _plausible_birth_date(number):
            unverified.append(number)
            add("unverified_id_number", number, digits_map, *m.span(1))
    phones: list[str] = []
    for m in _MOBILE.finditer(digits):
        if not _inside_any(m.group(1), ids + unverified):
            phones.append(m.group(1))
            add("phone", m.group(1), digits_map, *m.span(1))
    for m in _LANDLINE.finditer(folded):
        phones.append(m.group(1))
        add("phone", m.group(1), folded_map, *m.span(1))
    signed = [n for m in _SIGNATORIES.finditer(folded) for n in re.split(r"[、 ]+", m.group(1))]
    names = _unique(signed + [m.group(1) for m in _SELF.finditer(folded)])
    dates = _dates(folded_map, add)
    amounts = _amounts(folded_map, add)
    signature = _signature(mapped, add)
    townships, villages = _places(folded_map, gazetteer, add) if gazetteer else ([], [])
    return LetterFields(
        petitioner=names[0] if names else signature,
        id_numbers=tuple(_unique(ids)),
        phones=tuple(_unique(phones)),
        summary=_summary(_WRAP.sub("", text)),
        names=tuple(names),
        unverified_id_numbers=tuple(_unique(unverified)),
        dates=tuple(_unique(dates)),
        amounts=tuple(_unique(amounts)),
        signature=signature,
        townships=tuple(_unique(townships)),
        villages=tuple(_unique(villages)),
        found=tuple(sorted(found, key=lambda f: (f.start, f.kind))),
    )


def _cn_number(text: str) -> int:
    """十二 -> 12, 二十五 -> 25, 三十一 -> 31, 五 -> 5."""
    if "十" not in text:
        return int("".join(str(_CN_VALUE[c]) for c in text))
    tens, _, ones = text.partition("十")
    return (_CN_VALUE[tens] if tens else 1) * 10 + (_CN_VALUE[ones] if ones else 0)


def _iso(year: int | None, month: int, day: int) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def _dates(where: _Mapped, add: Any) -> list[str]:
    dates = []
    for m in _DATE_YMD.finditer(where.text):
        month, day = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
        value = _iso(int(m.group(1)), int(month), int(day))
        if value:
            dates.append(value)
            add("date", value, where, *m.span())
    for m in _DATE_CN.finditer(where.text):
        year = _cn_number(m.group(1)) if m.group(1) else None
        try:
            value = _iso(year, _cn_number(m.group(2)), _cn_number(m.group(3)))
        except (KeyError, ValueError):
            value = None
        if value:
            dates.append(value)
            add("date", value, where, *m.span())
    return dates


def _amounts(where: _Mapped, add: Any) -> list[str]:
    amounts = []
    for m in _AMOUNT.finditer(where.text):
        whole = m.group(1).replace(",", "")
        value = Decimal(whole + (m.group(2) or ""))
        if m.group(3).startswith("万"):
            value *= 10000
        text = format(value.normalize(), "f")
        amounts.append(text)
        add("amount", text, where, *m.span())
    return amounts


def _signature(where: _Mapped, add: Any) -> str | None:
    """The name on one of the last lines, above or below the date (落款)."""
    lines = where.text.split("\n")
    offset = len(where.text)
    checked = 0
    for line in reversed(lines):
        offset -= len(line) + 1
        stripped = line.strip()
        if not stripped:
            continue
        checked += 1
        if checked > 4:
            break
        dated = _DATE_YMD.search(stripped) or _DATE_CN.search(stripped)
        if dated and not stripped[: dated.start()].strip():
            continue  # the date line
        if dated and not stripped[dated.end() :].strip("。. "):
            stripped = stripped[: dated.start()].strip()  # name and date on one line
        rest = _SIGN_PREFIX.sub("", stripped)
        m = _SIGN_NAME.match(rest)
        if m and m.group(1) not in _NOT_A_NAME and not m.group(1).endswith(SUFFIXES):
            start = offset + 1 + line.index(rest) + m.start(1)
            add("signature", m.group(1), where, start, start + len(m.group(1)))
            return m.group(1)
        if stripped in _NOT_A_NAME or stripped.rstrip("！!") in _NOT_A_NAME:
            continue
        break
    return None


def _places(where: _Mapped, gazetteer: Gazetteer, add: Any) -> tuple[list[str], list[str]]:
    """Townships and villages of the gazetteer named in the text, longest names first."""
    taken = [False] * len(where.text)
    found: dict[str, list[str]] = {"township": [], "village": []}
    names = [(n, "township") for n in gazetteer.townships] + [
        (n, "village") for n in gazetteer.villages
    ]
    variants = []
    for name, kind in names:
        variants.append((name, name, kind))
        base = name
        for suffix in SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 3:
                base = name[: -len(suffix)]
        if base != name:
            variants.append((base, name, kind))
    for written, name, kind in sorted(variants, key=lambda v: -len(v[0])):
        for m in re.finditer(re.escape(written), where.text):
            if any(taken[m.start() : m.end()]):
                continue
            taken[m.start() : m.end()] = [True] * (m.end() - m.start())
            found[kind].append(name)
            add(kind, name, where, *m.span())
    return found["township"], found["village"]


def _plausible_birth_date(number: str) -> bool:
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    return 1900 <= year <= 2030 and 1 <= month <= 12 and 1 <= day <= 31


def _summary(text: str) -> str:
    match = _REQUEST.search(text)
    sentence = match.group(0) if match else ""
    return re.sub(r"\s+", "", sentence).strip("，,")[:120]


def _inside_any(piece: str, numbers: list[str]) -> bool:
    return any(piece in number for number in numbers)


def _unique(items: object) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:  # type: ignore[attr-defined]
        seen.setdefault(item, None)
    return list(seen)


def score_fields(labelled: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Precision and recall per field on labelled letters.

    ``labelled`` is ``{"gazetteer": {"townships": [...], "villages": [...]}, "letters":
    [{"text": ..., "fields": {kind: [values] or value or null}}]}`` (the format of
    tests/ocr/data/letters_fields.json); kinds are keys of :meth:`LetterFields.as_dict`.
    """
    places = labelled.get("gazetteer") or {}
    gazetteer = Gazetteer(tuple(places.get("townships", ())), tuple(places.get("villages", ())))
    counts: dict[str, list[int]] = {}
    for letter in labelled["letters"]:
        got = extract_fields(letter["text"], gazetteer=gazetteer).as_dict()
        for kind, expected in letter["fields"].items():
            want = _as_set(expected)
            have = _as_set(got[kind])
            c = counts.setdefault(kind, [0, 0, 0])  # true positives, proposed, expected
            c[0] += len(want & have)
            c[1] += len(have)
            c[2] += len(want)
    return {
        kind: {
            "precision": round(tp / proposed, 4) if proposed else 1.0,
            "recall": round(tp / expected, 4) if expected else 1.0,
            "expected": expected,
        }
        for kind, (tp, proposed, expected) in sorted(counts.items())
    }


def _as_set(value: object) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, list | tuple):
        return {str(v) for v in value}
    return {str(value)}
