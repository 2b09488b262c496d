"""`govdata orgs ...` and `govdata grants ...` (issue 33): organisations, grants of sharing and authorised
operation, and requests for access. Thin shells over the grant use cases of Services; every change leaves a
receipt and bad input is one line naming the field, with nothing stored."""

from typing import Annotated, Any

import typer

from assistant.cli.common import JsonOpt, err, print_json, role_option, services
from assistant.policy.roles import DEFAULT_ROLE

StewardRole = Annotated[str, role_option("Who decides: a role with grants.manage.")]
CallerRole = Annotated[str, role_option("Who reads or asks (GOVDATA_USER's role when it names a user).")]
STEWARD = "data_steward"

Until = Annotated[str, typer.Option("--until", help="Last day of the term, YYYY-MM-DD.")]
From = Annotated[str | None, typer.Option("--from", help="First day of the term, YYYY-MM-DD (default today).")]
Columns = Annotated[str | None, typer.Option(
    "--columns", help="a,b: only these columns (sensitive ones only if listed; default every non-sensitive one).")]
Rows = Annotated[str | None, typer.Option(
    "--rows", help="A predicate selecting the rows, e.g. \"district = 'd1'\" (comparisons, IN, BETWEEN, LIKE, "
                   "IS NULL, AND, OR, NOT; no function, no subquery).")]
