"""Reply commands: render replies, verify a signed one, list letters still owed an answer."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from web.cli.common import (
    ACTOR,
    DATE,
    CliContext,
    day_or_today,
    emit,
    fail,
    json_option,
    pass_ctx,
)


def _data(data_file: Path | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    """Extra template fields from a JSON file and KEY=VALUE options (the options win)."""
    data: dict[str, Any] = {}
    if data_file is not None:
        try:
            data = json.loads(data_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            fail(f"{data_file}: {e}")
        if not isinstance(data, dict):
            fail(f"{data_file}: expected a JSON object of field names and values")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            fail(f"--set {pair!r}: write KEY=VALUE")
        data[key.strip()] = value
    return data


def _signer_options(command: Any) -> Any:
    """--leader, --checked and --password-stdin: what a signature asks of its leader here."""
    for option in (
        click.option("--password-stdin", is_flag=True,
                     help="Read the leader's password from standard input (for scripts)."),
        click.option("--checked", is_flag=True,
                     help="The leader has checked the document(s) (the page's 已核对)."),
        click.option("--leader", default=None, metavar="USER",
                     help="The leader who signs; the password is asked again."),
    ):
        command = option(command)
    return command


def _confirmation(leader: str | None, checked: bool, password_stdin: bool) -> Any:
    """The signer's confirmation, as the page and the API gather it (sign_confirmation)."""
    from web.services.sign_confirmation import Confirmation

    if not leader:
        fail("signing needs --leader USER (the leader's password is asked again)")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(f"{leader} 的登录密码", hide_input=True, err=True)
    return Confirmation(confirmed=checked, password=password, remote_addr="cli", via="cli")


@click.command()
@click.argument("letter", nargs=-1)
@click.option("--template", required=True, help="Template name, e.g. acknowledgement.")
@click.option("--sign", is_flag=True,
              help="Also sign the PDF with the office certificate (needs --leader, --checked).")
@click.option("--no-pdf", is_flag=True, help="Only the .docx (no LibreOffice).")
@click.option("--all-without-reply", is_flag=True, help="Every letter that has no reply yet.")
@click.option("--data", "data_file", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON object of extra fields (facts, decision, legal_basis, ...).")
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="One extra field.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the files (default: the instance's replies/).")
@_signer_options
@json_option
@pass_ctx
def reply(ctx: CliContext, letter: tuple[str, ...], template: str, sign: bool, no_pdf: bool,
          all_without_reply: bool, data_file: Path | None, pairs: tuple[str, ...],
          out: Path | None, leader: str | None, checked: bool, password_stdin: bool,
          as_json: bool) -> None:
    """Render replies for letters (ids or registration numbers): .docx, PDF/A, signed PDF."""
    from web.services.replies import (
        generate_many,
        generate_reply,
        letters_without_reply,
        resolve_letter,
    )

    instance = ctx.instance()
    data = _data(data_file, pairs)
    confirmation = _confirmation(leader, checked, password_stdin) if sign else None
    actor = leader if sign and leader else ACTOR
    ids = [resolve_letter(instance, ref) for ref in letter]
    if all_without_reply:
        ids += [row["letter_id"] for row in letters_without_reply(instance)]
    if not ids:
        fail("name a letter, or use --all-without-reply")
    if len(ids) == 1 and not all_without_reply:
        outcome = generate_reply(instance, ids[0], template, out_dir=out, actor=actor,
                                 data=data, pdf=not no_pdf, sign=sign,
                                 confirmation=confirmation)
        document = {"reply_id": outcome.reply_id, "letter_id": outcome.letter_id,
                    "doc_number": outcome.doc_number, "files": outcome.files,
                    "verify_url": outcome.verify_url, "supersedes": outcome.superseded,
                    "step": outcome.step, "step_note": outcome.step_note}
        emit(as_json, document, lambda: click.echo(
            f"{outcome.doc_number}: {outcome.files['signed_pdf'] or outcome.files['pdf'] or outcome.files['docx']}"))  # noqa: E501
        return
    with click.progressbar(length=len(ids), label="replies", file=sys.stderr) as bar:
        results = generate_many(instance, ids, template, actor=actor, out_dir=out, data=data,
                                sign=sign, confirmation=confirmation,
                                progress=lambda done, total: bar.update(1))
    failed = [r for r in results if r["error"]]

    def human() -> None:
        for r in results:
            click.echo(f"letter {r['letter_id']}: {r['error'] or r['doc_number']}")

    emit(as_json, {"results": results, "failed": len(failed)}, human)
    if failed:
        sys.exit(1)


