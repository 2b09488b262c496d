"""`govdata tokens create|list|revoke`: API tokens that carry a role (issue 31), a steward's action with a receipt."""

from typing import Annotated

import typer

from assistant.cli.common import JsonOpt, err, print_json, role_option, services

ManagerRole = Annotated[str, role_option("Who manages tokens: a role with tokens.manage.")]
STEWARD = "data_steward"

tokens_app = typer.Typer(help="Tokens for the REST API and the MCP server: each carries a role.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="A name for the token (who or what holds it); never reused.")],
    token_role: Annotated[str, typer.Argument(metavar="ROLE", help="The role calls with this token act as.")],
    expires: Annotated[int | None, typer.Option(
        "--expires", min=1, max=3650, help="Days until it expires (default GOVDATA_API__TOKEN_DAYS).")] = None,
    org: Annotated[str | None, typer.Option(
        "--org", help="An organisation: the token's calls carry its grants (decided at each call).")] = None,
    role: ManagerRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Make a token; its secret is printed this once (only its hash is kept)."""
    token, secret = services().create_token(name, token_role, days=expires, org=org, role=role)
    if as_json:
        print_json({"token": secret} | token)
        return
    typer.echo(secret)
    err(f"token {token['name']} ({token['role']}) until {token['expires'][:10]}: shown once, store it now; send it "
        "as Authorization: Bearer TOKEN")


@tokens_app.command("list")
def tokens_list(role: ManagerRole = STEWARD, as_json: JsonOpt = False) -> None:
    """Every token with its role, dates and status (active, expired, revoked); never a secret."""
    tokens = services().list_tokens(role=role)
    if as_json:
        print_json(tokens)
        return
    for token in tokens:
        typer.echo(f"{token['name']}  {token['role']}  {token['status']}  created {token['created'][:10]}  "
                   f"expires {token['expires'][:10]}" + (f"  revoked {token['revoked'][:10]}" if token["revoked"]
                                                         else ""))


@tokens_app.command("revoke")
def tokens_revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    role: ManagerRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a token: its next request is refused (401), also on a running server."""
    token = services().revoke_token(name, role=role)
    if as_json:
        print_json(token)
        return
    err(f"revoked: {token['name']} ({token['role']})")
