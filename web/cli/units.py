"""Who handles what: units (县、乡镇、村/社区、组), users, and the routing table (属地管理)."""

from __future__ import annotations

import sys
from typing import Any

import click

from records import LEVELS, ROLES, Unit, units
from web.cli.common import ACTOR, CliContext, emit, fail, json_option, pass_ctx
from web.services import access, admin

ANY = "*"  # a routing row's township or category that matches any


@click.group("unit")
def unit_group() -> None:
    """Handling units (承办单位) in the four-level network: county, township, village, group."""


@unit_group.command("add")
@click.argument("name")
@click.option("--parent", default=None, help="The unit it belongs to (e.g. its township).")
@click.option("--level", type=click.Choice(LEVELS), default="county", show_default=True,
              help="county 县, township 乡镇, village 村/社区, group 组.")
@json_option
@pass_ctx
def unit_add(ctx: CliContext, name: str, parent: str | None, level: str, as_json: bool) -> None:
    """Add a handling unit."""
    instance = ctx.instance()
    with instance.db.session() as session:
        above = units.get_unit(session, parent) if parent else None
        unit = admin.add_unit(session, name, level=level, parent_id=above.id if above else None,
                              actor=ACTOR)
        document = _unit_dict(unit, above)
    emit(as_json, document, lambda: click.echo(f"unit {name} ({level}) added"))


@unit_group.command("list")
@json_option
@pass_ctx
def unit_list(ctx: CliContext, as_json: bool) -> None:
    """Every unit with its level and parent."""
    instance = ctx.instance()
    with instance.db.session() as session:
        listed = [_unit_dict(u, session.get(Unit, u.parent_id) if u.parent_id else None)
                  for u in units.list_units(session)]

    def human() -> None:
        for u in listed:
            click.echo(f"{u['level']:<9} {u['name']}" + (f"  ⊂ {u['parent']}" if u["parent"]
                                                          else ""))

    emit(as_json, {"units": listed}, human)


def _unit_dict(unit: Unit, parent: Unit | None) -> dict[str, Any]:
    return {"unit_id": unit.id, "name": unit.name, "level": unit.level,
            "parent": parent.name if parent else None}


@click.group("user")
def user_group() -> None:
    """People who sign in to the web application."""


def _password_option(command: Any) -> Any:
    return click.option("--password-stdin", is_flag=True,
                        help="Read the password from standard input (for scripts).")(command)


def _read_password(from_stdin: bool, username: str) -> str:
    """The new password from stdin or asked twice at the terminal; refused when too weak."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        access.check_password_strength(password, username)
    except ValueError as e:
        fail(f"password refused: {e}")
    return password


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--unit", default=None, help="The unit the user works in.")
@click.option("--display-name", default="", help="The name written on documents (王建军).")
@_password_option
@click.option("--no-password", is_flag=True, help="Add without a password (set it later).")
@json_option
@pass_ctx
def user_add(ctx: CliContext, name: str, role: str, unit: str | None, display_name: str,
             password_stdin: bool, no_password: bool, as_json: bool) -> None:
    """Add a user who signs in with NAME and a password."""
    password = None if no_password else _read_password(password_stdin, name)
    instance = ctx.instance()
    with instance.db.session() as session:
        the_unit = units.get_unit(session, unit) if unit else None
        user = admin.add_user(session, username=name, display_name=display_name, role=role,
                              unit_id=the_unit.id if the_unit else None, password=password,
                              actor=ACTOR, console=True)  # the operator: no confirmation
        document = {"user_id": user.id, "username": user.username,
                    "display_name": user.display_name, "role": role, "unit": unit,
                    "can_sign_in": password is not None}
    emit(as_json, document, lambda: click.echo(f"user {name} ({role}) added"))


@user_group.command("passwd")
@click.argument("name")
@_password_option
@pass_ctx
def user_passwd(ctx: CliContext, name: str, password_stdin: bool) -> None:
    """Set a user's password (their open sessions end)."""
    password = _read_password(password_stdin, name)
    with ctx.instance().db.session() as session:
        user = units.get_user(session, name)
        admin.reset_password(session, user.id, password, actor=ACTOR)
        admin.set_active(session, user.id, True, actor=ACTOR, actor_id=0)
    click.echo(f"password of {name} set")


@user_group.command("disable")
@click.argument("name")
@pass_ctx
def user_disable(ctx: CliContext, name: str) -> None:
    """Stop a user signing in (their open sessions end; their records stay)."""
    with ctx.instance().db.session() as session:
        admin.set_active(session, units.get_user(session, name).id, False, actor=ACTOR,
                         actor_id=0)
    click.echo(f"user {name} disabled")


@click.group("route")
def route_group() -> None:
    """The routing table: which unit and leader handle a township's matters of a category."""


@route_group.command("list")
@json_option
@pass_ctx
def route_list(ctx: CliContext, as_json: bool) -> None:
    """The routing table; * matches any township or category."""
    instance = ctx.instance()
    with instance.db.session() as session:
        listed = [{"township": r["township"] or ANY, "category": r["category"] or ANY,
                   "unit": r["unit"], "lead": r["lead_username"]}
                  for r in admin.list_routes(session)]

    def human() -> None:
        for r in listed:
            click.echo(f"{r['township']:<8} {r['category']:<10} → {r['unit']}"
                       + (f"（{r['lead']}）" if r["lead"] else ""))
        click.echo(f"{len(listed)} route(s)")

    emit(as_json, {"routes": listed}, human)


@route_group.command("set")
@click.argument("township")
@click.argument("category")
@click.argument("unit")
@click.option("--lead", default=None, metavar="USER", help="The responsible leader (包案领导).")
@json_option
@pass_ctx
def route_set(ctx: CliContext, township: str, category: str, unit: str, lead: str | None,
              as_json: bool) -> None:
    """Add or change one row; give * as TOWNSHIP or CATEGORY to match any."""
    instance = ctx.instance()
    township, category = ("" if v == ANY else v.strip() for v in (township, category))
    with instance.db.session() as session:
        the_unit = units.get_unit(session, unit)
        leader = units.get_user(session, lead) if lead else None
        admin.set_route(session, township=township, category=category, unit_id=the_unit.id,
                        lead_id=leader.id if leader else None, actor=ACTOR)
    document = {"township": township or ANY, "category": category or ANY, "unit": unit,
                "lead": lead}
    emit(as_json, document, lambda: click.echo(
        f"{document['township']} {document['category']} → {unit}"))
