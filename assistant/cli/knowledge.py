"""`govdata knowledge propose|list|show|approve|reject|import|recheck|demand`: the knowledge loop (issue 32) as thin
shells over the knowledge use cases of Services."""

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.common import JsonOpt, RoleOpt, err, print_json, services
from assistant.policy.roles import DEFAULT_ROLE
from core.errors import FieldError

knowledge_app = typer.Typer(help="Knowledge for SQL questions: propose, review, import, re-check; what people need.",
                            no_args_is_help=True)
STEWARD = "data_steward"
StewardRole = Annotated[str, typer.Option("--role", help="Who reviews: a role with knowledge.review.")]
IdArg = Annotated[str, typer.Argument(metavar="ID", help="The item's id (k12).")]
Expires = Annotated[str | None, typer.Option("--expires", help="Not used after this day (YYYY-MM-DD).")]


def register(app: typer.Typer) -> None:
    app.add_typer(knowledge_app, name="knowledge")


def _line(item: Any) -> str:
    tables = ", ".join(item.tables) or "-"
    return f"{item.id:<6} {item.state():<9} {item.kind:<4}  {item.subject[:60]}  [{tables}]" + (
        f"  ({item.reason[:80]})" if item.reason else "")


def _show(item: Any, as_json: bool) -> None:
    if as_json:
        print_json(item.as_dict())
        return
    typer.echo(_line(item))
    if item.sql:
        typer.echo(f"    sql: {item.sql}")


@knowledge_app.command("propose")
def knowledge_propose(
    question: Annotated[str, typer.Option("--question", help="A pair: the question the SQL answers.")] = "",
    sql: Annotated[str, typer.Option("--sql", help="A pair's SQL, or a term's SQL expression on --table.")] = "",
    term: Annotated[str, typer.Option("--term", help="A term, e.g. 'active licence' or 户籍人口.")] = "",
    definition: Annotated[str, typer.Option("--definition", help="What the term means.")] = "",
    note: Annotated[str, typer.Option("--note", help="A note on how --table stores things.")] = "",
    table: Annotated[list[str] | None, typer.Option("--table", help="A table the term or note is about "
                                                                    "(repeat for more).")] = None,
    expires: Expires = None,
    role: RoleOpt = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """Propose a question -> SQL pair (--question, --sql), a term (--term, --definition, optional --sql and
    --table) or a table note (--note, --table); it must pass the guard and run for your role. A steward reviews it."""
    kinds = [k for k, given in (("pair", question), ("term", term), ("note", note)) if given]
    if len(kinds) != 1:
        raise FieldError("question", "give one of --question (a pair), --term (a term) or --note (a note)")
    item = services().knowledge_propose(kinds[0], question=question, sql=sql, term=term,
                                        text=definition if kinds[0] == "term" else note, tables=table or [],
                                        expires=expires, role=role)
    if as_json:
        print_json(item.as_dict())
        return
    err(f"proposed {item.id}: a steward other than you approves or rejects it")


@knowledge_app.command("list")
def knowledge_list(
    status: Annotated[str | None, typer.Option("--status", help="proposed, approved, rejected, suspended, flagged "
                                                                "or expired.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="pair, term or note.")] = None,
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """The queue: proposals, then suspended and flagged items (with the reason), then the rest, newest first."""
    items = services().knowledge_items(role=role, status=status, kind=kind)
    if as_json:
        print_json([i.as_dict() for i in items])
        return
    if not items:
        typer.echo("no knowledge items")
    for item in items:
        typer.echo(_line(item))


@knowledge_app.command("show")
def knowledge_show(item_id: IdArg, role: StewardRole = STEWARD, as_json: JsonOpt = False) -> None:
    """One item in full, with its history (for a steward, or the one who proposed it)."""
    item = services().knowledge_item(item_id, role=role)
    if as_json:
        print_json(item.as_dict())
        return
    for key, value in item.as_dict().items():
        if key != "history":
            typer.echo(f"{key}: {value}")
    for entry in item.history:
        typer.echo(f"  {entry.get('time', '')}  {entry.get('status', ''):<9} by {entry.get('user', '')}"
                   f" ({entry.get('role', '')})" + (f": {entry['reason']}" if entry.get("reason") else ""))


@knowledge_app.command("approve")
def knowledge_approve(
    item_id: IdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the item's history).")] = "",
    expires: Expires = None,
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Approve an item someone else proposed; its SQL must pass the guard and run again for you."""
    item = services().knowledge_review(item_id, approve=True, reason=reason, expires=expires, role=role)
    _show(item, as_json)


@knowledge_app.command("reject")
def knowledge_reject(
    item_id: IdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (required; the proposer reads it).")] = "",
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Reject an item (or withdraw an approved one) with a reason."""
    item = services().knowledge_review(item_id, approve=False, reason=reason, role=role)
    _show(item, as_json)


@knowledge_app.command("import")
def knowledge_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help='JSONL lines {"question", "sql"}, optional "note".')],
    db: Annotated[Path | None, typer.Option("--db", help="The ad-hoc database the pairs belong to (its "
                                                         "fingerprint).")] = None,
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Import verified pairs as approved items; each must pass the guard and run. A refused line is named with
    its reason (exit 1); the good lines land."""
    report = services().knowledge_import(file, db=db, role=role)
    for refused in report.refused:
        err(f"error: {file}:{refused['line']}: {refused['reason']}")
    if as_json:
        print_json(report.as_dict())
    else:
        err(f"imported {report.imported}, refused {len(report.refused)}")
    if report.refused:
        raise typer.Exit(1)


@knowledge_app.command("recheck")
def knowledge_recheck(role: StewardRole = STEWARD, as_json: JsonOpt = False) -> None:
    """Run every item whose tables changed again: suspended when it fails, flagged when its result changed shape."""
    outcomes = services().knowledge_recheck(role=role)
    if as_json:
        print_json(outcomes)
        return
    if not outcomes:
        typer.echo("nothing to re-check")
    for outcome in outcomes:
        typer.echo(f"{outcome['id']:<6} {outcome['status']:<9} {outcome['reason']}")


@knowledge_app.command("demand")
def knowledge_demand(
    since: Annotated[str | None, typer.Option("--since", help="From YYYY[-MM[-DD]] (UTC).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most questions shown.")] = 50,
    role: StewardRole = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Questions that failed or were "not available", with counts (never who asked), most asked first."""
    found = services().knowledge_demand(role=role, since=since, limit=limit)
    if as_json:
        print_json(found)
        return
    if not found:
        typer.echo("no failed or unavailable questions")
    for entry in found:
        typer.echo(f"{entry['count']:>5}  {entry['kind']:<13}  {entry['last']}  {entry['question'][:100]}")
