"""Helpers shared by the `govdata` command modules."""

import json
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from core.errors import FieldError, GovDataError
from core.settings import Settings

state: dict[str, Any] = {"debug": False}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")]
RoleOpt = Annotated[str, typer.Option("--role", help="citizen | civil_servant | data_steward.")]


# fields whose flag is not simply --field-name (or that are arguments)
_FLAGS = {"dialect": "--to", "id": "ID", "target": "NAME", "suggestion": "ID", "question": "QUESTION", "query": "QUERY",
          "sql": "SQL", "file": "FILE"}


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

    try:
        settings = Settings()
        if sql_row_cap is not None:
            settings = settings.with_row_cap(sql_row_cap)
        return Services(settings, interface)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "GOVDATA_" + "__".join(str(p).upper() for p in first["loc"])
        raise GovDataError(f"setting {field}: {first['msg']}") from None


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))
