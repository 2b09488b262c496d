"""`govdata users add|disable|enable|list`: web users in the shared state (issue 34), a steward's action with a
receipt. Embedded, users live in the users file (GOVDATA_USERS_FILE) and these commands say so."""

import os
from typing import Annotated

import typer

from assistant.cli.common import JsonOpt, err, print_json, services
from core.errors import GovDataError

ManagerRole = Annotated[str, typer.Option("--role", help="Who manages users: a role with users.manage.")]
STEWARD = "data_steward"

users_app = typer.Typer(help="Web users in the shared state: add, disable, enable, list.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def _password(variable: str | None) -> str:
    if variable is None:
        return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))
    value = os.environ.get(variable)
    if not value:
        raise GovDataError(f"the password variable {variable} is not set")
    return value


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The sign-in name.")],
    user_role: Annotated[str, typer.Argument(metavar="ROLE", help="The role the user acts as.")],
    password_env: Annotated[str | None, typer.Option(
        "--password-env", help="Read the password from this variable (default: ask).")] = None,
    role: ManagerRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Add a user (or set a known one's role and password, enabling it); every app server sees it at once."""
    added = services().add_user(name, user_role, _password(password_env), role=role)
    if as_json:
        print_json(added)
        return
    err(f"user {added['name']} ({added['role']}) {added['status']}")


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="The sign-in name.")], role: ManagerRole = STEWARD,
                  as_json: JsonOpt = False) -> None:
    """Disable a user: every app server refuses their next request."""
    _set(name, False, role, as_json)


@users_app.command("enable")
def users_enable(name: Annotated[str, typer.Argument(help="The sign-in name.")], role: ManagerRole = STEWARD,
                 as_json: JsonOpt = False) -> None:
    """Enable a disabled user again."""
    _set(name, True, role, as_json)


def _set(name: str, enabled: bool, role: str, as_json: bool) -> None:
    changed = services().set_user_enabled(name, enabled=enabled, role=role)
    if as_json:
        print_json(changed)
        return
    err(f"user {changed['name']} ({changed['role']}) {changed['status']}")


@users_app.command("list")
def users_list(role: ManagerRole = STEWARD, as_json: JsonOpt = False) -> None:
    """Every user with role and status; never a password hash."""
    users = services().list_users(role=role)
    if as_json:
        print_json(users)
        return
    for user in users:
        typer.echo(f"{user['name']}  {user['role']}  {user['status']}  changed {user['changed'][:10]}")