Purpose = Annotated[str, typer.Option("--purpose", help="What the data is for (shown in the disclosure report).")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why (kept in the grant's history).")]
GrantId = Annotated[str, typer.Argument(metavar="ID", help="The grant's id (g0001, ...).")]
RequestId = Annotated[str, typer.Argument(metavar="ID", help="The request's id (r0001, ...).")]

orgs_app = typer.Typer(help="Organisations (departments and licensed operators) that grants are given to.",
                       no_args_is_help=True)
grants_app = typer.Typer(help="Grants of sharing and authorised operation: a scope, a term and an exit.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(orgs_app, name="orgs")
    app.add_typer(grants_app, name="grants")


@orgs_app.command("add")
def orgs_add(
    name: Annotated[str, typer.Argument(help="A short name (lower-case letters, digits, '.', '_', '-').")],
    kind: Annotated[str, typer.Option("--kind", help="department | operator.")],
    contact: Annotated[str, typer.Option("--contact", help="Who answers for the use of its grants.")],
    title: Annotated[str | None, typer.Option("--title", help="Its full name.")] = None,
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Register a department or a licensed operator, with the contact responsible for its grants."""
    org = services().add_organisation(name, kind=kind, contact=contact, title=title, role=role)
    _done(org, as_json, f"added: organisation {org['name']} ({org['kind']})")


@orgs_app.command("list")
def orgs_list(role: StewardRole = STEWARD, as_json: JsonOpt = False) -> None:
    """Every organisation with its kind, contact and number of active grants."""
    orgs = services().organisations(role=role)
    if as_json:
        print_json(orgs)
        return
    for org in orgs:
        typer.echo(f"{org['name']}  {org['kind']}  {org['contact']}  active grants: {org['active_grants']}")


@grants_app.command("create")
def grants_create(
    org: Annotated[str, typer.Argument(help="The organisation given access.")],
    dataset: Annotated[str | None, typer.Argument(
        metavar="[DATASET]",
        help="An approved table's name or a catalog record's id (or --theme / --publisher).")] = None,
    purpose: Purpose = "",
    until: Until = "",
    start: From = None,
    columns: Columns = None,
    rows: Rows = None,
    raw: Annotated[bool, typer.Option("--raw", help="Listed sensitive columns unmasked.")] = False,
    theme: Annotated[str | None, typer.Option("--theme", help="Every table and record of this theme.")] = None,
    publisher: Annotated[str | None, typer.Option("--publisher", help="Every table and record of this "
                                                                      "publisher.")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Who answers for it (default the "
                                                                  "organisation's contact).")] = None,
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Grant ORG read access to one dataset, a theme or a publisher, for a purpose, until a day."""
    grant = services().create_grant(org, dataset, theme=theme, publisher=publisher, purpose=purpose, until=until,
                                    start=start, columns=columns, rows=rows, raw=raw, contact=contact, role=role)
    _done(grant, as_json, f"created: grant {grant['id']} for {grant['org']} ({grant['scope']} {grant['target']}) "
                          f"{grant['start']} to {grant['until']}")


@grants_app.command("list")
def grants_list(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's.")] = None,
    state: Annotated[str | None, typer.Option(
        "--state", help="active | not started | expired | suspended | revoked (today).")] = None,
    role: CallerRole = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """Grants, newest first: all for a steward, your organisation's otherwise."""
    grants = services().grants(role=role, org=org, state=state)
    if as_json:
        print_json(grants)
        return
    for grant in grants:
        typer.echo(_line(grant))


@grants_app.command("show")
def grants_show(grant_id: GrantId, role: CallerRole = DEFAULT_ROLE, as_json: JsonOpt = False) -> None:
    """One grant in full, with the earlier versions of its term and scope."""
    grant = services().grant(grant_id, role=role)
    if as_json:
        print_json(grant)
        return
    for key, value in grant.items():
        if key == "history":
            for old in value:
                typer.echo(f"history: version {old['version']} ({old['status']}, {old['start']} to {old['until']}) "
                           f"replaced {old['replaced'][:10]} by {old['replaced_by']}: {old['change']}")
        elif value not in ("", [], None):
            typer.echo(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")


@grants_app.command("revoke")
def grants_revoke(grant_id: GrantId, reason: Reason = None, role: StewardRole = STEWARD,
                  as_json: JsonOpt = False) -> None:
    """End a grant for good: its next use is refused everywhere (CLI, web app, API, MCP)."""
    _done(services().revoke_grant(grant_id, reason=reason, role=role), as_json, f"revoked: {grant_id}")


@grants_app.command("suspend")
def grants_suspend(grant_id: GrantId, reason: Reason = None, role: StewardRole = STEWARD,
                   as_json: JsonOpt = False) -> None:
    """Stop a grant until it is resumed: its next use is refused."""
    _done(services().suspend_grant(grant_id, reason=reason, role=role), as_json, f"suspended: {grant_id}")


@grants_app.command("resume")
def grants_resume(grant_id: GrantId, reason: Reason = None, role: StewardRole = STEWARD,
                  as_json: JsonOpt = False) -> None:
    """Resume a suspended grant (it opens again inside its term)."""
    _done(services().resume_grant(grant_id, reason=reason, role=role), as_json, f"resumed: {grant_id}")


@grants_app.command("amend")
def grants_amend(
    grant_id: GrantId,
    until: Annotated[str | None, typer.Option("--until", help="A new last day, YYYY-MM-DD.")] = None,
    start: From = None,
    columns: Columns = None,
    rows: Rows = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="A new purpose.")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="A new contact.")] = None,
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Change a grant's term, columns, rows, purpose or contact; the old version stays in its history."""
    grant = services().amend_grant(grant_id, until=until, start=start, columns=columns, rows=rows, purpose=purpose,
                                   contact=contact, role=role)
    _done(grant, as_json, f"amended: {grant_id} (version {grant['version']})")


@grants_app.command("request")
def grants_request(
    dataset: Annotated[str, typer.Argument(help="The approved table's name or the catalog record's id.")],
    purpose: Purpose,
    until: Until,
    start: From = None,
    columns: Columns = None,
    rows: Rows = None,
    role: CallerRole = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """Ask for access to DATASET for your organisation (GOVDATA_USER's); a steward approves or rejects it."""
    asked = services().request_grant(dataset, purpose=purpose, until=until, start=start, columns=columns, rows=rows,
                                     role=role)
    _done(asked, as_json, f"requested: {asked['id']} ({asked['target']} until {asked['until']}); a steward decides")


@grants_app.command("requests")
def grants_requests(
    status: Annotated[str | None, typer.Option("--status", help="pending | approved | rejected.")] = None,
    role: CallerRole = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """Requests for access, oldest first: the queue for a steward, your organisation's (with outcomes) otherwise."""
    found = services().requests(role=role, status=status)
    if as_json:
        print_json(found)
        return
    for asked in found:
        typer.echo(f"{asked['id']}  {asked['status']}  {asked['org']}  {asked['target']}  until {asked['until']}  "
                   f"{asked['purpose'][:60]}" + (f"  -> {asked['grant']}" if asked["grant"] else "")
                   + (f"  ({asked['reason']})" if asked["reason"] else ""))


@grants_app.command("approve")
def grants_approve(
    request_id: RequestId,
    until: Annotated[str | None, typer.Option("--until", help="A shorter term's last day.")] = None,
    start: From = None,
    columns: Annotated[str | None, typer.Option("--columns", help="Fewer columns than asked for.")] = None,
    rows: Annotated[str | None, typer.Option("--rows", help="A predicate the rows must also meet.")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Who answers for it.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="What the requester is told.")] = None,
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Approve a pending request as a grant, possibly narrowed (columns, rows, term)."""
    grant = services().approve_request(request_id, until=until, start=start, columns=columns, rows=rows,
                                       contact=contact, note=note, role=role)
    _done(grant, as_json, f"approved: {request_id} as grant {grant['id']}")


@grants_app.command("reject")
def grants_reject(
    request_id: RequestId,
    reason: Annotated[str, typer.Option("--reason", help="Why (the requester sees it).")],
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Reject a pending request with a reason."""
    _done(services().reject_request(request_id, reason=reason, role=role), as_json, f"rejected: {request_id}")


def _done(value: dict[str, Any], as_json: bool, line: str) -> None:
    if as_json:
        print_json(value)
    else:
        err(line)


def _line(grant: dict[str, Any]) -> str:
    columns = f" ({', '.join(grant['columns'])})" if grant["columns"] else ""
    rows = " some rows" if grant["rows"] else ""
    return (f"{grant['id']}  {grant['state']}  {grant['org']}  {grant['scope']}: {grant['target']}{columns}{rows}  "
            f"{grant['start']} to {grant['until']}  {grant['purpose'][:60]}")
