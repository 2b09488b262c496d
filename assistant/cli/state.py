"""`govdata state status|migrate`: where shared state lives, and the one-time copy of an embedded home into
PostgreSQL (issue 34)."""

from typing import Annotated, Literal

import typer

from assistant.cli.common import JsonOpt, err, print_json, services

state_app = typer.Typer(help="Shared state: where it lives, and moving an embedded home into PostgreSQL.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(state_app, name="state")


@state_app.command("status")
def state_status(as_json: JsonOpt = False) -> None:
    """Embedded (GOVDATA_HOME) or PostgreSQL: the server, schema and applied migrations."""
    status = services().state_status()
    if as_json:
        print_json(status)
        return
    if status["backend"] == "embedded":
        typer.echo(f"embedded: {status['home']}")
    else:
        typer.echo(f"postgres: {status['server']} schema {status['schema']} migrations "
                   f"{','.join(str(v) for v in status['migrations'])}")
        if "warning" in status:
            err(f"warning: {status['warning']}")


@state_app.command("migrate")
def state_migrate(
    to: Annotated[Literal["postgres"], typer.Option("--to", help="Where to: postgres (GOVDATA_STATE__POSTGRES_DSN).")],
    as_json: JsonOpt = False,
) -> None:
    """Copy this home's audit chain, users, tokens, decisions, approved tables and content table into the shared
    state; run it again after an interruption (it copies only what is missing). The chain is verified after."""
    report = services().migrate_state(progress=None if as_json else err)
    if as_json:
        print_json(report.as_dict())
        return
    verified = report.verification
    assert verified is not None
    err(f"audit chain in PostgreSQL verifies: {verified.entries} receipts, head {verified.head_id}:"
        f"{verified.head_hash[:16]}…")
