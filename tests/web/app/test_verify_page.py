"""The public verification page: what the QR code opens, and an uploaded PDF checked."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from records import intake
from tests.web.conftest import SIGN, Scan, add_signer, run_json
from tests.web.signin import csrf_token
from web.app import create_app
from web.services.instance import Instance

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def signed(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A copy of the ingested instance with one signed acknowledgement."""
    home = tmp_path_factory.mktemp("verify") / "instance"
    shutil.copytree(ingested, home)
    with Instance(home) as instance, instance.db.session() as session:
        intake.attach_petitioner(session, intake.get_letter(session, 1), name="韩秋菊",
                                 actor="test")
    add_signer(home)
    reply = run_json(home, "reply", "1", "--template", "acknowledgement", *SIGN)
    return home, reply


def test_the_qr_code_page_shows_validity_and_nothing_personal(signed: tuple[Path, dict],
                                                               scans: list[Scan]) -> None:
    home, reply = signed
    client = create_app({"HUIYIN_HOME": str(home), "TESTING": True}).test_client()
    code = reply["verify_url"].rsplit("/", 1)[1]
    page = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "有效" in page and reply["doc_number"] in page
    assert scans[0].name not in page and scans[0].phone not in page
    assert client.get(f"/verify/{code[:-1]}x").status_code == 404


def test_an_uploaded_pdf_is_checked_and_one_changed_byte_fails(signed: tuple[Path, dict]) -> None:
    home, reply = signed
    client = create_app({"HUIYIN_HOME": str(home), "TESTING": True}).test_client()
    data = Path(reply["files"]["signed_pdf"]).read_bytes()
    token = csrf_token(client, "/verify/")
    good = client.post("/verify/", data={"pdf": (io.BytesIO(data), "reply.pdf"),
                                         "csrf_token": token},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "<strong>有效</strong>" in good
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0x01
    bad = client.post("/verify/", data={"pdf": (io.BytesIO(bytes(flipped)), "reply.pdf"),
                                        "csrf_token": token},
                      content_type="multipart/form-data").get_data(as_text=True)
    assert "<strong>无效</strong>" in bad
    empty = client.post("/verify/", data={"csrf_token": token},
                        content_type="multipart/form-data")
    assert "请选择" in empty.get_data(as_text=True)
