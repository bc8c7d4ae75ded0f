"""Which case does a new letter belong to? Proposals with reasons, for the clerk to confirm.

Two kinds of evidence, combined: the same person (ID number, phone, or name in the same
township — search's exact fields) and similar content (search's more-like-this).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from records import Case, Letter, intake
from records.workflow import TERMINAL, Stage
from web.services.instance import Instance

# Letters on another matter reach a likeness of 0.26 at most in the labelled repeat set
# (search/_likeness.py): from 0.3 a letter's content is evidence of the same matter.
CONTENT_SHOWN = 0.3
CONTENT_FULL = 0.6  # from here two letters say the same thing in nearly the same words
# How much each piece of evidence weighs; content weighs CONTENT_WEIGHT times its likeness.
WEIGHTS = {"id_number": 4.0, "phone": 3.0, "name": 1.5}
CONTENT_WEIGHT = 3.0


@dataclass
class Proposal:
    """A case the letter may belong to, and why."""

    case_id: int
    case_no: str
    title: str
    stage: str
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    repeat: bool = False  # the same matter while the case is open, or after 复核 (重复信访)
    category: str = ""  # the case's 事项分类: a follow-up letter is proposed the same
    not_again: str = ""  # ended after 复核: linked, the letter is proposed 不予受理 (§36 ¶3)

    def as_dict(self) -> dict[str, object]:
        return {"case_id": self.case_id, "case_no": self.case_no, "title": self.title,
                "stage": self.stage, "score": round(self.score, 3), "reasons": self.reasons,
                "repeat": self.repeat, "category": self.category,
                "not_again": self.not_again}


def propose_cases(instance: Instance, letter_id: int, *, limit: int = 5) -> list[Proposal]:
    """Cases this letter may belong to, best first (never the letter's own case)."""
    with instance.db.session() as session:
        letter = intake.get_letter(session, letter_id)
        people = letter.petitioners
        extracted = letter.extracted or {}
        ids = {p.id_number for p in people if p.id_number} | set(extracted.get("id_numbers", []))
        phones = {p.phone for p in people if p.phone} | set(extracted.get("phones", []))
        names = set(intake.petitioner_names(letter))
        township, own_case = letter.township, letter.case_id
    evidence: dict[int, dict[str, float]] = defaultdict(dict)
    reasons: dict[int, list[str]] = defaultdict(list)
    index = instance.index
    lookups = [("id_number", v, f"同一身份证号 {v[:6]}…{v[-4:]}") for v in sorted(ids)]
    lookups += [("phone", v, f"同一电话 {v}") for v in sorted(phones)]
    lookups += [("name", v, f"同名信访人 {v}" + (f"（{township}）" if township else ""))
                for v in sorted(names)]
    for kind, value, reason in lookups:
        if kind == "id_number":
            found = index.letters_from(id_number=value)
        elif kind == "phone":
            found = index.letters_from(phone=value)
        else:
            found = index.letters_from(name=value, township=township or None)
        for hit in found.hits:
            if hit.letter_id != letter_id and kind not in evidence[hit.letter_id]:
                evidence[hit.letter_id][kind] = WEIGHTS[kind]
                reasons[hit.letter_id].append(reason)
    for hit in index.more_like_this(letter_id, limit=20).hits:
        # the likeness means the same for every letter (search's calibration, 0..1): it
        # weighs fully from "nearly the same words", in proportion below; it is named as a
        # reason only from "similar", where no letter on another matter reaches
        likeness = hit.similarity or 0.0
        evidence[hit.letter_id]["content"] = CONTENT_WEIGHT * min(1.0, likeness / CONTENT_FULL)
        if likeness >= CONTENT_SHOWN:
            reasons[hit.letter_id].append(hit.reasons[0] if hit.reasons
                                          else f"内容相似（{likeness:.0%}）")
    return _by_case(instance, evidence, reasons, own_case, limit)


def _by_case(instance: Instance, evidence: dict[int, dict[str, float]],
             reasons: dict[int, list[str]], own_case: int | None, limit: int) -> list[Proposal]:
    """Fold letters into their cases: a case scores as its best letter."""
    with instance.db.session() as session:
        rows = session.execute(
            select(Letter.id, Case).join(Case, Letter.case_id == Case.id)
            .where(Letter.id.in_(list(evidence)))
        ).all()
        proposals: dict[int, Proposal] = {}
        for letter_id, case in rows:
            if case.id == own_case:
                continue
            score = sum(evidence[letter_id].values())
            proposal = proposals.setdefault(case.id, Proposal(
                case.id, case.case_no, case.title, case.status, category=case.category or ""))
            if score > proposal.score:
                proposal.score = score
            proposal.reasons = sorted(set(proposal.reasons) | set(reasons[letter_id]))
            same_person = bool({"id_number", "phone", "name"} & set(evidence[letter_id]))
            stage = Stage(case.status)
            # a matter closed after its 复核 is ended too (§36 ¶3): a letter to it is a repeat
            ended = case.recheck_replied_on is not None
            proposal.repeat = same_person and "content" in evidence[letter_id] and (
                stage not in TERMINAL or ended
            )
            if proposal.repeat and ended:
                proposal.not_again = (f"复核意见已于 {case.recheck_replied_on} 出具：同一事实和理由"
                                      "不再受理（第三十六条第三款）")
    return sorted(proposals.values(), key=lambda p: -p.score)[:limit]
