"""Replies through the CLI: render, sign, verify, supersede, batch, letters without a reply."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from records import Reply, intake
from records.workflow import due_on
from tests.web.conftest import SIGN, SIGNER_PASSWORD, add_signer, run, run_json
from web.services.instance import Instance
from web.services.replies import ensure_office_certificate, reply_id_of_code, verify_code

OPINION = {"facts": "经调查，补偿款已发放30万元，余款8.6万元尚未发放", "decision": "支持",
           "legal_basis": "《信访工作条例》第三十二条", "opinion": "责成镇人民政府发放余款",
           "review_authority": "清河县人民政府"}
NEEDS_LO = pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice")


@pytest.fixture(scope="module")
def home(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the ingested instance whose petitioners are confirmed."""
    home = tmp_path_factory.mktemp("replies") / "instance"
    shutil.copytree(ingested, home)
    with Instance(home) as instance, instance.db.session() as session:
        for letter_id, name in ((1, "韩秋菊"), (2, "卢振东"), (3, "钟晓岚")):
            letter = intake.get_letter(session, letter_id)
            intake.attach_petitioner(session, letter, name=name, actor="test")
    add_signer(home)
    return home


def test_letters_without_reply_have_a_15_day_deadline(home: Path) -> None:
    with Instance(home) as instance, instance.db.session() as session:
        answered = set(session.scalars(select(Reply.letter_id)))  # other tests share `ingested`
    document = run_json(home, "letters", "--without-reply")
    assert document["total"] == 3 - len(answered)
    assert not answered & {row["letter_id"] for row in document["letters"]}
    for row in document["letters"]:
        received = row["received_on"]
        assert row["deadline"] > received and isinstance(row["overdue"], bool)


def test_docx_only_reply_is_recorded(home: Path) -> None:
    document = run_json(home, "reply", "1", "--template", "acknowledgement", "--no-pdf")
    assert Path(document["files"]["docx"]).is_file() and document["files"]["pdf"] is None
    with Instance(home) as instance, instance.db.session() as session:
        reply = session.get(Reply, document["reply_id"])
        assert reply is not None and reply.docx_sha256 and reply.template_version
        assert reply.data["petitioner_name"] == "韩秋菊"


def test_missing_fields_are_named(home: Path) -> None:
    result = run(home, "reply", "1", "--template", "handling_opinion", "--no-pdf")
    assert result.exit_code == 1 and "decision" in result.output


def test_certificate_is_made_once(home: Path) -> None:
    with Instance(home) as instance:
        first = ensure_office_certificate(instance)
        data = first.read_bytes()
        assert ensure_office_certificate(instance) == first and first.read_bytes() == data
        assert "integrity" in (first.parent / "README.txt").read_text()
        code = verify_code(instance, 7)
        assert reply_id_of_code(instance, code) == 7
        assert reply_id_of_code(instance, "7-0000000000000000") is None


