"""The web page: the register of letters, one letter, search — with safe headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import Scan
from tests.web.signin import add_users, sign_in
from web.app import create_app

pytestmark = pytest.mark.slow


@pytest.fixture
def client(ingested: Path) -> FlaskClient:
    add_users(ingested)
    app = create_app({"HUIYIN_HOME": str(ingested), "TESTING": True})
    return sign_in(app.test_client(), "clerk1")


def test_register_lists_every_letter(client: FlaskClient, scans: list[Scan]) -> None:
    page = client.get("/").get_data(as_text=True)
    assert "共 3 件" in page
    for scan in scans:
        assert scan.name in page


def test_a_letter_shows_its_text(client: FlaskClient, scans: list[Scan]) -> None:
    page = client.get("/letters/1").get_data(as_text=True)
    assert scans[0].phone in page
    assert client.get("/letters/999").status_code == 404


def test_search_highlights_and_survives_hostile_text(client: FlaskClient,
                                                     scans: list[Scan]) -> None:
    page = client.get("/search", query_string={"q": scans[1].name}).get_data(as_text=True)
    assert f"<mark>{scans[1].name[:2]}" in page or f"<mark>{scans[1].name}" in page
    for query in ['"unbalanced', "* OR (", "<script>alert(1)</script>", "x" * 10000]:
        response = client.get("/search", query_string={"q": query})
        assert response.status_code == 200
        assert "<script>alert" not in response.get_data(as_text=True)


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_app_refuses_a_folder_that_is_not_an_instance(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="huiyin init"):
        create_app({"HUIYIN_HOME": str(tmp_path / "nowhere")})


def test_search_results_mask_id_numbers(client: FlaskClient, scans: list[Scan]) -> None:
    for scan in scans:
        page = client.get("/search", query_string={"q": scan.id_number}).get_data(as_text=True)
        results = page.split('<article class="hit">', 1)[1]  # after the user's own query
        assert f"{scan.id_number[:6]}********{scan.id_number[-4:]}" in results
        assert scan.id_number not in results


def _key_when_released(home: str, start: object) -> str:
    from web.app import _secret_key

    start.wait()  # type: ignore[attr-defined]
    return _secret_key(Path(home))


def test_web_processes_starting_together_agree_on_one_secret_key(tmp_path: Path) -> None:
    """A session signed by one gunicorn process must be valid in the others."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Manager() as manager, context.Pool(8) as pool:
        for round_ in range(60):  # the race is narrow: many fresh instances, 8 starts at once
            home = tmp_path / str(round_)
            home.mkdir()
            start = manager.Event()
            keys = [pool.apply_async(_key_when_released, (str(home), start)) for _ in range(8)]
            start.set()
            found = {k.get(timeout=60) for k in keys}
            assert len(found) == 1 and len(found.pop()) == 64
            assert (home / "secret_key").stat().st_mode & 0o777 == 0o600
            assert [p.name for p in home.iterdir()] == ["secret_key"]  # no partial file left
