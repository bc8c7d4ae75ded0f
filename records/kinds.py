"""The kind of a matter (分类处理, 《信访工作条例》§§29-31) and what each kind allows.

Pure: a letter's text in, a proposed kind with the words that suggest it out (like
records.flags); a kind and an action in, the refusal naming the article out. A clerk sets the
kind (records.cases.classify); NULL is 未分类 and changes nothing until then.

- 建议意见 (§29): 认真研究论证……予以回复. No 复查 or 复核.
- 检举控告 (§30): 依规依纪依法接收、受理、办理和反馈. No 复查 or 复核; never shown to the
  accused (§30 ¶3, records.routing and web.services.access).
- 申诉求决 (§31), by its items: (一)-(四) go to their own procedure (诉访分离, §28 ¶2): the
  matter is not accepted with the channel named, or transferred to the competent organ
  (§22 ¶4); (五) 依法履行或者答复; only (六) gets the 信访处理意见书 (§32), the §34 period and
  复查/复核 (§§35-36: 信访人对信访处理意见不服).

The handling period (`period`): §34 times only item (六) ("对本条例第三十一条第六项规定的信访
事项应当自受理之日起60日内办结"). 建议意见, 检举控告 and item (五) have no period in the
regulation: the unit is held to the office's own 指定办理期限 (§22 (三)). Items (一)-(四) leave
the 信访 channel and carry none. A matter not yet classified keeps §34 until it is: the
proposal for a letter without other signs is item (六), and a matter must not lose its clock
because nobody classified it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUGGESTION, ACCUSATION, CLAIM = "建议意见", "检举控告", "申诉求决"
KINDS = (SUGGESTION, ACCUSATION, CLAIM)
UNCLASSIFIED = "未分类"
ITEMS = ("一", "二", "三", "四", "五", "六")  # §31's items, numbered 1 to 6
# What each item of §31 is, in its own words.
SUB_KINDS = {
    1: "诉讼、复议、检察、公安法律程序（涉法涉诉）",
    2: "仲裁",
    3: "党员申诉、申请复审",
    4: "行政复议、行政裁决、行政确认、行政许可、行政处罚等行政程序",
    5: "申请查处违法行为、履行保护人身权或者财产权等合法权益职责",
    6: "调查核实，出具信访处理意见书",
}
# Where a matter of items 1 to 4 belongs: named in the 不予受理告知书 (告知的其他途径).
CHANNELS = {
    1: "请依照法律法规规定的程序，向人民法院、人民检察院、公安机关等政法部门提出"
       "（诉讼、复议、刑事立案或者法律监督程序）",
    2: "请依法向劳动人事争议仲裁委员会或者其他仲裁机构申请仲裁",
    3: "请向有关党组织提出党员申诉或者申请复审",
    4: "请依法向有权机关申请行政复议、行政裁决、行政确认、行政许可，或者通过其他行政程序解决",
}
# The actions of the §34-§36 chain: only a 信访处理意见 (§31 (六)) may be reviewed.
CHAIN = frozenset({"request_review", "answer_review", "request_recheck", "answer_recheck"})
# The handling period a kind carries (`period`).
STATUTORY, OFFICE, NO_PERIOD = "第三十四条", "本办指定", "无"
# The §34 extension: only where §34 runs.
EXTENSION = frozenset({"ask_extension", "extend", "notify_extension"})
# What a matter of items 1 to 4 may not do: it is handled in its own procedure.
HANDLING = frozenset({"accept", "assign", "start", "reply", "ask_extension", "extend",
                      "notify_extension"})


@dataclass(frozen=True)
class KindProposal:
    """A kind the letter suggests, and the words that suggest it."""

    kind: str
    sub_kind: int | None
    reason: str


def label(kind: str | None, sub_kind: int | None = None) -> str:
    """申诉求决（第三十一条第六项）, 建议意见, or 未分类."""
    if kind is None:
        return UNCLASSIFIED
    if kind == CLAIM and sub_kind is not None:
        return f"{kind}（第三十一条第{ITEMS[sub_kind - 1]}项）"
    return kind


def check(kind: str, sub_kind: int | None) -> None:
    """ValueError unless the kind is known and a 申诉求决 names its item of §31 (only it)."""
    if kind not in KINDS:
        raise ValueError(f"事项类别须为{'、'.join(KINDS)}之一")
    if kind == CLAIM and sub_kind not in SUB_KINDS:
        raise ValueError("申诉求决类事项须写明属于第三十一条第几项（1 至 6）")
    if kind != CLAIM and sub_kind is not None:
        raise ValueError(f"只有申诉求决类事项分第三十一条的各项，{kind}类事项不分")


def has_chain(kind: str | None, sub_kind: int | None) -> bool:
    """Whether 复查 and 复核 exist: for a 信访处理意见 (§31 (六), §§35-36) or a matter not
    yet classified (kept as it was)."""
    return kind is None or (kind == CLAIM and sub_kind == 6)


def period(kind: str | None, sub_kind: int | None) -> str:
    """Which handling period runs: §34's (item (六), or not yet classified), the office's own
    交办 period (§22 (三)), or none (items (一)-(四) leave the 信访 channel)."""
    if has_chain(kind, sub_kind):
        return STATUTORY
    if kind == CLAIM and sub_kind in CHANNELS:
        return NO_PERIOD
    return OFFICE


def channel(kind: str | None, sub_kind: int | None) -> str:
    """The procedure a matter of §31 items 1 to 4 belongs to ("" for any other)."""
    return CHANNELS.get(sub_kind or 0, "") if kind == CLAIM else ""


def refusal(kind: str | None, sub_kind: int | None, action: str) -> str | None:
    """Why the kind of the matter does not allow `action`; None when it does."""
    if kind is None:
        return None
    if action in CHAIN and not has_chain(kind, sub_kind):
        why = {SUGGESTION: "建议意见类事项经研究论证后予以回复（第二十九条）",
               ACCUSATION: "检举控告类事项依规依纪依法办理和反馈（第三十条）"}.get(
            kind, f"{label(kind, sub_kind)}事项依法履行或者答复（第三十一条）")
        return (f"{why}，没有复查、复核：复查、复核只对第三十一条第六项的信访处理意见"
                "（第三十五条、第三十六条）")
    if action in HANDLING and kind == CLAIM and sub_kind in CHANNELS:
        item = ITEMS[sub_kind - 1]
        return (f"第三十一条第{item}项的事项导入相应程序处理（第二十八条第二款：诉讼与信访分离）："
                f"请不予受理并告知途径（{CHANNELS[sub_kind]}），或转送有权处理的机关")
    if action in EXTENSION and period(kind, sub_kind) != STATUTORY:
        return (f"{label(kind, sub_kind)}事项不适用第三十四条的办理期限和延期（第三十四条只对"
                "第三十一条第六项的事项）：其办理期限是本办交办时指定的（第二十二条第三项），"
                "需要调整的，由本办重新指定")
    return None


_OFFICIAL = re.compile(r"(书记|主任|村长|镇长|乡长|局长|县长|所长|站长|干部|村委|村两委|支部"
                       r"|工作人员|公职人员|领导)")
_MISCONDUCT = re.compile(r"(贪污|受贿|索贿|行贿|挪用|侵吞|截留|套取|优亲厚友|违纪|渎职|失职"
                         r"|腐败|以权谋私|吃拿卡要|公款)")
_ACCUSING = re.compile(r"(检举|控告|揭发|举报|实名举报)")
_SUGGESTING = re.compile(r"(建议|提议|献计献策|意见和建议|合理化建议)")
_DEMANDING = re.compile(r"(请求|要求|诉求|讨要|赔偿|补偿|退还|支付|解决我)")
_ITEMS = (
    (1, re.compile(r"(判决|裁定书?|法院|起诉|诉讼|检察院|公安局|派出所|刑事|立案|再审|强制执行)")),
    (2, re.compile(r"(仲裁)")),
    (3, re.compile(r"(党员申诉|党纪处分|开除党籍|留党察看|申请复审)")),
    (4, re.compile(r"(行政复议|行政处罚|处罚决定|罚款决定|行政许可|行政裁决|行政确认|确权"
                   r"|不动产登记)")),
    (5, re.compile(r"(查处|制止|依法处理违法|履行职责|保护我的)")),
)


def propose_kind(text: str) -> KindProposal:
    """The kind the letter's words suggest, with those words as the reason."""
    accusing = _ACCUSING.search(text)
    misconduct = _MISCONDUCT.search(text)
    official = _OFFICIAL.search(text)
    if misconduct and (accusing or official):
        words = "、".join(m.group(0) for m in (accusing, official, misconduct) if m)
        return KindProposal(ACCUSATION, None, f"反映公职人员问题：{words}（第三十条）")
    if accusing and official:
        return KindProposal(ACCUSATION, None,
                            f"检举控告：{accusing.group(0)}、{official.group(0)}（第三十条）")
    suggesting = _SUGGESTING.search(text)
    if suggesting and not _DEMANDING.search(text):
        return KindProposal(SUGGESTION, None,
                            f"提出建议、没有个人诉求：{suggesting.group(0)}（第二十九条）")
    for item, pattern in _ITEMS:
        found = pattern.search(text)
        if found:
            return KindProposal(CLAIM, item, f"第三十一条第{ITEMS[item - 1]}项"
                                f"（{SUB_KINDS[item]}）：{found.group(0)}")
    if accusing:
        return KindProposal(CLAIM, 5, f"第三十一条第五项（申请查处违法行为）：{accusing.group(0)}")
    return KindProposal(CLAIM, 6, "未见涉法涉诉、仲裁、行政程序或检举控告的字样：按第三十一条"
                        "第六项调查核实，出具信访处理意见书")
