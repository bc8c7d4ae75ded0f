"""Issue 17, items 1-3 through every door: the kind of a matter (§§29-31) proposed and set on
the page, the API and the command line; a later letter not accepted again (§19 ¶3, §36 ¶3);
and §30 ¶3: the accused unit's people never see the accusation, whatever door they use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from records import Case, Letter, Unit, User, kinds, stats
from records.workflow import Stage
from tests.web.app.views.office_data import OTHER_UNIT, TODAY, Office, build, copy
from tests.web.app.views.test_cases import form_of, post
from tests.web.conftest import run, run_json
from tests.web.signin import HANDLER_UNIT, PASSWORD, sign_in
from web.app import create_app
from web.services.access import hash_password
from web.services.instance import Instance


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Office:
    office = build(tmp_path_factory.mktemp("kinds") / "instance")
    with Instance(office.home) as instance, instance.db.session() as session:
        unit = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
        # a leader of the unit that will be accused: leaders see every case, but not this one
        session.add(User(username="leader2", display_name="孙局长", role="leader",
                         unit_id=unit.id, password_hash=hash_password(PASSWORD)))
    return office


@pytest.fixture
def office(template: Office, tmp_path: Path) -> Office:
    return copy(template, tmp_path)


@pytest.fixture
def app(office: Office) -> Flask:
    return create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})


def client(app: Flask, username: str) -> FlaskClient:
    return sign_in(app.test_client(), username)


def token(app: Flask, username: str) -> dict[str, str]:
    answer = app.test_client().post("/api/v1/token",
                                    json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_the_kind_is_proposed_and_set_on_the_page_the_api_and_the_command_line(
        app: Flask, office: Office) -> None:
    lift, wage, land = (office.cases[k] for k in ("lift", "wage", "land"))
    c = client(app, "clerk1")
    page = c.get(f"/cases/{lift}").get_data(as_text=True)
    assert "未分类" in page and "建议：申诉求决（第三十一条第六项）" in page
    done = post(c, lift, "classify", kind=kinds.CLAIM, sub="1", reason="已起诉")
    assert done.status_code == 303, done.get_data(as_text=True)[:800]
    page = c.get(f"/cases/{lift}").get_data(as_text=True)
    assert "申诉求决（第三十一条第一项）" in page and "导入相应程序" in page
    refused = post(c, lift, "accept", told="当面告知")
    assert refused.status_code == 422
    assert "第二十八条第二款" in refused.get_data(as_text=True)

    api = app.test_client()
    headers = token(app, "clerk1")
    version = api.get(f"/api/v1/cases/{wage}", headers=headers).get_json()["version"]
    answer = api.post(f"/api/v1/cases/{wage}/actions/classify", headers=headers,
                      json={"version": version, "kind": kinds.SUGGESTION})
    assert answer.status_code == 200, answer.get_json()
    shown = api.get(f"/api/v1/cases/{wage}", headers=headers).get_json()
    assert (shown["matter_kind"], shown["matter_kind_label"]) == (kinds.SUGGESTION, "建议意见")

    cli = run_json(office.home, "case", "classify", str(land), kinds.CLAIM, "--sub", "六")
    assert cli["sub_kind"] == 6
    shown = run_json(office.home, "case", "show", str(land))
    assert shown["kind"]["label"] == "申诉求决（第三十一条第六项）"
    assert run(office.home, "case", "classify", str(land), kinds.CLAIM).exit_code == 1
    listed = api.get("/api/v1/cases", headers=headers).get_json()["cases"]
    assert {c["case_id"]: c["matter_kind_label"] for c in listed} == {
        lift: "申诉求决（第三十一条第一项）", wage: "建议意见",
        land: "申诉求决（第三十一条第六项）"}


def test_a_letter_while_the_unit_handles_the_matter_is_not_accepted_citing_the_article(
        app: Flask, office: Office) -> None:
    """§19 ¶3: 韩秋菊 wrote again 5 days ago while 县自然资源局 handles her matter in time."""
    land = office.cases["land"]
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, land)
        assert case is not None
        case.status, case.accepted_on = Stage.HANDLING.value, TODAY - dt.timedelta(days=19)
    c = client(app, "clerk1")
    page = c.get(f"/cases/{land}").get_data(as_text=True)
    assert "建议依《信访工作条例》第十九条第三款不予受理" in page
    later = office.letters["han2"]
    assert post(c, land, "not_accept_letter", letter=str(later)).status_code == 303
    page = c.get(f"/cases/{land}").get_data(as_text=True)
    assert "已依《信访工作条例》第十九条第三款不予受理" in page
    again = run(office.home, "case", "not-again", str(land), str(later))
    assert again.exit_code == 1 and "已依第十九条第三款" in again.stderr
    first = run(office.home, "case", "not-again", str(land), str(office.letters["han1"]))
    assert first.exit_code == 1 and "应按新的来信办理" in first.stderr
    with Instance(office.home) as instance, instance.db.session() as session:
        letter = session.get(Letter, later)
        assert letter is not None and letter.not_accepted_under == "第十九条第三款"
        facts = {f.case_id: f for f in stats.case_facts(
            session, TODAY - dt.timedelta(days=60), TODAY, instance.calendar, TODAY)}
    assert facts[land].followed_up and facts[land].not_accepted_again
    rate = next(r for r in stats.rates(facts.values()) if r.key == "not_accepted_again")
    assert (rate.numerator, rate.denominator) == (1, 1)


def test_a_letter_after_the_recheck_of_a_closed_matter_is_not_accepted_on_the_page(
        app: Flask, office: Office) -> None:
    """§36 ¶3: the matter was closed after its 复核; 韩秋菊's later letter is not accepted."""
    land = office.cases["land"]
    with Instance(office.home) as instance, instance.db.session() as session:
        case = session.get(Case, land)
        assert case is not None
        case.status, case.recheck_replied_on = Stage.CLOSED.value, TODAY - dt.timedelta(days=10)
    c = client(app, "clerk1")
    page = c.get(f"/cases/{land}").get_data(as_text=True)
    assert "建议依《信访工作条例》第三十六条第三款不予受理" in page and "不再受理" in page
    done = post(c, land, "not_accept_letter", letter=str(office.letters["han2"]))
    assert done.status_code == 303, done.get_data(as_text=True)[:800]
    shown = run_json(office.home, "case", "show", str(land))["not_again"]
    assert [(t["article"], t["decided"]) for t in shown] == [("第三十六条第三款", True)]


