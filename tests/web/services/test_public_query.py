"""The petitioner's own view (§18, §21 ¶2): query code, public view, limit, one evaluation."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess

import pytest
from sqlalchemy import select, update

from records import AuditEvent, Case, PublicQuery, query_codes, stats
from records.workflow import due_on
from tests.web.public_matters import ID_NUMBER, NAME, OFFICIAL, PHONE, make_matter
from web.services import case_actions, case_clock, public_query
from web.services.instance import Instance
from web.services.public_query import QueryRefused, TooManyTries, evaluate, look_up
from web.services.replies import generate_reply
from web.services.reply_preview import editable_fields

HERE, THERE = "203.0.113.7", "198.51.100.9"


def test_codes_carry_60_bits_from_a_readable_alphabet_and_forgive_typing() -> None:
    assert len(query_codes.ALPHABET) == 32 and not set("ILOU") & set(query_codes.ALPHABET)
    assert query_codes.CODE_LENGTH * 5 >= 60
    made = {query_codes.new_query_code() for _ in range(2000)}
    assert len(made) == 2000 and all(re.fullmatch("[0-9A-HJKMNP-TV-Z]{12}", c) for c in made)
    code = "K7QM3XZ9PT2D"
    assert query_codes.shown(code) == "K7QM-3XZ9-PT2D"
    assert query_codes.normalize(" k7qm-3xz9 pt2d ") == code
    assert query_codes.normalize("K7QM-3XZ9-PT2O") == "K7QM3XZ9PT20"  # O read as 0
    assert query_codes.normalize("K7QM-3XZ9-PT2") is None  # too short: no lookup at all
    assert query_codes.normalize("K7QM-3XZ9-PT2U") is None  # U is not in the alphabet


def test_the_public_view_shows_the_stage_deadline_and_documents_and_nothing_personal(
        instance: Instance) -> None:
    matter = make_matter(instance, 1, answered=True)
    other = make_matter(instance, 2, answered=False, name="卢振东")
    seen = look_up(instance, matter.code.lower(), HERE)
    assert seen["case_no"] == matter.case_no and seen["stage"] == "已出具信访处理意见书"
    with instance.db.session() as session:  # the same clock as the case page, not recounted
        case = session.get(Case, matter.case_id)
        assert case is not None
        current = case_clock.agenda_dict(instance, case)["current"]
        delivered = case.replied_delivered_on
    assert seen["deadline"]["due"] == current["due"] == due_on(
        delivered, 30, instance.calendar).isoformat()
    assert seen["deadline"]["kind"] == "window" and "第三十五条" in seen["deadline"]["article"]
    assert [(d["title"], d["doc_number"], d["delivered_on"]) for d in seen["documents"]] == [
        ("处理意见书", matter.doc_number, delivered.isoformat())]
    assert all(d["verify_code"] for d in seen["documents"])
    assert seen["may_evaluate"] and seen["evaluation"] is None
    shown = json.dumps(seen, ensure_ascii=False)
    for secret in (NAME, NAME[0] + "*", ID_NUMBER, ID_NUMBER[-4:], PHONE, PHONE[-4:], OFFICIAL,
                   "征地补偿款", "东关村", other.case_no, "卢振东", "handler1", "leader1",
                   "clerk1"):
        assert secret not in shown, secret
    theirs = look_up(instance, other.code, HERE)  # a code opens its own matter only
    assert theirs["case_no"] == other.case_no and theirs["documents"] == []
    assert not theirs["may_evaluate"] and theirs["stage"] == "已受理，正在办理"
    assert theirs["deadline"]["kind"] == "duty" and "第三十四条" in theirs["deadline"]["article"]
    with instance.db.session() as session:  # each query is kept and the read audited
        reads = session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "case", AuditEvent.action == "read")).all()
        assert {(e.entity_id, e.actor) for e in reads} == {
            (matter.case_id, public_query.PUBLIC_ACTOR), (other.case_id, public_query.PUBLIC_ACTOR)}


def test_wrong_codes_are_refused_and_limited_per_address_across_processes(
        instance: Instance) -> None:
    matter = make_matter(instance, 1, answered=True)
    guesses = [query_codes.shown(query_codes.new_query_code()) for _ in range(10)]
    for guess in guesses:
        with pytest.raises(QueryRefused, match="查询码不正确") as refused:
            look_up(instance, guess, HERE)
        assert not isinstance(refused.value, TooManyTries)
    with pytest.raises(TooManyTries, match="输错次数过多") as limited:  # even the right code
        look_up(instance, matter.code, HERE)
    assert 3500 < limited.value.seconds <= 3600
    local = re.search(r"请于(\d{4}-\d\d-\d\d \d\d:\d\d)以后再试", str(limited.value))
    assert local is not None
    with pytest.raises(TooManyTries):  # evaluating is the same door
        evaluate(instance, matter.code, "满意", "", HERE)
    assert look_up(instance, matter.code, THERE)["case_no"] == matter.case_no  # another address
    with instance.db.session() as session:  # an hour later the address may try again
        kept = session.scalars(select(PublicQuery).where(PublicQuery.remote_addr == HERE)).all()
        assert (sum(q.case_id is None and not q.limited for q in kept),
                sum(q.limited for q in kept)) == (10, 2)
        session.execute(update(PublicQuery).values(at=PublicQuery.at - dt.timedelta(minutes=61)))
    assert look_up(instance, matter.code, HERE)["case_no"] == matter.case_no


def test_one_evaluation_after_the_answer_is_delivered_and_it_feeds_the_rate(
        instance: Instance) -> None:
    answered = make_matter(instance, 1, answered=True)
    waiting = make_matter(instance, 2, answered=False)
    early = evaluate(instance, waiting.code, "满意", "", HERE)
    assert early["refusal"] and "送达后才能评价" in early["refusal"]
    done = evaluate(instance, answered.code, "基本满意", "办得还算及时", HERE)
    assert done["refusal"] is None
    assert done["evaluation"] == {"rating": "基本满意", "way": "网上",
                                  "on": instance.today().isoformat()}
    again = evaluate(instance, answered.code, "不满意", "", HERE)
    assert again["refusal"] and "只评价一次" in again["refusal"]
    assert again["evaluation"]["rating"] == "基本满意"
    bad = evaluate(instance, make_matter(instance, 3, answered=True).code, "很好", "", HERE)
    assert bad["refusal"] and "满意、基本满意、不满意" in bad["refusal"]
    with instance.db.session() as session:
        case = session.get(Case, answered.case_id)
        assert case is not None
        assert (case.satisfaction, case.satisfaction_way, case.satisfaction_note) == (
            "基本满意", "网上", "办得还算及时")
    today = instance.today()
    _, groups = case_clock.rates(instance, today - dt.timedelta(days=60), today, None)
    rate = {r.key: r for r in groups["全部"]}["satisfaction"]
    assert (rate.numerator, rate.denominator) == (1, 1)
    assert "网上" in stats.RATE_TERMS["satisfaction"][2] and "电话" in stats.RATE_TERMS[
        "satisfaction"][2]


def test_the_office_records_a_phone_evaluation_and_renews_a_code(instance: Instance) -> None:
    matter = make_matter(instance, 1, answered=True)
    with instance.db.session() as session:
        version = session.get(Case, matter.case_id).version  # type: ignore[union-attr]
    with pytest.raises(case_actions.ActionError, match="网上评价由信访人"):
        case_actions.act(instance, matter.case_id, "rate", {"rating": "满意", "way": "网上"},
                         actor="clerk1", role="clerk", expected_version=version)
    outcome = case_actions.act(instance, matter.case_id, "rate",
                               {"rating": "不满意", "way": "电话", "note": "补偿款仍未到账"},
                               actor="clerk1", role="clerk", expected_version=version)
    assert "电话" in outcome.message
    seen = look_up(instance, matter.code, HERE)
    assert seen["evaluation"]["way"] == "电话" and not seen["may_evaluate"]
    assert evaluate(instance, matter.code, "满意", "", HERE)["refusal"]  # once, by any way

    with instance.db.session() as session:  # a matter closed after its answer: still rated
        closed = session.get(Case, make_matter(instance, 2, answered=True).case_id)
        assert closed is not None
        closed.status = "closed"
        assert "rate" in case_actions.available(closed, "clerk")
        closed.replied_delivered_on = None
        assert "rate" not in case_actions.available(closed, "clerk")
    shown = public_query.office_code(instance, matter.case_no, actor="clerk1")
    assert shown["code"] == matter.code and shown["url"].endswith("/query")
    renewed = public_query.office_code(instance, str(matter.case_id), actor="clerk1", new=True)
    assert renewed["code"] != matter.code
    with pytest.raises(QueryRefused, match="查询码不正确"):  # the old code stops working
        look_up(instance, matter.code, HERE)
    assert look_up(instance, renewed["code"], HERE)["case_no"] == matter.case_no
    with instance.db.session() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "query-code"))
        assert event.actor == "clerk1" and event.detail == {"replaced": True}
        assert renewed["code"].replace("-", "") not in json.dumps(event.detail)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None or shutil.which("pdftotext") is None,
                    reason="needs LibreOffice and pdftotext")
def test_the_acknowledgement_prints_the_code_and_the_page(instance: Instance) -> None:
    """The 受理告知书 as the petitioner reads it (LibreOffice's PDF, read back by pdftotext)."""
    matter = make_matter(instance, 1, answered=False)
    with instance.db.session() as session:
        letter_id = session.get(Case, matter.case_id).letters[0].id  # type: ignore[union-attr]
    made = generate_reply(instance, letter_id, "acknowledgement", out_dir=None, actor="clerk1",
                          data={"query_code": "AAAA-AAAA-AAAA", "query_url": "http://evil/"})
    pdf = made.files["pdf"]
    assert pdf is not None
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert matter.code in flat and "http://localhost:5000/query" in flat
    assert "凭查询码" in flat and "查询进展、作出评价" in flat
    assert "AAAA-AAAA-AAAA" not in flat and "evil" not in flat  # the case's, never typed ones
    assert not {"query_code", "query_url"} & set(editable_fields("acknowledgement"))


def test_old_tries_are_pruned_by_the_worker_and_recent_wrong_codes_listed_masked(
        instance: Instance) -> None:
    """The tries were kept for ever and the admin could not see a guessing attack."""
    from web.worker import Worker

    matter = make_matter(instance, 1, answered=True)
    guesses = [query_codes.shown(query_codes.new_query_code()) for _ in range(11)]
    for guess in guesses:
        with pytest.raises(QueryRefused):
            look_up(instance, guess, HERE)
    look_up(instance, matter.code, THERE)
    with pytest.raises(QueryRefused):
        look_up(instance, guesses[0], "2001:db8:85a3::8a2e:370:7334")
    listed = public_query.refused_tries(instance)
    assert [(t["address"], t["wrong"], t["limited"]) for t in listed] == [
        ("2001:0db8:85a3:*", 1, 0), ("203.0.113.*", 10, 1)]  # the right code is no refusal
    shown = json.dumps(listed, ensure_ascii=False)
    assert HERE not in shown and matter.code not in shown
    assert not any(query_codes.normalize(g) in shown or g in shown for g in guesses)
    with instance.db.session() as session:
        assert query_codes.prune_tries(session, dt.datetime.now(dt.UTC).replace(tzinfo=None),
                                       keep=dt.timedelta(0)) == 0  # the hour's limit stays
        session.execute(update(PublicQuery).where(PublicQuery.remote_addr == HERE)
                        .values(at=PublicQuery.at - dt.timedelta(days=31)))
    Worker(instance, "prune-test", watch_folder=False).drain()
    with instance.db.session() as session:
        left = session.scalars(select(PublicQuery.remote_addr)).all()
    assert sorted(left) == sorted([THERE, "2001:db8:85a3::8a2e:370:7334"])
    assert [t["address"] for t in public_query.refused_tries(instance)] == ["2001:0db8:85a3:*"]
