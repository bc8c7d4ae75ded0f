"""The letters pages through the real app: register, search (filters, facets, pages, scope),
one letter (masking, audit), more like this and all letters from one person."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import AuditEvent, Case, Unit, cases
from records.routing import assign_owner
from tests.web.app.views.office_data import ID_HAN, Office, build
from tests.web.signin import HANDLER_UNIT, sign_in
from web.app import create_app
from web.services.case_actions import reindex_case
from web.services.instance import Instance

WAGES = 50
MASKED_HAN = "411722********352X"


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    return build(tmp_path_factory.mktemp("letters") / "instance", wages=WAGES)


@pytest.fixture(scope="module")
def app(office: Office) -> Flask:
    return create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})


def client(app: Flask, username: str) -> FlaskClient:
    return sign_in(app.test_client(), username)


def reg_nos(html: str) -> list[str]:
    """The registration numbers of the letters a result page lists, in order."""
    return re.findall(r'<h2>\s*<a href="/letters/\d+">(\d{4}-\d{6})</a>', html)


def total(html: str) -> int:
    found = re.search(r"共 (\d+) 件", html)
    assert found, html[:2000]
    return int(found.group(1))


def test_search_highlights_and_masks_id_numbers(app: Flask) -> None:
    page = client(app, "clerk1").get("/search", query_string={"q": ID_HAN})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert total(html) == 2  # both of 韩秋菊's letters carry her ID number
    shown = re.sub(r'(value|href)="[^"]*"', "", html)  # the query itself stays in forms, links
    assert ID_HAN not in shown and MASKED_HAN in shown
    words = client(app, "clerk1").get("/search", query_string={"q": "征地补偿"})
    assert "<mark>" in words.get_data(as_text=True)


def test_filters_facets_and_dates_narrow_the_hits(app: Flask, office: Office) -> None:
    c = client(app, "clerk1")
    everything = c.get("/search", query_string={"q": "督促"}).get_data(as_text=True)
    assert total(everything) == 4
    # facet counts beside the filters, over every match
    assert re.search(r"城关镇（2）", everything) and re.search(r"石桥镇（2）", everything)
    town = c.get("/search", query_string={"q": "督促", "township": "城关镇"})
    assert total(town.get_data(as_text=True)) == 2
    category = c.get("/search", query_string={"q": "督促", "category": "征地拆迁"})
    assert total(category.get_data(as_text=True)) == 2
    unit = c.get("/search", query_string={"q": "督促", "unit": "县民政局"})
    assert reg_nos(unit.get_data(as_text=True)) == [_reg(office, "lu")]
    recent = c.get("/search", query_string={"q": "督促", "from": str(_day(office, "han2"))})
    assert sorted(reg_nos(recent.get_data(as_text=True))) == sorted(
        [_reg(office, "han2"), _reg(office, "zhong")])
    # filters alone (no words) list the letters newest first
    only = c.get("/search", query_string={"township": "青山乡"}).get_data(as_text=True)
    assert reg_nos(only) == [_reg(office, "qi")]


def test_pagination_and_sort_by_date(app: Flask, office: Office) -> None:
    c = client(app, "clerk1")
    first = c.get("/search", query_string={"q": "拖欠 工资", "sort": "date"})
    html = first.get_data(as_text=True)
    assert total(html) == WAGES + 1
    page1 = reg_nos(html)
    assert len(page1) == 20 and page1[0] == _reg(office, "lu")  # the newest first
    page2 = reg_nos(c.get("/search", query_string={"q": "拖欠 工资", "sort": "date",
                                                     "page": 2}).get_data(as_text=True))
    assert len(page2) == 20 and not set(page1) & set(page2)
    page3 = reg_nos(c.get("/search", query_string={"q": "拖欠 工资", "sort": "date",
                                                     "page": 3}).get_data(as_text=True))
    assert len(page3) == WAGES + 1 - 40 and page3[-1] == _reg(office, f"wage{WAGES - 1}")
    assert 'href="/search?page=2&amp;q=' in html or "page=2" in html


def test_a_handler_finds_only_its_units_letters(app: Flask, office: Office) -> None:
    c = client(app, "handler1")
    html = c.get("/search", query_string={"q": "督促"}).get_data(as_text=True)
    assert total(html) == 2  # 韩秋菊's two letters, in its unit's case; not 卢振东's
    assert sorted(reg_nos(html)) == sorted([_reg(office, "han1"), _reg(office, "han2")])
    other = c.get("/search", query_string={"q": "督促", "unit": "县民政局"})
    assert total(other.get_data(as_text=True)) == 0
    assert c.get(f"/letters/{office.letters['lu']}").status_code == 404
    assert c.get(f"/letters/{office.letters['zhong']}/similar").status_code == 404
    register = c.get("/").get_data(as_text=True)
    assert _reg(office, "han1") in register and _reg(office, "lu") not in register
    person = c.get(f"/letters/{office.letters['han1']}/person").get_data(as_text=True)
    assert _reg(office, "han2") in person


@pytest.mark.parametrize("text", [
    '"', "AND OR NOT", "*", "?", "field:value", "((((", "\\", "征地 OR", "-", "' OR 1=1 --",
    "<script>alert(1)</script>", "\x00\x01", "拆" * 10_000, " ".join(["词"] * 40),
])
def test_hostile_search_text_never_fails(app: Flask, text: str) -> None:
    page = client(app, "clerk1").get("/search", query_string={"q": text})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert 'class="error"' in html or "共" in html or "输入关键词" in html


def test_a_bad_date_is_explained(app: Flask) -> None:
    page = client(app, "clerk1").get("/search", query_string={"q": "督促", "from": "昨天"})
    assert page.status_code == 200
    assert "格式不对" in page.get_data(as_text=True)


def test_register_filters_and_pages(app: Flask, office: Office) -> None:
    c = client(app, "clerk1")
    everything = c.get("/").get_data(as_text=True)
    assert total(everything) == WAGES + 5
    assert "page=2" in everything
    caseless = c.get("/", query_string={"caseless": "1"}).get_data(as_text=True)
    assert total(caseless) == WAGES + 1  # the wages letters and 祁宝山's
    assert _reg(office, "han1") not in caseless
    town = c.get("/", query_string={"township": "石桥镇"}).get_data(as_text=True)
    assert total(town) == 2
    unreviewed = c.get("/", query_string={"reviewed": "yes"}).get_data(as_text=True)
    assert total(unreviewed) == 0
    second = c.get("/", query_string={"page": 2}).get_data(as_text=True)
    assert _reg(office, f"wage{WAGES - 1}") in second  # the oldest letter is on the last page


def test_letter_page_masks_ids_except_for_clerks_and_leaders(app: Flask, office: Office) -> None:
    letter_id = office.letters["han1"]
    for username, full in (("clerk1", True), ("leader1", True), ("handler1", False)):
        html = client(app, username).get(f"/letters/{letter_id}").get_data(as_text=True)
        assert (ID_HAN in html) is full, username
        assert MASKED_HAN in html or full
        assert f"/cases/{office.cases['land']}" in html
        assert f"/letters/{letter_id}/similar" in html
    clerk = client(app, "clerk1").get(f"/letters/{letter_id}").get_data(as_text=True)
    assert f"/review/letters/{letter_id}" in clerk and f"/replies/new/{letter_id}" in clerk
    with Instance(office.home) as instance, instance.db.session() as session:
        readers = set(session.scalars(select(AuditEvent.actor).where(
            AuditEvent.action == "read", AuditEvent.entity_id == letter_id)))
    assert {"clerk1", "leader1", "handler1"} <= readers
    assert client(app, "admin1").get(f"/letters/{letter_id}").status_code == 403


def test_more_like_this_and_same_person(app: Flask, office: Office) -> None:
    c = client(app, "clerk1")
    similar = c.get(f"/letters/{office.letters['han1']}/similar").get_data(as_text=True)
    assert _reg(office, "han2") in reg_nos(similar)
    assert _reg(office, "han1") not in reg_nos(similar)
    person = c.get(f"/letters/{office.letters['han2']}/person").get_data(as_text=True)
    assert reg_nos(person) == [_reg(office, "han2"), _reg(office, "han1")]  # newest first
    assert "按身份证号查找" in person and ID_HAN not in person
    assert c.get("/letters/99999/person").status_code == 404


def _reg(office: Office, key: str) -> str:
    with Instance(office.home) as instance, instance.db.session() as session:
        from records import intake

        return intake.get_letter(session, office.letters[key]).reg_no


def _day(office: Office, key: str):  # type: ignore[no-untyped-def]
    with Instance(office.home) as instance, instance.db.session() as session:
        from records import intake

        return intake.get_letter(session, office.letters[key]).received_on


def test_a_handler_of_a_unit_with_sub_units_sees_theirs_too(tmp_path: Path) -> None:
    small = build(tmp_path / "instance")
    with Instance(small.home) as instance:
        with instance.db.session() as session:
            parent = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
            sub = Unit(name="石桥镇国土所", parent_id=parent.id)
            session.add(sub)
            session.flush()
            case = session.get(Case, small.cases["lift"])
            assert case is not None
            assign_owner(session, case, sub, None, actor="clerk1", reason="下级单位")
        reindex_case(instance, small.cases["lift"])
    app = create_app({"HUIYIN_HOME": str(small.home), "TESTING": True})
    c = client(app, "handler1")
    for sort in ("relevance", "date"):
        html = c.get("/search", query_string={"q": "督促", "sort": sort}).get_data(as_text=True)
        assert total(html) == 3, sort  # its unit's two letters and its sub-unit's one
        assert _reg(small, "lu") not in reg_nos(html)
    only_sub = c.get("/search", query_string={"q": "督促", "unit": "石桥镇国土所"})
    assert reg_nos(only_sub.get_data(as_text=True)) == [_reg(small, "zhong")]
    assert c.get(f"/letters/{small.letters['zhong']}").status_code == 200


def test_the_registers_kept_totals_follow_the_records(instance: Instance) -> None:
    """Totals are kept until the records change: a new letter, a case opened, a state moved."""
    from records import intake
    from tests.web.signin import add_users
    from web.services.registration import register_written

    add_users(instance.home)

    def written(n: int) -> int:
        return register_written(instance, channel="phone", name=f"来电人{n}", phone=None,
                                id_number=None, township="石桥镇", received_on=instance.today(),
                                text=f"第{n}号来电：反映征地补偿款没有发放。", actor="test")

    first = written(1)
    c = client(create_app({"HUIYIN_HOME": str(instance.home), "TESTING": True}), "clerk1")

    def count(query: str = "") -> int:
        return total(c.get("/" + query).get_data(as_text=True))

    assert (count(), count("?caseless=1"), count("?state=failed")) == (1, 1, 0)
    written(2)
    assert (count(), count("?caseless=1")) == (2, 2)
    with instance.db.session() as session:
        cases.open_case(session, intake.get_letter(session, first), actor="clerk1")
    assert (count("?caseless=1"), count("?state=failed")) == (1, 0)
    with instance.db.session() as session:  # the worker's step: not an audited change
        intake.get_letter(session, first).ingest_state = "failed"
    assert count("?state=failed") == 1


def test_a_visit_is_headed_and_written_as_a_visit(app: Flask, office: Office,
                                                  tmp_path: Path) -> None:
    """A matter registered at the window (来访) is not called 来信: its page's heading, its
    register row and the 交办单's "……来访反映" name its channel."""
    import docx

    import letters
    from records import intake
    from web.services.replies import reply_context

    c = client(app, "clerk1")
    page = c.get(f"/letters/{office.letters['han1']}").get_data(as_text=True)
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert heading and heading.group(1).startswith("来访 ") and "来信" not in heading.group(1)
    assert "<title>来访 " in page and "<dt>登记日期</dt>" in page
    register = c.get("/").get_data(as_text=True)
    row = re.search(r"<tr class=\"state-[^\"]*\">.*?</tr>", register, re.S)
    assert row and "<td>来访</td>" in row.group(0)
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = intake.get_letter(session, office.letters["han1"])
        context = reply_context(instance, letter, "信交〔2026〕1号")
    assert context["channel_word"] == "来访"
    out = letters.render_docx("assignment", {**letters.sample_context(
        letters.required_fields("assignment")), **context},
        tmp_path / "assignment.docx")
    text = "".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "韩秋菊来访反映" in text and "来信反映" not in text
