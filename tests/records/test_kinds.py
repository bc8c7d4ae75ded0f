"""The kind of a matter (§§29-31): proposed from its words, set by a clerk, and what it allows;
a later letter not accepted again after 复核 (§36 ¶3) or while in hand (§19 ¶3)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from records import (
    Case,
    Database,
    RecordsError,
    Reply,
    Unit,
    cases,
    intake,
    kinds,
    termination,
    workflow,
)
from records.calendar import load_calendar
from records.workflow import CaseClock, Evidence, Stage, agenda, apply, deadlines

D = dt.date
CAL = load_calendar()


@pytest.mark.parametrize(("text", "kind", "sub_kind", "word"), [
    ("举报村支部书记贪污低保款", kinds.ACCUSATION, None, "贪污"),
    ("我实名检举镇干部的问题", kinds.ACCUSATION, None, "检举"),
    ("建议在村口路段安装路灯，方便群众夜间出行", kinds.SUGGESTION, None, "建议"),
    ("法院判决已生效，对方拒不履行", kinds.CLAIM, 1, "法院"),
    ("公司拖欠工资，劳动仲裁后仍不支付", kinds.CLAIM, 2, "仲裁"),
    ("我对党纪处分不服，提出党员申诉", kinds.CLAIM, 3, "党员申诉"),
    ("对县市场监管局的罚款决定不服", kinds.CLAIM, 4, "罚款决定"),
    ("邻居非法采砂，请求有关部门查处", kinds.CLAIM, 5, "查处"),
    ("建议政府解决我家的危房问题，请求补助", kinds.CLAIM, 6, "第六项"),
])
def test_the_kind_is_proposed_from_the_words_with_them_as_its_reason(
        text: str, kind: str, sub_kind: int | None, word: str) -> None:
    proposal = kinds.propose_kind(text)
    assert (proposal.kind, proposal.sub_kind) == (kind, sub_kind)
    assert word in proposal.reason


def test_labels_and_what_a_clerk_may_set() -> None:
    assert kinds.label(None) == "未分类"
    assert kinds.label(kinds.CLAIM, 6) == "申诉求决（第三十一条第六项）"
    with pytest.raises(ValueError, match="第几项"):
        kinds.check(kinds.CLAIM, None)
    with pytest.raises(ValueError, match="建议意见类事项不分"):
        kinds.check(kinds.SUGGESTION, 6)
    with pytest.raises(ValueError, match="之一"):
        kinds.check("投诉", None)


def _answered(kind: str | None, sub_kind: int | None) -> CaseClock:
    clock = CaseClock(Stage.REGISTERED, D(2026, 3, 2), kind=kind, sub_kind=sub_kind)
    for action, on in (("accept", D(2026, 3, 5)), ("start", D(2026, 3, 6)),
                       ("reply", D(2026, 4, 1))):
        clock = apply(clock, action, on, calendar=CAL, decision="解释说明",
                      evidence=Evidence(document={"accept": "acknowledgement",
                                                  "reply": "handling_opinion"}.get(action)))
    return dataclasses.replace(clock, replied_delivered_on=D(2026, 4, 3))


@pytest.mark.parametrize(("kind", "sub_kind", "article"), [
    (kinds.SUGGESTION, None, "第二十九条"), (kinds.ACCUSATION, None, "第三十条"),
    (kinds.CLAIM, 5, "第三十一条"),
])
def test_only_a_handling_opinion_of_item_six_has_review_and_recheck(
        kind: str, sub_kind: int | None, article: str) -> None:
    clock = _answered(kind, sub_kind)
    today = D(2026, 4, 10)
    plan = agenda(clock, CAL, today)
    assert article in plan.refusal("request_review")
    assert "第三十五条" in plan.refusal("request_review")
    assert deadlines(clock, CAL) == []  # no window for a 复查 that does not exist
    assert plan.refusal("close") == ""  # the answer ends it: nothing to wait for
    full = agenda(_answered(kinds.CLAIM, 6), CAL, today)
    assert full.refusal("request_review") == "" and full.refusal("close") != ""
    assert agenda(_answered(None, None), CAL, today).refusal("request_review") == ""  # 未分类


@pytest.mark.parametrize("item", [1, 2, 3, 4])
def test_a_matter_for_another_procedure_is_not_accepted_with_its_channel_or_transferred(
        item: int) -> None:
    clock = CaseClock(Stage.REGISTERED, D(2026, 3, 2), kind=kinds.CLAIM, sub_kind=item)
    plan = agenda(clock, CAL, D(2026, 3, 4))
    for action in ("accept", "assign"):
        assert kinds.CHANNELS[item] in plan.refusal(action)
        assert "第二十八条第二款" in plan.refusal(action)
    assert plan.refusal("not_accept") == "" and plan.refusal("transfer") == ""
    assert kinds.channel(kinds.CLAIM, item) == kinds.CHANNELS[item]


def _case(session: object, letters: list[tuple[dt.date, str]]) -> Case:
    first = None
    for n, (received, text) in enumerate(letters):
        letter = intake.register_letter(session, sha256=f"{n + 1:064x}",  # type: ignore[arg-type]
                                        source_name=f"{n}.jpg", media_type="image/jpeg",
                                        size_bytes=1, received_on=received, actor="c")
        letter.text = text
        if first is None:
            first = cases.open_case(session, letter, actor="c")  # type: ignore[arg-type]
        else:
            cases.link_letter(session, letter, first, actor="c")  # type: ignore[arg-type]
    assert first is not None
    return first


def test_a_clerk_classifies_and_a_started_review_keeps_its_kind(db: Database) -> None:
    with db.session() as session:
        case = _case(session, [(D(2026, 3, 2), "建议在村口安装路灯")])
        assert case.kind is None
        assert cases.kind_proposal(case).kind == kinds.SUGGESTION
        with pytest.raises(RecordsError, match="第几项"):
            cases.classify(session, case, kinds.CLAIM, None, actor="clerk")
        cases.classify(session, case, kinds.CLAIM, 6, actor="clerk", reason="实为个人诉求")
        assert (case.kind, case.sub_kind) == (kinds.CLAIM, 6)
        assert cases.clock_of(case).sub_kind == 6
        case.review_requested_on = D(2026, 5, 1)
        with pytest.raises(RecordsError, match="第三十五条"):
            cases.classify(session, case, kinds.SUGGESTION, None, actor="clerk")


def test_a_letter_after_the_recheck_opinion_is_proposed_not_accepted_citing_it(
        db: Database) -> None:
    with db.session() as session:
        case = _case(session, [(D(2026, 1, 5), "请求解决宅基地纠纷"),
                               (D(2026, 6, 20), "还是宅基地的事，我不服")])
        first, later = sorted(case.letters, key=lambda x: x.received_on)
        case.status, case.recheck_replied_on = Stage.RECHECK_REPLIED.value, D(2026, 6, 1)
        session.add(Reply(letter_id=first.id, case_id=case.id, template="re_review_opinion",
                          doc_number="清信核〔2026〕3号", created_by="c",
                          signed_at=dt.datetime(2026, 6, 1, 9)))
        session.flush()
        clock = cases.clock_of(case)
        assert termination.propose(session, case, first, clock, CAL) is None
        found = termination.propose(session, case, later, clock, CAL)
        assert found is not None and found.article == termination.ENDED
        assert found.citing == "清信核〔2026〕3号" and "不再受理" in found.words
        termination.decide(session, later, found, D(2026, 6, 22), actor="clerk")
        assert (later.not_accepted_under, later.not_accepted_citing) == (
            "第三十六条第三款", "清信核〔2026〕3号")
        with pytest.raises(RecordsError, match="已依第三十六条第三款"):
            termination.decide(session, later, found, D(2026, 6, 22), actor="clerk")


def test_a_letter_to_the_office_while_a_unit_handles_the_matter_in_time(db: Database) -> None:
    """§19 ¶3: within the handling period only; after it the letter is a new complaint."""
    with db.session() as session:
        unit = Unit(name="石桥镇人民政府", level="township")
        session.add(unit)
        session.flush()
        case = _case(session, [(D(2026, 3, 2), "请求解决拖欠工资"),
                               (D(2026, 3, 20), "工资还没发"), (D(2026, 7, 1), "还没发")])
        case.unit_id, case.status = unit.id, Stage.HANDLING.value
        case.accepted_on = D(2026, 3, 4)
        session.flush()
        session.refresh(case)
        _, soon, late = sorted(case.letters, key=lambda x: x.received_on)
        clock = cases.clock_of(case)
        found = termination.propose(session, case, soon, clock, CAL)
        assert found is not None and found.article == termination.IN_HAND
        assert found.citing == case.case_no and "石桥镇人民政府" in found.reason
        assert termination.propose(session, case, late, clock, CAL) is None  # period over


@pytest.mark.parametrize(("kind", "sub_kind", "owed"), [
    (kinds.SUGGESTION, None, "研究论证并予以回复（第二十九条）"),
    (kinds.ACCUSATION, None, "依规依纪依法办理和反馈（第三十条）"),
    (kinds.CLAIM, 5, "依法履行或者答复（第三十一条第五项）"),
])
def test_section_34_times_only_item_six_the_others_carry_the_offices_period(
    kind: str, sub_kind: int | None, owed: str
) -> None:
    """§34: 对本条例第三十一条第六项规定的信访事项应当自受理之日起60日内办结. Another kind is held
    to the office's 指定办理期限 (§22 (三)) from its 交办, shown as the office's, never
    extended under §34."""
    cal = CAL
    assigned = D(2026, 3, 2)
    clock = workflow.CaseClock(workflow.Stage.HANDLING, D(2026, 2, 26), assigned_on=assigned,
                               accepted_on=D(2026, 3, 20), last_action_on=D(2026, 3, 20),
                               kind=kind, sub_kind=sub_kind)
    (running,) = workflow.deadlines(clock, cal)
    assert running.what == owed and running.article == "第二十二条第三项" and running.office
    assert running.due == workflow.due_on(assigned, workflow.OFFICE_HANDLE_DAYS, cal)
    today = workflow.agenda(clock, cal, D(2026, 4, 1))
    assert today.refusal("ask_extension").startswith(f"{kinds.label(kind, sub_kind)}事项不适用")
    with pytest.raises(workflow.IllegalTransition, match="第三十四条只对第三十一条第六项"):
        workflow.apply(clock, "ask_extension", D(2026, 4, 1), calendar=cal, extension_days=20)
    # the same dates as item (六): §34's 60 days from the acceptance, extension allowed
    six = dataclasses.replace(clock, kind=kinds.CLAIM, sub_kind=6)
    (statutory,) = workflow.deadlines(six, cal)
    assert statutory.article == "第三十四条" and statutory.what == "出具信访处理意见书"
    assert not statutory.office
    assert statutory.due == workflow.due_on(D(2026, 3, 20), workflow.HANDLE_DAYS, cal)
    assert "ask_extension" in workflow.agenda(six, cal, D(2026, 4, 1)).allowed()


def test_an_unclassified_matter_keeps_section_34_and_items_one_to_four_carry_no_period() -> None:
    """Until a clerk classifies it a matter keeps §34's clock (it must not lose its clock for
    want of a kind); items (一)-(四) 导入相应程序: no 信访 handling period runs."""
    cal = CAL
    clock = workflow.CaseClock(workflow.Stage.HANDLING, D(2026, 3, 2),
                               accepted_on=D(2026, 3, 10), last_action_on=D(2026, 3, 10))
    assert [d.article for d in workflow.deadlines(clock, cal)] == ["第三十四条"]
    for item in (1, 2, 3, 4):
        elsewhere = dataclasses.replace(clock, kind=kinds.CLAIM, sub_kind=item)
        assert workflow.deadlines(elsewhere, cal) == []
        assert workflow.current_deadline(elsewhere, cal) is None
        assert "不计信访办理期限" in workflow.agenda(elsewhere, cal, D(2026, 4, 1)).notes[0]
