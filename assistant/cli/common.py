"""Helpers shared by the `govdata` command modules."""

import json
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from core.errors import FieldError, GovDataError
from core.settings import Settings

state: dict[str, Any] = {"debug": False}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]


def acting_role(ctx: typer.Context, param: typer.CallbackParam, value: str) -> str:
    """The role a command acts in (issue 33). When GOVDATA_USER names a user of the users file, the CLI acts as
    that user: their role unless `--role` is given, and `--role` may only lower it; a disabled user may not act.
    Otherwise the CLI is its operator's tool and trusts `--role`, as before."""
    settings = _settings()
    if not settings.user:
        return value
    from assistant.policy.roles import get_role
    from assistant.policy.users import users_of

    user = users_of(settings)().get(settings.user)
    if user is None:
        return value
    if user.disabled:
        raise GovDataError(f"GOVDATA_USER {user.name!r} is disabled; a steward ends or restores users")
    source = ctx.get_parameter_source(param.name or "role")
    if source is None or source.name in ("DEFAULT", "DEFAULT_MAP"):  # by name: click re-exports its enum
        return user.role
    if value != user.role and not get_role(value, settings.roles_file).within(get_role(user.role,
                                                                                       settings.roles_file)):
        raise GovDataError(f"--role {value}: above the role of GOVDATA_USER {user.name!r} ({user.role}); "
                           "--role may only lower it")
    return value


def role_option(help: str, flag: str = "--role") -> Any:
    """A `--role` option that acts as GOVDATA_USER's user when it names one (`acting_role`)."""
    return typer.Option(flag, help=help, callback=acting_role)


RoleOpt = Annotated[str, role_option("citizen | civil_servant | operator | data_steward (GOVDATA_USER's role when "
                                     "it names a user).")]


# fields whose flag is not simply --field-name (or that are arguments)
_FLAGS = {"dialect": "--to", "id": "ID", "target": "NAME", "suggestion": "ID", "question": "QUESTION", "query": "QUERY",
          "sql": "SQL", "organisation": "ORG", "dataset_id": "DATASET", "user": "GOVDATA_USER", "user_role": "--role"}


def error_text(exc: Exception) -> str:
    """An error as the command line says it: a field error names the flag the user typed."""
    if isinstance(exc, FieldError):
        return exc.named(_FLAGS.get(exc.field, "--" + exc.field.replace("_", "-")))
    return str(exc)


def err(message: str) -> None:
    typer.echo(message, err=True)


def services(sql_row_cap: int | None = None, interface: str = "cli") -> Any:
    """Services over the environment's settings; `sql_row_cap` overrides the row cap (evaluations);
    `interface` is written on every audit receipt (cli, eval, ui)."""
    from assistant.services import Services

    settings = _settings()
    if sql_row_cap is not None:
        settings = settings.with_row_cap(sql_row_cap)
    return Services(settings, interface)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "GOVDATA_" + "__".join(str(p).upper() for p in first["loc"])
        raise GovDataError(f"setting {field}: {first['msg']}") from None


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))
