"""`govdata audit list|show|verify|export|replay`: read and check the tamper-evident receipt log."""

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli.common import JsonOpt, err, print_json, role_option, services
from core.errors import GovDataError

ReaderRole = Annotated[str, role_option("Who reads the log: a role with audit.read.")]
READER = "data_steward"

audit_app = typer.Typer(help="Audit receipts: who asked what, from which sources and data versions.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")


def _one_line(receipt: Any) -> str:
    question = (receipt.question or receipt.sql).replace("\n", " ")[:70]
    rows = f" rows={receipt.row_count}" if receipt.row_count is not None else ""
    return (f"{receipt.id:>6}  {receipt.time[:19]}  {receipt.user}/{receipt.role}  {receipt.action}  "
            f"{receipt.outcome}{rows}  {question}")


@audit_app.command("list")
def audit_list(
    user: Annotated[str | None, typer.Option("--user", help="Only this user.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="On or after YYYY-MM-DD[THH:MM] (UTC).")] = None,
    action: Annotated[str | None, typer.Option("--action", help="ask, datasets.search, sql.ask, sql.run, ...")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100000, help="Most receipts, newest first.")] = 50,
    role: ReaderRole = READER,
    as_json: JsonOpt = False,
) -> None:
    """Recent receipts, newest first."""
    receipts = services().audit_receipts(role=role, of_user=user, since=since, action=action, limit=limit + 1)
    shown = receipts[:limit]
    if as_json:
        print_json([r.as_dict() for r in shown])
    else:
        for receipt in shown:
            typer.echo(_one_line(receipt))
    if len(receipts) > limit:
        err(f"showing the newest {limit} receipts; there are more (--limit, --since)")


@audit_app.command("show")
def audit_show(
    receipt_id: Annotated[int, typer.Argument(metavar="ID", help="Receipt number.")],
    role: ReaderRole = READER,
    as_json: JsonOpt = False,
) -> None:
    """One receipt in full."""
    receipt = services().audit_receipt(receipt_id, role=role)
    if as_json:
        print_json(receipt.as_dict())
        return
    for key, value in receipt.as_dict().items():
        typer.echo(f"{key}: {value}")


@audit_app.command("verify")
def audit_verify(
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", help="A head recorded earlier (HASH or ID:HASH from `audit head`) that must still be "
                              "in the log.")] = None,
    role: ReaderRole = READER,
    as_json: JsonOpt = False,
) -> None:
    """Recompute the hash chain; name the first edited, deleted or reordered entry (exit 1). Also checks the
    head's signature and the witness file when they are configured."""
    result, head = services().audit_verify(role=role, expect_head=expect_head)
    if as_json:
        print_json(result.as_dict() | {"head": head})
    elif result.ok:
        typer.echo(f"ok: {result.entries} receipts, chain intact; head {result.head_id} {result.head_hash}")
    else:
        err(f"tampered: first bad entry {result.first_bad_id}: {result.problem}")
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("head")
def audit_head(as_json: JsonOpt = False) -> None:
    """The newest receipt's id and hash (signed with GOVDATA_AUDIT__KEY_FILE when set): copy it somewhere the
    log's writers cannot reach, and check it later with `audit verify --expect-head ID:HASH`."""
    head = services().audit_head()
    if as_json:
        print_json(head)
        return
    typer.echo(f"{head['id']}:{head['hash']}" + (f"  signature {head['signature']}" if "signature" in head else ""))


@audit_app.command("keygen")
def audit_keygen(
    path: Annotated[Path, typer.Argument(help="Where to write the key: outside GOVDATA_HOME, readable only by "
                                              "the service account.")],
) -> None:
    """Write a new random key for signing the audit head (then set GOVDATA_AUDIT__KEY_FILE to it)."""
    from assistant.audit import write_key

    home = services().settings.home.expanduser().resolve()
    if home in path.expanduser().resolve().parents:
        raise GovDataError(f"{path}: the key must lie outside GOVDATA_HOME ({home})")
    write_key(path)
    err(f"wrote a new audit key to {path} (mode 600); set GOVDATA_AUDIT__KEY_FILE={path}")


@audit_app.command("export")
def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
    role: ReaderRole = READER,
) -> None:
    """Every receipt, oldest first, with its hashes (for an archive or a spreadsheet)."""
    text = services().audit_export(fmt, role=role)
    if out is None:
        typer.echo(text, nl=False)
        return
    from core.files import atomic_write

    atomic_write(out, text)
    err(f"wrote {text.count(chr(10)) - (fmt == 'csv')} receipts to {out}")


@audit_app.command("replay")
def audit_replay(
    receipt_id: Annotated[int, typer.Argument(metavar="ID", help="Receipt of a sql.ask or sql.run.")],
    role: ReaderRole = READER,
    as_json: JsonOpt = False,
) -> None:
    """Re-run a receipt's SQL as its role when every dataset is still at the recorded version, and say
    whether the result is the same; exit 1 if a version changed or the result differs."""
    report = services().audit_replay(receipt_id, role=role)
    _show_replay(report, as_json)
    if report["status"] != "same":
        raise typer.Exit(1)


def _show_replay(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(report)
    elif report["status"] == "version_changed":
        for name, versions in report["changed"].items():
            err(f"version changed: {name} was {versions['recorded']}, now {versions['now'] or '(gone)'}")
    elif report["status"] == "same":
        typer.echo(f"same result: {report['row_count']} row(s) at the recorded dataset versions")
    else:
        err(f"different result: {report['row_count']} row(s) now, {report['recorded_row_count']} recorded")
