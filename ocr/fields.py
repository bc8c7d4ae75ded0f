"""Fields proposed from a letter's text (ID and phone numbers, the petitioner, the request).

Pure functions over text: the clerk confirms what they propose.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class LetterFields:
    """What the text says about who wrote and what they ask."""

    petitioner: str | None = None
    id_numbers: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    summary: str = ""
    names: tuple[str, ...] = field(default=())
    # 18 digits with a plausible birth date but a wrong check digit: a misread, or a miswritten ID.
    unverified_id_numbers: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, for storing beside the letter."""
        return {
            "petitioner": self.petitioner,
            "names": list(self.names),
            "id_numbers": list(self.id_numbers),
            "phones": list(self.phones),
            "summary": self.summary,
            "unverified_id_numbers": list(self.unverified_id_numbers),
        }


def valid_id_number(number: str) -> bool:
    """GB 11643 check digit of an 18-digit resident ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def extract_fields(text: str) -> LetterFields:
    """Propose fields from OCR text; only checksum-valid ID numbers are proposed."""
    folded = _WRAP.sub("", unicodedata.normalize("NFKC", text))
    digits = _SEPARATED_DIGITS.sub("", folded)
    candidates = _unique(m.group(1).upper() for m in _ID.finditer(digits))
    ids = [n for n in candidates if valid_id_number(n)]
    unverified = [n for n in candidates if n not in ids and _plausible_birth_date(n)]
    phones = _unique(
        [
            m.group(1)
            for m in _MOBILE.finditer(digits)
            if not _inside_any(m.group(1), ids + unverified)
        ]
        + [m.group(1) for m in _LANDLINE.finditer(folded)]
    )
    signed = [n for m in _SIGNATORIES.finditer(folded) for n in re.split(r"[、 ]+", m.group(1))]
    names = _unique(signed + [m.group(1) for m in _SELF.finditer(folded)])
    return LetterFields(
        petitioner=names[0] if names else None,
        id_numbers=tuple(ids),
        phones=tuple(phones),
        summary=_summary(_WRAP.sub("", text)),
        names=tuple(names),
        unverified_id_numbers=tuple(unverified),
    )


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
