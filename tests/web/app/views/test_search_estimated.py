"""The search page on the PostgreSQL engine past its exact limit: the clerk is told the total and
the counts are estimates and how the letters are ordered; the page still lists real letters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.pg import new_schema_url, pg_url
from tests.web.app.views.office_data import Office, build
from tests.web.signin import PASSWORD, sign_in
from web.app import create_app

__all__ = ["pg_url"]  # the session's PostgreSQL server (tests/pg.py)
WAGES = 60


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Office:
    home = tmp_path_factory.mktemp("estimated") / "instance"
    home.mkdir()
    (home / "config.toml").write_text(
        f'search_engine = "postgres"\nsearch_url = "{new_schema_url(pg_url, "web")}"\n',
        encoding="utf-8")
    return build(home, wages=WAGES)


@pytest.fixture(scope="module")
def app(office: Office) -> Iterator[Flask]:
    app = create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})
    engine: Any = app.extensions["huiyin"].index._engine
    engine.exact_up_to, engine.sample_rows = 25, 20  # 60 letters about wages are "very many"
    yield app
    app.extensions["huiyin"].close()


def test_a_very_common_search_says_it_estimates(app: Flask) -> None:
    c = sign_in(app.test_client(), "clerk1")
    html = c.get("/search", query_string={"q": "拖欠"}).get_data(as_text=True)
    assert re.search(r"共约 \d+ 件", html), html[:2000]
    assert "件数和分类统计是按最近收到的来信估算的" in html
    assert "其余按收信日期从新到旧" in html
    assert re.search(r"李集镇 <span class=\"n\">约\d+</span>", html)
    assert len(re.findall(r'<h2>\s*<a href="/letters/\d+">', html)) == 20
    token = app.test_client().post("/api/v1/token",
                                   json={"username": "clerk1", "password": PASSWORD})
    api = app.test_client().get(
        "/api/v1/search", query_string={"q": "拖欠", "limit": 20},
        headers={"Authorization": f"Bearer {token.get_json()['token']}"}).get_json()
    assert api["estimated"] is True and api["total"] > 25, api


def test_a_narrow_search_stays_exact(app: Flask) -> None:
    c = sign_in(app.test_client(), "clerk1")
    html = c.get("/search", query_string={"q": "韩秋菊"}).get_data(as_text=True)
    assert "共 2 件" in html and "估算" not in html

