"""Pure helpers that turn plain values into the wording of an official document."""

from __future__ import annotations

import re
from datetime import date

# XML 1.0 forbids most C0 controls, lone surrogates and U+FFFE/U+FFFF; docxtpl also gives \a
# and \f a meaning of its own (new paragraph, page break), so they must not reach it from data.
# The noncharacters U+FDD0..U+FDEF are never text: the renderer uses one as a guard mark.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
_SENTENCE_END = "。！？!?…"
_TRAILING_PUNCT = "。．.，,；;：:、 \t\r\n\u3000"


def cn_date(value: date) -> str:
    """Write a date as GB/T 9704-2012 wants it, in Arabic numerals: 2026年11月24日."""
    if not isinstance(value, date):
        raise TypeError(f"expected a datetime.date, got {type(value).__name__} {value!r}")
    return f"{value.year}年{value.month}月{value.day}日"


def sentence(value: str) -> str:
    """End a clause with one full stop, so a summary reads right whatever it ended with."""
    text = str(value).rstrip(_TRAILING_PUNCT).strip()
    if not text:
        return ""
    return text if text.endswith(tuple(_SENTENCE_END)) else text + "。"


def xml_safe(text: str) -> str:
    """Make user text storable in a .docx: one kind of newline, no characters XML cannot hold."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_XML.sub("", text)


# U+2060 WORD JOINER: no line break at this point, nothing printed. LibreOffice breaks a line
# after a hyphen ("2026-" / "000008"): measured on the PDF; U+2011 did not stop it.
WORD_JOINER = "\u2060"
# A hyphen, dash or slash between letters or digits: inside a number, a phone or a case number.
_INSIDE_NUMBER = re.compile(r"(?<=[0-9A-Za-z])([-\u2010\u2011\u2013/])(?=[0-9A-Za-z])")


def numbers_kept_whole(text: str) -> str:
    """Forbid line breaks at the hyphens inside numbers (0319-8123456), nowhere else.

    LibreOffice ignores a word joiner between two Chinese characters, so a document number's
    prefix (清住建信复) may still part from its 〔2026〕17号, as two words would.
    """
    return _INSIDE_NUMBER.sub(WORD_JOINER + r"\1" + WORD_JOINER, text)
