"""`govdata users add|list|disable|enable` (issue 33; `enable` from issue 34): users with a role and an organisation,
a steward's action with a receipt. Embedded they live in the users file; with shared state (issue 34) in the state's
`users` table, so every app server sees a change at once. `python -m assistant.policy.users` still prints an entry
for a hand-written file."""

import os
from typing import Annotated

import typer

from assistant.cli.common import JsonOpt, err, print_json, role_option, services
from core.errors import FieldError

ManagerRole = Annotated[str, role_option("Who manages users: a role with users.manage.")]
ActingRole = Annotated[str, role_option("Who adds the user: a role with users.manage.", "--by-role")]
STEWARD = "data_steward"

users_app = typer.Typer(help="Users of the web app and of GOVDATA_USER: a role and an organisation each.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The sign-in name; never reused.")],
    user_role: Annotated[str, typer.Option("--role", help="The new user's role (citizen, civil_servant, operator, "
                                           "data_steward, or one of GOVDATA_ROLES_FILE).")],
    password_env: Annotated[str, typer.Option("--password-env", metavar="VAR",
                                              help="The environment variable that holds the password.")],
    org: Annotated[str | None, typer.Option("--org", help="The user's organisation (see orgs add).")] = None,
    role: ActingRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Add a user to the users file (GOVDATA_USERS_FILE, else GOVDATA_HOME/users.json, which then replaces the
    bundled demo users) or, with shared state, to the state's users; the web app and GOVDATA_USER see them at the
    next request."""
    password = os.environ.get(password_env)
    if not password:
        raise FieldError("password_env", "the variable is not set or empty", password_env)
    user = services().add_user(name, user_role, password=password, org=org, role=role)
    if as_json:
        print_json(user)
        return
    err(f"added: {user['name']} ({user['role']}" + (f", {user['org']})" if user["org"] else ")"))


@users_app.command("list")
def users_list(role: ManagerRole = STEWARD, as_json: JsonOpt = False) -> None:
    """Every user with their role, organisation and whether they are disabled; never a password hash."""
    users = services().list_users(role=role)
    if as_json:
        print_json(users)
        return
    for user in users:
        typer.echo(f"{user['name']}  {user['role']}  {user['org'] or '-'}" + ("  disabled" if user["disabled"]
                                                                              else ""))


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    role: ManagerRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Disable a user: their next request, sign-in or GOVDATA_USER command is refused."""
    user = services().disable_user(name, role=role)
    if as_json:
        print_json(user)
        return
    err(f"disabled: {user['name']}")


@users_app.command("enable")
def users_enable(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    role: ManagerRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Enable a disabled user again: they may sign in and act as GOVDATA_USER at their next request."""
    user = services().set_user_enabled(name, enabled=True, role=role)
    if as_json:
        print_json(user)
        return
    err(f"enabled: {user['name']}")
