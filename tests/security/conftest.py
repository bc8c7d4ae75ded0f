"""The hostile office (built once), the app over it, and clients signed in as each role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.security.office import Office, build
from tests.web.conftest import draw
from tests.web.signin import PASSWORD, sign_in
from web.app import create_app


@pytest.fixture(scope="session")
def office(tmp_path_factory: pytest.TempPathFactory) -> Office:
    folder = tmp_path_factory.mktemp("hostile")
    scan = draw(folder, "韩秋菊", "13839452176", "石桥镇枣树营村", "征地补偿款至今没有发放",
                fmt="png", seed=7)
    return build(folder / "instance", scan)


@pytest.fixture(scope="session")
def app(office: Office) -> Flask:
    return create_app({"HUIYIN_HOME": str(office.home), "TESTING": True})


@pytest.fixture
def signed_in(app: Flask) -> Callable[[str], FlaskClient]:
    """A fresh client signed in through the form as the named user (clerk1, handler1, ...)."""

    def make(username: str) -> FlaskClient:
        return sign_in(app.test_client(), username)

    return make


@pytest.fixture
def api_token(app: Flask) -> Callable[[str], dict[str, str]]:
    """The Authorization header of a bearer token for the named user."""

    def make(username: str) -> dict[str, str]:
        answer = app.test_client().post("/api/v1/token",
                                        json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return {"Authorization": f"Bearer {answer.get_json()['token']}"}

    return make