def _doors(app: Flask, username: str, case_id: int, letter_id: int) -> dict[str, bool]:
    """Whether the user meets the case or its letter through each door."""
    c = client(app, username)
    api, headers = app.test_client(), token(app, username)
    api_cases = api.get("/api/v1/cases", headers=headers).get_json()["cases"]
    api_letters = api.get("/api/v1/letters", headers=headers).get_json()["letters"]
    found = api.get("/api/v1/search", query_string={"q": "拖欠农民工工资"},
                    headers=headers).get_json()
    api_hits = found["hits"]
    # by their links: a registration number is also the tail of a case number
    case_link, letter_link = f'/cases/{case_id}"', f'/letters/{letter_id}"'
    return {
        "case page": c.get(f"/cases/{case_id}").status_code == 200,
        "case list": case_link in c.get("/cases/?status=").get_data(as_text=True),
        "letter page": c.get(f"/letters/{letter_id}").status_code == 200,
        "letter list": letter_link in c.get("/").get_data(as_text=True),
        "search": letter_link in c.get("/search", query_string={"q": "拖欠农民工工资"}
                                       ).get_data(as_text=True),
        "dashboard cases": case_link in c.get("/dashboard/rows?metric=opened"
                                              ).get_data(as_text=True),
        "dashboard letters": letter_link in c.get("/dashboard/rows?metric=received"
                                                  ).get_data(as_text=True),
        "api case": api.get(f"/api/v1/cases/{case_id}", headers=headers).status_code == 200,
        "api cases": any(x["case_id"] == case_id for x in api_cases),
        "api letter": api.get(f"/api/v1/letters/{letter_id}",
                              headers=headers).status_code == 200,
        "api letters": any(x["letter_id"] == letter_id for x in api_letters),
        "api search": any(h["letter_id"] == letter_id for h in api_hits),
        "api search total": found["total"] > 0,  # only that letter says it
    }