@pytest.mark.slow
@NEEDS_LO
def test_signed_reply_verifies_is_superseded_and_tampering_fails(home: Path,
                                                                 tmp_path: Path) -> None:
    data = tmp_path / "opinion.json"
    data.write_text(json.dumps(OPINION, ensure_ascii=False))
    first = run_json(home, "reply", "2", "--template", "handling_opinion", "--data", str(data),
                     *SIGN)
    signed = Path(first["files"]["signed_pdf"])
    check = run_json(home, "verify", str(signed))
    assert (check["valid"], check["intact"], check["reply_id"]) == (True, True,
                                                                    first["reply_id"])
    assert check["superseded_by"] is None
    second = run_json(home, "reply", "2", "--template", "handling_opinion", "--data",
                      str(data), *SIGN)
    assert second["supersedes"] == first["reply_id"]
    assert run_json(home, "verify", str(signed))["superseded_by"] == second["reply_id"]
    flipped = bytearray(signed.read_bytes())
    flipped[len(flipped) // 2] ^= 0x01
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(flipped))
    result = run(home, "verify", str(bad), "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["valid"] is False


@pytest.mark.slow
@NEEDS_LO
def test_batch_goes_on_after_a_failure(home: Path) -> None:
    result = run(home, "reply", "1", "3", "--template", "service_receipt", "--set",
                 "served_document=受理告知书", "--set", "served_doc_number=清信受〔2026〕1号",
                 "--set", "service_address=城关镇", "--set", "delivery_method=飞鸽", "--json")
    assert result.exit_code == 1  # 飞鸽 is no delivery method: every letter fails, clearly
    results = json.loads(result.stdout)["results"]
    assert len(results) == 2 and all("delivery_method" in r["error"] for r in results)
    result = run(home, "reply", "1", "3", "--template", "transfer_notice", "--json")
    assert result.exit_code == 0, result.output
    assert [r["error"] for r in json.loads(result.stdout)["results"]] == [None, None]


@NEEDS_LO
def test_signing_makes_the_step_and_delivery_starts_the_window(
        ingested: Path, tmp_path: Path) -> None:
    """§23, §31(六), §35: the signed notice is 受理, the signed opinion is 已答复 with its
    decision, and the 复查 window runs from the delivery; a notice signed again is outside."""
    home = tmp_path / "instance"
    shutil.copytree(ingested, home)
    with Instance(home) as instance, instance.db.session() as session:
        intake.attach_petitioner(session, intake.get_letter(session, 1), name="韩秋菊",
                                 actor="test")
        today = instance.today()
    add_signer(home)
    case = run_json(home, "case", "open", "1")["case_no"]
    notice = run_json(home, "reply", "1", "--template", "acknowledgement", *SIGN)
    assert notice["step"] == "accept"
    assert run_json(home, "case", "show", case)["stage"] == "accepted"
    again = run_json(home, "reply", "1", "--template", "acknowledgement", *SIGN)
    assert again["step"] == "outside" and "不能受理" in again["step_note"]
    data = tmp_path / "opinion.json"
    data.write_text(json.dumps(OPINION, ensure_ascii=False))
    opinion = run_json(home, "reply", "1", "--template", "handling_opinion", "--data",
                       str(data), *SIGN)
    shown = run_json(home, "case", "show", case)
    assert opinion["step"] == "reply" and shown["stage"] == "replied"
    assert shown["agenda"]["deadlines"] == [] and "尚未送达" in shown["agenda"]["notes"][0]
    run_json(home, "delivered", str(opinion["reply_id"]), "--method", "当面",
             "--on", today.isoformat())
    [window] = run_json(home, "case", "show", case)["agenda"]["deadlines"]
    with Instance(home) as instance:
        assert window["due"] == due_on(today, 30, instance.calendar).isoformat()
    assert window["article"] == "第三十五条" and window["kind"] == "window"
    refused = run(home, "case", "transition", case, "close")
    assert refused.exit_code == 1 and "期满前不能办结" in refused.stderr


def test_delivery_is_recorded_and_audited(home: Path) -> None:
    reply = run_json(home, "reply", "3", "--template", "acknowledgement", "--no-pdf")
    done = run_json(home, "delivered", str(reply["reply_id"]), "--method", "邮寄",
                    "--on", "2026-11-26")
    assert done == {"reply_id": reply["reply_id"], "delivery_method": "邮寄",
                    "delivered_on": "2026-11-26"}
    with Instance(home) as instance, instance.db.session() as session:
        row = session.get(Reply, reply["reply_id"])
        assert row is not None and row.delivery_method == "邮寄"
    assert run(home, "delivered", "99999", "--method", "当面").exit_code == 1
    assert run(home, "delivered", "1", "--method", "飞鸽").exit_code == 2


def test_an_imported_certificate_signs_and_earlier_replies_stay_valid(home: Path,
                                                                       tmp_path: Path) -> None:
    import letters

    before = run_json(home, "reply", "2", "--template", "acknowledgement", *SIGN)
    p12, secret = tmp_path / "ca.p12", tmp_path / "ca.pass"
    secret.write_bytes(b"s3cret")
    letters.make_certificate(p12, b"s3cret", "清河县人民政府信访局电子印章专用证书")  # > 64 bytes
    wrong = tmp_path / "wrong.pass"
    wrong.write_bytes(b"nope")
    refused = run(home, "certificate", "import", str(p12), "--passphrase-file", str(wrong))
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    imported = run_json(home, "certificate", "import", str(p12), "--passphrase-file", str(secret))
    assert "电子印章专用证书" in imported["subject"]
    after = run_json(home, "reply", "2", "--template", "acknowledgement", *SIGN)
    new = run_json(home, "verify", after["files"]["signed_pdf"])
    assert new["valid"] and "电子印章" in new["signer"]
    old = run_json(home, "verify", before["files"]["signed_pdf"])
    assert old["intact"] and old["issued_by_us"] and old["superseded_by"] == after["reply_id"]


def test_the_command_line_signs_only_with_the_leaders_confirmation(home: Path) -> None:
    """`huiyin reply --sign` signed as "cli" with no one's confirmation."""
    from records import AuditEvent

    bare = run(home, "reply", "3", "--template", "acknowledgement", "--sign")
    assert bare.exit_code == 1 and "--leader" in bare.output
    unchecked = run(home, "reply", "3", "--template", "acknowledgement", "--sign", "--leader",
                    "signer", "--password-stdin", stdin=SIGNER_PASSWORD)
    assert unchecked.exit_code == 1 and "请先核对文书" in unchecked.output
    wrong = run(home, "reply", "3", "--template", "acknowledgement", *SIGN,
                stdin="not-the-password\n")
    assert wrong.exit_code == 1 and "密码未通过" in wrong.output
    made = run_json(home, "reply", "3", "--template", "transfer_notice", "--no-pdf")
    later = run(home, "sign", str(made["reply_id"]), "--leader", "signer", "--checked",
                "--password-stdin", stdin="not-the-password\n")
    assert later.exit_code == 1 and "密码未通过" in later.output
    with Instance(home) as instance, instance.db.session() as session:
        assert session.scalars(select(Reply).where(Reply.letter_id == 3,
                                                   Reply.signed_by.is_not(None))).all() == []
        refused = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "sign-refused")).all()
        assert [e.detail["via"] for e in refused][-3:] == ["cli"] * 3
