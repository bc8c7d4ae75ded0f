"""§30 ¶3 in a search's numbers: the total and the facet counts an accused reader gets (on the
page and from the API) count exactly the letters its hits allow, never the accusation — a count
that moves when an accusation arrives would tell the accused. One search through
web.services.letter_search, the engine leaving the letters out (tantivy here; every engine in
tests/search/test_search_features.py)."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from records import Case, Letter, Unit, User
from records.routing import assign_owner, mark_accusation
from tests.web.app.views.office_data import OTHER_UNIT, Office, build
from tests.web.signin import HANDLER_UNIT, PASSWORD, sign_in
from web.app import create_app
from web.services.access import hash_password
from web.services.indexing import index_letters
from web.services.instance import Instance
from web.services.letter_search import _key

QUERY = "请求督促"  # in 韩秋菊's two letters (land), 卢振东's (wage) and 钟晓岚's (lift)
NEWCOMER = "周建新"  # joined the land case's unit after the case named him


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    """The small office where the wage case accuses HANDLER_UNIT and the land case (owned by
    HANDLER_UNIT) accuses a person who joined that unit later; lift goes to HANDLER_UNIT."""
    office = build(tmp_path_factory.mktemp("accused-facets") / "instance")
    with Instance(office.home) as instance, instance.db.session() as session:
        own = session.scalars(select(Unit).where(Unit.name == HANDLER_UNIT)).one()
        lift, wage, land = (session.get(Case, office.cases[k]) for k in ("lift", "wage", "land"))
        assert lift is not None and wage is not None and land is not None
        assign_owner(session, lift, own, None, actor="clerk1", reason="属地")
        mark_accusation(session, wage, accused_unit=own, accused_person=None, actor="clerk1")
        mark_accusation(session, land, accused_unit=None, accused_person=NEWCOMER,
                        actor="clerk1")
        session.add_all([
            User(username="leader2", display_name="孙局长", role="leader", unit_id=own.id,
                 password_hash=hash_password(PASSWORD)),
            User(username="handler2", display_name=NEWCOMER, role="handler", unit_id=own.id,
                 password_hash=hash_password(PASSWORD)),
        ])
        session.flush()
        index_letters(instance, session.scalars(select(Letter)).all())
    return office


@pytest.fixture(scope="module")
def app(office: Office) -> Iterator[Flask]:
    yield create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})


def _api(app: Flask, username: str) -> dict[str, Any]:
    client = app.test_client()
    answer = client.post("/api/v1/token", json={"username": username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    found = client.get("/api/v1/search", query_string={"q": QUERY}, headers=headers)
    assert found.status_code == 200, found.get_data(as_text=True)
    answer_json: dict[str, Any] = found.get_json()
    return answer_json


def _page(app: Flask, username: str) -> tuple[int, dict[str, int]]:
    """The page's total and its facet links' counts ("城关镇" -> 1), as the reader sees them."""
    page = sign_in(app.test_client(), username).get("/search", query_string={"q": QUERY})
    text = page.get_data(as_text=True)
    total = int(re.search(r"共 (\d+) 件", text).group(1))  # type: ignore[union-attr]
    block = text.split('<div class="facets"', 1)[1].split("</div>", 1)[0] if (
        '<div class="facets"' in text) else ""
    shown = re.findall(r'>([^<>]+?) <span class="n">(\d+)</span></a>', block)
    return total, {html.unescape(value).strip(): int(n) for value, n in shown}


def _counted(office: Office, letter_ids: list[int]) -> dict[str, dict[str, int]]:
    """What the facets must say of exactly these letters (keys as the index keeps them)."""
    counts: dict[str, Counter[str]] = {f: Counter() for f in ("township", "category",
                                                               "status", "unit")}
    with Instance(office.home) as instance, instance.db.session() as session:
        for letter in session.scalars(select(Letter).where(Letter.id.in_(letter_ids))):
            case = letter.case
            values = {"township": letter.township, "category": letter.category,
                      "status": case.status if case else "",
                      "unit": case.unit.name if case and case.unit else ""}
            for name, value in values.items():
                if value:
                    counts[name][_key(value)] += 1
    return {name: dict(c) for name, c in counts.items()}


@pytest.mark.parametrize(("reader", "accusing"), [("leader2", ("lu",)),
                                                  ("handler2", ("han1", "han2"))])
def test_an_accused_readers_facets_count_only_what_its_hits_allow(
        app: Flask, office: Office, reader: str, accusing: tuple[str, ...]) -> None:
    clerk = _api(app, "clerk1")
    everyone = {h["letter_id"] for h in clerk["hits"]}
    hidden = {office.letters[k] for k in accusing}
    assert hidden <= everyone  # the clerk's search counts the accusation: the test can fail
    mine = _api(app, reader)
    seen = [h["letter_id"] for h in mine["hits"]]
    assert seen and not hidden & set(seen)
    assert mine["total"] == len(seen)
    expected = _counted(office, seen)
    assert {k: v for k, v in mine["facets"].items() if v} == {
        k: v for k, v in expected.items() if v}
    assert _counted(office, sorted(everyone)) == {k: v for k, v in clerk["facets"].items()}

    total, shown = _page(app, reader)
    assert total == mine["total"]
    for name in ("township", "category", "unit"):
        for value, n in mine["facets"].get(name, {}).items():
            assert shown[value] == n
    accused_only = {"leader2": ("劳动社保", OTHER_UNIT), "handler2": ("石桥镇", "征地拆迁")}
    clerk_total, clerk_shown = _page(app, "clerk1")
    assert clerk_total == clerk["total"] and set(accused_only[reader]) <= set(clerk_shown)
    assert not set(accused_only[reader]) & set(shown)


def test_the_cli_console_reader_counts_every_letter(office: Office) -> None:
    """The command line (the instance's keeper, no accusation can name it) counts them all."""
    from tests.web.conftest import run_json

    found = run_json(office.home, "search", QUERY)
    assert {office.letters[k] for k in ("lu", "han1", "han2", "zhong")} <= {
        h["letter_id"] for h in found["hits"]}