def test_the_accused_unit_and_the_accused_person_never_see_the_accusation(
        app: Flask, office: Office) -> None:
    """§30 ¶3: recorded on the page; then the accused unit's leader, and a leader named as the
    accused person, meet the letter through no door, while another leader meets it in all."""
    wage, lu = office.cases["wage"], office.letters["lu"]
    c = client(app, "clerk1")
    with Instance(office.home) as instance, instance.db.session() as session:
        accused = session.scalars(select(Unit.id).where(Unit.name == HANDLER_UNIT)).one()
        owner = session.scalars(select(Unit.id).where(Unit.name == OTHER_UNIT)).one()
    refused = c.post(f"/cases/{wage}/actions/accuse",
                     data={**form_of(c, wage), "unit": str(owner)})
    assert refused.status_code == 422 and "第三十条第三款" in refused.get_data(as_text=True)
    done = c.post(f"/cases/{wage}/actions/accuse",
                  data={**form_of(c, wage), "unit": str(accused), "person": "leader1"})
    assert done.status_code == 303, done.get_data(as_text=True)[:800]
    before = _doors(app, "clerk1", wage, lu)
    assert all(before.values()), before  # the doors work: the test can fail
    for username in ("leader2", "leader1", "handler1"):
        seen = _doors(app, username, wage, lu)
        assert not any(seen.values()), (username, seen)


def test_the_non_acceptance_notice_names_the_channel_or_the_article_it_rests_on(
        office: Office) -> None:
    """§31 items 1-4: the 不予受理告知书 names where the matter belongs; a letter not accepted
    again (§19 ¶3) states the article's words. Typed values still win (a prefill only)."""
    from records import cases as records_cases
    from web.services.reply_preview import form_fields

    with Instance(office.home) as instance, instance.db.session() as session:
        lift = session.get(Case, office.cases["lift"])
        land = session.get(Case, office.cases["land"])
        assert lift is not None and land is not None
        records_cases.classify(session, lift, kinds.CLAIM, 2, actor="clerk1")
        land.status, land.accepted_on = Stage.HANDLING.value, TODAY - dt.timedelta(days=19)
        session.flush()
        zhong = session.get(Letter, office.letters["zhong"])
        han2 = session.get(Letter, office.letters["han2"])
        shown = {f.name: f.value for f in form_fields(instance, zhong, "non_acceptance")}
        assert shown["channel"] == kinds.CHANNELS[2]
        assert "第三十一条第二项" in shown["legal_basis"]
        again = {f.name: f.value for f in form_fields(instance, han2, "non_acceptance")}
        assert "第十九条第三款" in again["legal_basis"] and "上级机关、单位不予受理" in again[
            "legal_basis"]
        typed = {f.name: f.value for f in form_fields(instance, han2, "non_acceptance",
                                                      {"legal_basis": "另行写明"})}
        assert typed["legal_basis"] == "另行写明"


def test_the_dashboard_never_counts_a_matter_hidden_from_its_reader(
        app: Flask, office: Office) -> None:
    """§30 ¶3 (不得将……检举、揭发材料以及有关情况透露……给被检举、揭发的人员或者单位): every
    number of the 工作台 and of the rates goes through the reader's scope. The accused unit's
    leader (who sees every unit) counts exactly one matter fewer than the clerk; a handler
    accused by name counts exactly one fewer than its unit's cases."""
    from records.routing import mark_accusation
    from web.services import dashboard

    wage, land = office.cases["wage"], office.cases["land"]
    with Instance(office.home) as instance, instance.db.session() as session:
        accused = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
        case = session.get(Case, wage)
        assert case is not None
        mark_accusation(session, case, accused_unit=accused, accused_person=None, actor="clerk1")
        case.opened_on = TODAY - dt.timedelta(days=40)  # its routing duty is overdue
        # a matter of the handler's own unit that names the handler (before it is re-routed)
        mine = session.get(Case, land)
        assert mine is not None
        mine.accused_person = "handler1"
        units = frozenset({accused.id})

    def figures(username: str) -> dict[str, object]:
        got = app.test_client().get("/api/v1/dashboard", headers=token(app, username))
        assert got.status_code == 200, got.get_data(as_text=True)[:500]
        body = got.get_json()
        rates = app.test_client().get(f"/api/v1/rates?from={TODAY.year}-01-01",
                                      headers=token(app, username)).get_json()
        return {"cases": body["cases"], "rates_cases": rates["cases"],
                **{m: body["work"][m]["count"] for m in ("without_reply", "overdue")}}

    clerk, leader = figures("clerk1"), figures("leader2")
    assert clerk["overdue"] >= 1 and clerk["without_reply"] >= 1  # type: ignore[operator]
    # the hidden matter: one case, one letter (卢振东's), one overdue duty
    assert {k: clerk[k] - leader[k] for k in clerk} == {  # type: ignore[operator]
        "cases": 1, "rates_cases": 1, "without_reply": 1, "overdue": 1}
    handler = figures("handler1")
    with Instance(office.home) as instance:
        unit = dashboard.summary(instance, units, TODAY)
    assert unit["cases"] - handler["cases"] == 1  # type: ignore[operator]
    assert unit["work"]["without_reply"]["count"] - handler["without_reply"] == 2  # han1, han2


