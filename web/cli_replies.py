"""Reply commands: render a reply, verify a signed one, list letters still owed an answer."""

from __future__ import annotations

from pathlib import Path

import click

from web.cli_common import ACTOR, CliContext, emit, fail, json_option, pass_ctx


@click.command()
@click.argument("letter")
@click.option("--template", required=True, help="Template name, e.g. acknowledgement.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the files (default: the instance's replies/).")
@json_option
@pass_ctx
def reply(ctx: CliContext, letter: str, template: str, out: Path | None, as_json: bool) -> None:
    """Render a reply for a letter (id or registration number)."""
    from web.replies import generate_reply, resolve_letter

    instance = ctx.instance()
    letter_id = resolve_letter(instance, letter)
    outcome = generate_reply(instance, letter_id, template, out_dir=out, actor=ACTOR)
    document = {"reply_id": outcome.reply_id, "letter_id": outcome.letter_id,
                "doc_number": outcome.doc_number, "files": outcome.files}
    emit(as_json, document, lambda: click.echo(
        f"{outcome.doc_number}: {outcome.files['docx']}"))


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@json_option
@pass_ctx
def verify(ctx: CliContext, file: Path, as_json: bool) -> None:
    """Check a reply's signature and that it is one we issued (not built yet)."""
    fail("signature verification is not built yet (issue: official replies)")


@click.command("letters")
@click.option("--without-reply", is_flag=True, help="Only letters that have no reply yet.")
@json_option
@pass_ctx
def letters_command(ctx: CliContext, without_reply: bool, as_json: bool) -> None:
    """List letters (not built yet)."""
    fail("listing letters is not built yet (issue: official replies)")
