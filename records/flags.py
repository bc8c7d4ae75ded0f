"""Flags proposed from a letter: 越级 (addressed above the county) and 集体 (five or more people).

Pure: text and the number of confirmed petitioners in, proposals with their reasons out. The
rates count the flags, so a clerk sees each reason and can remove a flag that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COLLECTIVE_SIZE = 5  # 集体访: five or more people, or a group speaking as one

# An addressee above the county: the salutation (first lines, up to the first colon) names it.
_HIGHER = re.compile(
    r"(国家信访局|国务院|党中央|中共中央|中央\S{0,6}(?:领导|办公厅|信访)|全国人大"
    r"|[\u4e00-\u9fff]{0,4}省(?:委|政府|人民政府|信访局|信访办|人大|纪委|长|领导)"
    r"|[\u4e00-\u9fff]{0,4}市(?:委|政府|人民政府|信访局|信访办|人大|纪委|长|领导))"
)
_SALUTATION_CHARS = 60
_COURTESY = re.compile(r"^(?:尊敬的|敬爱的|致|呈)\s*")
# A group named as the writer: 全体村民, 众业主, 村民代表, or "23户村民" / "十二名职工".
_GROUP_WORDS = "村民|群众|业主|居民|职工|工人|农民工|农户|住户|家属|社员|老师|教师|退休人员"
_STATED_GROUP = re.compile(rf"(全体|全村|众)(?:{_GROUP_WORDS})|(?:{_GROUP_WORDS})代表")
_COUNTED_GROUP = re.compile(
    rf"([0-9０-９]+|[一二两三四五六七八九十百千]+)\s*(?:名|位|户|个|家)(?:{_GROUP_WORDS})"
)
_SIGNATURE = re.compile(
    r"(?:联名人|信访人|签名|署名|反映人)[（(]?[^：:\n]{0,6}[)）]?[：:]\s*([^\n]+)"
)
_NAME_SEPARATORS = re.compile(r"[、，,；;\s]+")
_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}


@dataclass(frozen=True)
class FlagProposal:
    """A flag the letter suggests, and the words that suggest it."""

    flag: str
    reason: str


def propose_flags(text: str, petitioners: int = 0) -> list[FlagProposal]:
    """越级 and 集体 as the letter's text and its confirmed petitioners suggest them."""
    proposals = []
    head = text.strip()[:_SALUTATION_CHARS].split("：", 1)[0].split(":", 1)[0]
    head = _COURTESY.sub("", head)
    higher = _HIGHER.search(head)
    if higher:
        proposals.append(FlagProposal("越级", f"写给上级机关：{higher.group(0)}"))
    collective = _collective_reason(text, petitioners)
    if collective:
        proposals.append(FlagProposal("集体", collective))
    return proposals


def signatories(text: str) -> int:
    """The most names listed on one signature line (信访人：甲、乙、丙)."""
    counts = [len([n for n in _NAME_SEPARATORS.split(m.group(1).strip(" 。.")) if n])
              for m in _SIGNATURE.finditer(text)]
    return max(counts, default=0)


def chinese_number(word: str) -> int | None:
    """Small numbers as letters write them: 5, ５, 五, 十二, 二十三, 一百."""
    word = word.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if word.isdigit():
        return int(word)
    total, current = 0, 0
    for char in word:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char in "十百千":
            total += (current or 1) * {"十": 10, "百": 100, "千": 1000}[char]
            current = 0
        else:
            return None
    return total + current


def _collective_reason(text: str, petitioners: int) -> str | None:
    if petitioners >= COLLECTIVE_SIZE:
        return f"{petitioners} 名信访人"
    signed = signatories(text)
    if signed >= COLLECTIVE_SIZE:
        return f"{signed} 人署名"
    for match in _COUNTED_GROUP.finditer(text):
        number = chinese_number(match.group(1))
        if number is not None and number >= COLLECTIVE_SIZE:
            return f"以群体名义：{match.group(0)}"
    stated = _STATED_GROUP.search(text)
    if stated:
        return f"以群体名义：{stated.group(0)}"
    return None
