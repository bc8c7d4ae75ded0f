"""Cases in the database: opening, linking, actions with their audit events, due lists."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records import Database, RecordsError, Reply, audit, cases, intake
from records.calendar import load_calendar
from records.workflow import STEP_DOCUMENTS, TRANSITIONS, Evidence, IllegalTransition, Stage

D = dt.date
CAL = load_calendar()


def _letter(db: Database, sha: str, received: dt.date | None = None) -> int:
    with db.session() as session:
        letter = intake.register_letter(session, sha256=sha, source_name="scan.jpg",
                                        media_type="image/jpeg", size_bytes=1,
                                        received_on=received or D(2026, 3, 2), actor="clerk1")
        letter.summary, letter.township = "请求兑现征地补偿款", "石桥镇"
        return letter.id


def test_a_case_opens_from_its_first_letter(db: Database) -> None:
    letter_id = _letter(db, "a" * 64)
    with db.session() as session:
        letter = intake.get_letter(session, letter_id)
        case = cases.open_case(session, letter, actor="clerk1")
        assert case.case_no == "XF-2026-000001"
        assert case.status == "registered" and case.opened_on == D(2026, 3, 2)
        assert case.title == "请求兑现征地补偿款" and case.township == "石桥镇"
        assert letter.case_id == case.id
        with pytest.raises(RecordsError, match="already belongs"):
            cases.open_case(session, letter, actor="clerk1")


def test_a_second_letter_joins_the_case_and_both_are_audited(db: Database) -> None:
    first, second = _letter(db, "a" * 64), _letter(db, "b" * 64, D(2026, 3, 20))
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, first), actor="clerk1")
        cases.link_letter(session, intake.get_letter(session, second), case, actor="clerk2",
                          reason="同一事项再次来信")
        assert {letter.id for letter in case.letters} == {first, second}
        events = [(e.actor, e.action) for e in audit.history(session, "case", case.id)]
    assert events == [("clerk1", "open-case"), ("clerk2", "link-letter")]


def test_actions_move_the_clock_and_are_audited(db: Database) -> None:
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, _letter(db, "a" * 64)),
                               actor="clerk1")
        cases.transition(session, case, "accept", D(2026, 3, 10), actor="lead1", calendar=CAL,
                         reason="属本机关职责", evidence=Evidence(told="当面告知"))
        assert cases.deadline(case, CAL).due == D(2026, 5, 9)  # type: ignore[union-attr]
        with pytest.raises(IllegalTransition):
            cases.transition(session, case, "close", D(2026, 3, 11), actor="x", calendar=CAL)
        assert case.status == "accepted"
        [*_, last] = audit.history(session, "case", case.id)
    assert last.detail == {"step": "accept", "on": "2026-03-10", "from_stage": "registered",
                           "to_stage": "accepted", "reason": "属本机关职责", "decision": None,
                           "evidence": {"told": "当面告知"}, "approved_by": None,
                           "extension_days": None}


def test_due_soon_and_overdue_lists(db: Database) -> None:
    ids = [_letter(db, c * 64, received) for c, received in
           (("a", D(2026, 3, 2)), ("b", D(2026, 3, 12)), ("c", D(2026, 1, 5)))]
    with db.session() as session:
        opened = [cases.open_case(session, intake.get_letter(session, i), actor="c") for i in ids]
        cases.transition(session, opened[2], "not_accept", D(2026, 1, 6), actor="c",
                         calendar=CAL, evidence=Evidence(document="non_acceptance"))
        today = D(2026, 3, 20)
        overdue = cases.due(session, CAL, today, overdue_only=True)
        soon = cases.due(session, CAL, today, within_days=10)
        assert [c.id for c, _ in overdue] == [opened[0].id]   # due 17 Mar
        assert [c.id for c, _ in soon] == [opened[0].id, opened[1].id]  # the ended one is gone


def test_flags_are_checked(db: Database) -> None:
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, _letter(db, "a" * 64)),
                               actor="c")
        cases.flag(session, case, ["越级", "重复"], actor="c")
        assert case.flags == sorted(["越级", "重复"])
        with pytest.raises(RecordsError, match="unknown flag"):
            cases.flag(session, case, ["可疑"], actor="c")


_SHAS = itertools.count(1)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(sorted(TRANSITIONS)), st.integers(0, 40)),
                      max_size=12))
def test_every_action_taken_has_exactly_one_audit_event(
    db: Database, steps: list[tuple[str, int]]
) -> None:
    letter_id = _letter(db, f"{next(_SHAS):064x}")  # one database serves every example
    taken = 0
    with db.session() as session:
        case = cases.open_case(session, intake.get_letter(session, letter_id), actor="c")
        for action, gap in steps:
            on = (case.last_action_on or case.opened_on) + dt.timedelta(days=gap)
            try:
                document = STEP_DOCUMENTS.get(action)
                cases.transition(session, case, action, on, actor="c", calendar=CAL,
                                 decision="不予支持", approved_by="王局长",
                                 evidence=Evidence(document=document) if document else None)
            except IllegalTransition:
                continue
            taken += 1
        moves = [e for e in audit.history(session, "case", case.id) if e.action == "transition"]
        assert len(moves) == taken
        stages = [Stage.REGISTERED.value] + [e.detail["to_stage"] for e in moves]
        assert stages[-1] == case.status
        assert all(e.detail["from_stage"] == stages[i] for i, e in enumerate(moves))


def _case(session: object, db: Database, sha: str, received: dt.date) -> cases.Case:
    return cases.open_case(session, intake.get_letter(session, _letter(db, sha, received)),  # type: ignore[arg-type]
                           actor="clerk1")


def _reply(session: object, case: cases.Case, template: str) -> Reply:
    reply = Reply(letter_id=case.letters[0].id, case_id=case.id, template=template,
                  created_by="h1", signed_by="h1")
    session.add(reply)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return reply


def test_signing_the_documents_makes_the_steps_and_delivery_starts_the_window(
    db: Database
) -> None:
    with db.session() as session:
        case = _case(session, db, "a" * 64, D(2026, 3, 2))
        ack = _reply(session, case, "acknowledgement")
        made = cases.document_signed(session, case, "acknowledgement", on=D(2026, 3, 9),
                                     actor="h1", calendar=CAL, reply=ack)
        assert made.in_flow and made.step == "accept" and ack.step == "accept"
        assert case.status == "accepted" and case.accepted_on == D(2026, 3, 9)
        assert case.steps["accept"] == {"document": "acknowledgement", "reply_id": ack.id}
        again = _reply(session, case, "acknowledgement")  # printed again, outside the flow
        outside = cases.document_signed(session, case, "acknowledgement", on=D(2026, 3, 10),
                                        actor="h1", calendar=CAL, reply=again)
        assert not outside.in_flow and again.step == cases.OUTSIDE
        assert "不能受理" in outside.reason
        with pytest.raises(IllegalTransition, match="须签发处理意见书"):  # a button is not one
            cases.transition(session, case, "reply", D(2026, 3, 11), actor="h", calendar=CAL,
                             decision="支持")
        opinion = _reply(session, case, "handling_opinion")
        cases.document_signed(session, case, "handling_opinion", on=D(2026, 5, 15),
                              actor="h1", calendar=CAL, decision="不予支持", reply=opinion)
        assert (case.status, case.decision, case.replied_on) == (
            "replied", "不予支持", D(2026, 5, 15))
        assert cases.agenda_of(case, CAL, D(2026, 5, 16)).current is None  # not delivered
        cases.document_delivered(session, case, "handling_opinion", D(2026, 5, 20), actor="c")
        window = cases.agenda_of(case, CAL, D(2026, 5, 21)).current
        assert window is not None and window.due == D(2026, 6, 22)
        events = [e.action for e in audit.history(session, "case", case.id)]
        assert events.count("document-signed") == 3 and "document-delivered" in events


def test_the_extension_notice_states_the_approved_length_and_the_new_date(
    db: Database
) -> None:
    with db.session() as session:
        case = _case(session, db, "a" * 64, D(2026, 3, 2))
        cases.transition(session, case, "accept", D(2026, 3, 10), actor="h", calendar=CAL,
                         evidence=Evidence(told="信访人匿名"))
        assert cases.document_dates(case, "extension_notice", CAL, D(2026, 5, 1)) == {}
        outside = cases.document_signed(session, case, "extension_notice", on=D(2026, 5, 1),
                                        actor="h", calendar=CAL)
        assert outside.step == cases.OUTSIDE and "延期尚未经负责人批准" in outside.reason
        cases.transition(session, case, "ask_extension", D(2026, 4, 30), actor="handler1",
                         calendar=CAL, extension_days=20, reason="需现场核查")
        cases.transition(session, case, "extend", D(2026, 5, 6), actor="leader1",
                         calendar=CAL, approved_by="王局长")
        assert cases.document_dates(case, "extension_notice", CAL, D(2026, 5, 7)) == {
            "extension_days": 20, "new_due_date": D(2026, 5, 29),
            "original_due_date": D(2026, 5, 9), "accepted_date": D(2026, 3, 10)}
        cases.document_signed(session, case, "extension_notice", on=D(2026, 5, 7),
                              actor="h", calendar=CAL)
        assert case.extension_notified_on == D(2026, 5, 7)
        assert cases.document_dates(case, "assignment", CAL, D(2026, 8, 2)) == {
            "deadline_date": D(2026, 10, 8)}


def test_the_receipt_date_is_corrected_with_its_reason_and_the_clock_recounts(
    db: Database
) -> None:
    with db.session() as session:
        case = _case(session, db, "a" * 64, D(2026, 3, 9))  # scanned on Monday 9 March
        letter = case.letters[0]
        with pytest.raises(RecordsError, match="晚于今天"):
            cases.correct_receipt(session, letter, D(2026, 3, 10), basis="邮戳", reason="x",
                                  actor="clerk1", today=D(2026, 3, 9))
        with pytest.raises(RecordsError, match="理由"):
            cases.correct_receipt(session, letter, D(2026, 3, 2), basis="邮戳", reason=" ",
                                  actor="clerk1", today=D(2026, 3, 9))
        cases.correct_receipt(session, letter, D(2026, 3, 2), basis="收文章",
                              reason="信封收文章为 3 月 2 日", actor="clerk1",
                              today=D(2026, 3, 9))
        assert (letter.received_on, letter.received_basis) == (D(2026, 3, 2), "收文章")
        assert case.opened_on == D(2026, 3, 2)
        assert cases.deadline(case, CAL).due == D(2026, 3, 17)  # type: ignore[union-attr]
        [*_, event] = audit.history(session, "letter", letter.id)
        assert event.action == "correct-receipt" and event.detail["before"] == "2026-03-09"
        assert event.detail["reason"] == "信封收文章为 3 月 2 日"


def test_a_hearing_moves_only_the_recheck_deadline(db: Database) -> None:
    with db.session() as session:
        case = _case(session, db, "a" * 64, D(2026, 3, 2))
        cases.transition(session, case, "accept", D(2026, 3, 10), actor="h", calendar=CAL,
                         evidence=Evidence(told="当面告知"))
        held = cases.record_hearing(session, case, "hearing", D(2026, 4, 1), D(2026, 4, 3),
                                    actor="h", calendar=CAL)
        assert held.paused_days == 0 and cases.deadline(case, CAL).due == D(2026, 5, 9)  # type: ignore[union-attr]
        case.status, case.recheck_requested_on = "recheck_requested", D(2026, 9, 10)
        case.last_action_on = D(2026, 9, 10)
        held = cases.record_hearing(session, case, "hearing", D(2026, 9, 21), D(2026, 9, 23),
                                    actor="h", calendar=CAL)
        assert held.paused_days == 3 and cases.deadline(case, CAL).due == D(2026, 10, 13)  # type: ignore[union-attr]
        met = cases.record_hearing(session, case, "joint_meeting", D(2026, 9, 24),
                                   D(2026, 9, 24), actor="h", calendar=CAL)
        assert met.paused_days == 0 and case.paused_days == 3
