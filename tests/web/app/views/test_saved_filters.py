"""常用筛选 kept on the server per user: saved, listed and applied on the register and the
cases list, deletable by their owner only; the page and the API the same."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from records import SavedFilter
from tests.web.app.views.office_data import Office, build
from tests.web.signin import PASSWORD, csrf_token, sign_in
from web.app import create_app
from web.services.instance import Instance


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    return build(tmp_path_factory.mktemp("filters") / "instance")


@pytest.fixture(scope="module")
def app(office: Office) -> Flask:
    return create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})


def registered(html: str) -> list[str]:
    return re.findall(r'<td><a href="/letters/\d+">(\d{4}-\d{6})</a></td>', html)


def saved_links(html: str) -> dict[str, str]:
    """The filter bar's saved filters: name -> the address that applies it."""
    return {name: href.replace("&amp;", "&") for href, name in re.findall(
        r'<li><a href="([^"]+)"[^>]*>([^<]+)</a>', html)}


def test_a_saved_filter_is_kept_per_user_listed_applied_and_removed(app: Flask,
                                                                    office: Office) -> None:
    """Saved filters lived in one browser's localStorage: gone on another computer."""
    clerk = sign_in(app.test_client(), "clerk1")
    everything = registered(clerk.get("/").get_data(as_text=True))
    narrowed = registered(clerk.get("/?township=石桥镇").get_data(as_text=True))
    assert 0 < len(narrowed) < len(everything)
    token = csrf_token(clerk, "/")
    saved = clerk.post("/filters/", data={"csrf_token": token, "list": "register",
                                          "name": "石桥镇来信", "query": "township=石桥镇&page=3",
                                          "next": "/?township=石桥镇"})
    assert saved.status_code == 302 and saved.headers["Location"].startswith("/?township=")
    fresh = sign_in(app.test_client(), "clerk1")  # another browser: the filter is there
    links = saved_links(fresh.get("/").get_data(as_text=True))
    assert list(links) == ["石桥镇来信"]
    applied = fresh.get(links["石桥镇来信"]).get_data(as_text=True)  # the page number dropped
    assert registered(applied) == narrowed and 'aria-current="true">石桥镇来信' in applied
    assert saved_links(sign_in(app.test_client(), "leader1").get("/").get_data(
        as_text=True)) == {}  # another user's filters are not listed
    with Instance(office.home) as instance, instance.db.session() as session:
        (row,) = session.scalars(select(SavedFilter)).all()
        filter_id = row.id
    leader = sign_in(app.test_client(), "leader1")
    leader.post(f"/filters/{filter_id}/remove",
                data={"csrf_token": csrf_token(leader, "/"), "next": "/"})
    assert "石桥镇来信" in saved_links(fresh.get("/").get_data(as_text=True))
    assert clerk.post("/filters/", data={"csrf_token": token, "list": "nothing", "name": "x",
                                         "next": "https://evil.example/"}
                      ).headers["Location"] == "/"
    fresh.post(f"/filters/{filter_id}/remove",
               data={"csrf_token": csrf_token(fresh, "/"), "next": "/cases/"})
    assert saved_links(fresh.get("/").get_data(as_text=True)) == {}


def test_the_api_keeps_the_same_filters_as_the_page(app: Flask, office: Office) -> None:
    client = app.test_client()

    def token(username: str) -> dict[str, str]:
        got = client.post("/api/v1/token", json={"username": username, "password": PASSWORD})
        return {"Authorization": f"Bearer {got.get_json()['token']}"}

    handler, leader = token("handler1"), token("leader1")
    made = client.post("/api/v1/filters", json={"list": "cases", "name": "逾期",
                                                "query": "?overdue=1"}, headers=handler)
    assert made.status_code == 201 and made.get_json()["query"] == "overdue=1"
    again = client.post("/api/v1/filters", json={"list": "cases", "name": "逾期",
                                                 "query": "overdue=1&unit=2"}, headers=handler)
    assert again.get_json()["id"] == made.get_json()["id"]  # the same name replaces
    assert client.post("/api/v1/filters", json={"list": "cases", "name": " "},
                       headers=handler).status_code == 400
    listed = client.get("/api/v1/filters?list=cases", headers=handler).get_json()["filters"]
    assert [(f["name"], f["query"]) for f in listed] == [("逾期", "overdue=1&unit=2")]
    assert client.get("/api/v1/filters?list=cases", headers=leader).get_json()["filters"] == []
    page = sign_in(app.test_client(), "handler1").get("/cases/").get_data(as_text=True)
    assert saved_links(page) == {"逾期": "/cases/?overdue=1&unit=2"}
    mine = made.get_json()["id"]
    assert client.delete(f"/api/v1/filters/{mine}", headers=leader).status_code == 404
    assert client.delete(f"/api/v1/filters/{mine}", headers=handler).status_code == 200
    assert client.get("/api/v1/filters?list=cases", headers=handler).get_json()["filters"] == []
    assert client.get("/api/v1/filters?list=x", headers=handler).status_code == 400