def test_the_dashboards_overdue_follows_each_kinds_clock(office: Office) -> None:
    """已超期 on the 工作台 (SQL) and the clock of the case page (records.workflow) agree for
    every kind: a 建议意见 交办 70 days ago is late by the office's period though accepted only
    20 days ago; a §31 (二) matter directed to arbitration carries no period; item (六) keeps
    §34's 60 days from its acceptance."""
    from records import cases as records_cases
    from web.services import dashboard

    with Instance(office.home) as instance, instance.db.session() as session:
        for key, kind, item in (("land", kinds.SUGGESTION, None), ("lift", kinds.CLAIM, 2),
                                ("wage", kinds.CLAIM, 6)):
            case = session.get(Case, office.cases[key])
            assert case is not None
            records_cases.classify(session, case, kind, item, actor="clerk1")
            case.status = Stage.HANDLING.value
            case.opened_on = TODAY - dt.timedelta(days=75)
            case.assigned_on = TODAY - dt.timedelta(days=70)
            case.accepted_on = TODAY - dt.timedelta(days=20 if key != "lift" else 70)
        session.flush()
        late = {case.id for case, _ in records_cases.due(session, instance.calendar, TODAY,
                                                          overdue_only=True)}
    assert late == {office.cases["land"]}
    with Instance(office.home) as instance:
        listed = dashboard.rows_behind(instance, "overdue", None, TODAY)
        assert {row["case_id"] for row in listed} == late
        assert dashboard.count(instance, "overdue", None, TODAY) == 1
        assert listed[0]["deadline_for"] == "研究论证并予以回复（第二十九条）"


def test_the_acknowledgement_promises_section_34_only_where_it_runs(office: Office,
                                                                     tmp_path: Path) -> None:
    """§34's 60 days are for §31 item (六) (and a matter not yet classified); the 受理告知书 of
    a 建议意见 promises the office's own period instead (§22 (三)), never §34's."""
    import docx

    import letters
    from records import cases as records_cases
    from web.services.replies import reply_context

    def notice(letter_id: int) -> str:
        with Instance(office.home) as instance, instance.db.session() as session:
            letter = session.get(Letter, letter_id)
            assert letter is not None
            context = reply_context(instance, letter, "信受〔2026〕1号")
        fields = letters.required_fields("acknowledgement")
        out = letters.render_docx("acknowledgement", {**letters.sample_context(fields),
                                                      **context}, tmp_path / f"{letter_id}.docx")
        return "".join(p.text for p in docx.Document(str(out)).paragraphs)

    with Instance(office.home) as instance, instance.db.session() as session:
        lift = session.get(Case, office.cases["lift"])
        assert lift is not None
        records_cases.classify(session, lift, kinds.SUGGESTION, None, actor="clerk1")
    suggestion, unclassified = notice(office.letters["zhong"]), notice(office.letters["han1"])
    assert "第三十四条" not in suggestion and "60日" not in suggestion
    assert "本机关指定的办理期限内办理" in suggestion
    assert "根据《信访工作条例》第三十四条，该事项将自受理之日起60日内办结" in unclassified