@click.command("sign")
@click.argument("reply_id", type=int)
@_signer_options
@json_option
@pass_ctx
def sign_command(ctx: CliContext, reply_id: int, leader: str | None, checked: bool,
                 password_stdin: bool, as_json: bool) -> None:
    """Sign a reply generated earlier, as its leader (checked, password again)."""
    from web.services.replies import sign_reply

    outcome = sign_reply(ctx.instance(), reply_id, actor=leader or "",
                         confirmation=_confirmation(leader, checked, password_stdin))
    document = {"reply_id": outcome.reply_id, "doc_number": outcome.doc_number,
                "files": outcome.files, "verify_url": outcome.verify_url,
                "step": outcome.step, "step_note": outcome.step_note}
    emit(as_json, document, lambda: click.echo(
        f"{outcome.doc_number}: {outcome.files['signed_pdf']}"))


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_ctx
def verify(ctx: CliContext, file: Path, as_json: bool) -> None:
    """Check a reply's signature and that it is one we issued; exit 1 when it is not valid."""
    from web.services.replies import verify_document

    document = {"file": str(file), **verify_document(ctx.instance(), file.read_bytes())}

    def human() -> None:
        state = "VALID" if document["valid"] else "NOT VALID"
        click.echo(f"{state}: intact={document['intact']} signer={document['signer']} "
                   f"doc_number={document['doc_number']} superseded_by="
                   f"{document['superseded_by']} {document['error'] or ''}".rstrip())

    emit(as_json, document, human)
    if not document["valid"]:
        sys.exit(1)


@click.command("letters")
@click.option("--without-reply", is_flag=True, help="Only letters that have no reply yet.")
@json_option
@pass_ctx
def letters_command(ctx: CliContext, without_reply: bool, as_json: bool) -> None:
    """List letters that have no reply yet, with the deadline that runs for each."""
    from web.services.replies import letters_without_reply

    if not without_reply:
        fail("only --without-reply is built so far")
    rows = letters_without_reply(ctx.instance())

    def human() -> None:
        for row in rows:
            flag = "OVERDUE" if row["overdue"] else f"{row['days_left']} days left"
            click.echo(f"{row['reg_no']}  received {row['received_on']}  "
                       f"deadline {row['deadline']} ({flag})  {'、'.join(row['petitioners'])}")

    emit(as_json, {"total": len(rows), "letters": rows}, human)


@click.command("delivered")
@click.argument("reply_id", type=int)
@click.option("--method", type=click.Choice(["邮寄", "当面", "网上"]), required=True,
              help="How the reply reached the petitioner.")
@click.option("--on", "on", type=DATE, default=None,
              help="The day it was delivered (default: today).")
@json_option
@pass_ctx
def delivered(ctx: CliContext, reply_id: int, method: str, on: dt.datetime | None,
              as_json: bool) -> None:
    """Record how and when a reply was served (the 送达回证 records it on paper)."""
    from web.services.replies import record_delivery

    instance = ctx.instance()
    day = day_or_today(on, instance)
    record_delivery(instance, reply_id, method, day, ACTOR)
    document = {"reply_id": reply_id, "delivery_method": method, "delivered_on": day.isoformat()}
    emit(as_json, document, lambda: click.echo(f"reply {reply_id}: {method} {day}"))


@click.group("certificate")
def certificate_group() -> None:
    """The office's signing certificate."""


@certificate_group.command("import")
@click.argument("p12", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="A file holding the PKCS#12 passphrase (none if omitted).")
@json_option
@pass_ctx
def import_command(ctx: CliContext, p12: Path, passphrase_file: Path | None,
                   as_json: bool) -> None:
    """Sign with a CA-issued PKCS#12 from now on; replies signed before stay verifiable."""
    from web.services.replies import import_certificate

    passphrase = passphrase_file.read_bytes().strip() if passphrase_file else b""
    document = import_certificate(ctx.instance(), p12, passphrase, actor=ACTOR)
    emit(as_json, document, lambda: click.echo(f"signing as {document['subject']}"))
