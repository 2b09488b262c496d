"""`govdata sql ...` and `govdata datasets add`: thin shells over the SQL use cases of Services."""

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant import shapes
from assistant.cli.common import JsonOpt, RoleOpt, err, print_json, role_option, services
from assistant.policy.roles import DEFAULT_ROLE
from core.errors import GovDataError

sql_app = typer.Typer(help="Ask questions of approved tables; check and run SQL through the guard.",
                      no_args_is_help=True)

DbOpt = Annotated[Path | None, typer.Option(
    "--db", help="Ad-hoc approved database for this call: SQLite file, DuckDB file or folder of CSV/Parquet.")]

SqlArg = Annotated[str, typer.Argument(help="One SQL statement.")]
ToOpt = Annotated[str | None, typer.Option(
    "--to", help="Also show the SQL in another sqlglot dialect (postgres, mysql, sqlite, ...).")]


def register(app: typer.Typer, datasets_app: typer.Typer) -> None:
    app.add_typer(sql_app, name="sql")
    datasets_app.command("add")(datasets_add)


def datasets_add(
    path: Annotated[Path, typer.Argument(help="CSV, TSV, Parquet, JSON, SQLite or datapackage.json.")],
    name: Annotated[str | None, typer.Option("--name", help="Table name (default: from the file).")] = None,
    access_level: Annotated[str | None, typer.Option(
        "--access-level", help="public | restricted public | non-public (default public).")] = None,
    describe: Annotated[Path | None, typer.Option(
        "--describe", help='JSON {"title", "description", "columns": {"col": {"description", "unit", '
                           '"sensitive"}}}.')] = None,
    role: Annotated[str, role_option("Who approves: a role with tables.approve.")] = "data_steward",
    as_json: JsonOpt = False,
) -> None:
    """Register a file as approved table(s) for SQL questions, and index them for dataset search."""
    result = services().add_tables(path, name=name, access_level=access_level, describe=describe, role=role)
    if as_json:
        print_json({"tables": [shapes.table(t) for t in result.tables], "indexed": result.indexed,
                    "unchanged": result.unchanged, "rechecked": result.rechecked})
        return
    if result.unchanged:
        err(f"unchanged: {', '.join(t.name for t in result.tables)} already approved at this version")
        return
    for outcome in result.rechecked:  # knowledge on the changed tables, run again (issue 32)
        if outcome["status"] in ("suspended", "flagged"):
            err(f"knowledge {outcome['id']} {outcome['status']}: {outcome['reason']}")
    for table in result.tables:
        sensitive = [c.name for c in table.columns if c.sensitive]
        err(f"approved table {table.name}: {table.row_count} rows, {len(table.columns)} columns, "
            f"{table.access_level}, version {table.version}" + (f"; sensitive: {', '.join(sensitive)}"
                                                               if sensitive else ""))


@sql_app.command("tables")
def sql_tables(role: RoleOpt = DEFAULT_ROLE, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The approved tables the role may query, with their columns, and the grants that open any of them."""
    context = services().sql_tables(role, db=db)
    if as_json:
        print_json([shapes.table_in(context)(t) for t in context.tables])
        return
    for table in context.tables:
        access = context.approval.table(table.name)
        through = context.grants.get(table.name, ())
        typer.echo(f"{table.name}  ({table.row_count} rows; {table.access_level}; version {table.version}"
                   + (f"; through grant {', '.join(through)}" if through else "") + f") {table.title}")
        for column in table.columns:
            state = "denied" if access and column.name in access.denied else (
                "masked" if access and column.name in access.masked else "")
            note = "; ".join(p for p in (column.description[:80], column.unit, state) if p)
            typer.echo(f"    {column.name} {column.type}" + (f"  -- {note}" if note else ""))


@sql_app.command("ask")
def sql_ask(
    question: Annotated[str, typer.Argument(help="A question about approved data, Chinese or English.")],
    dataset: Annotated[str | None, typer.Option("--dataset", help="Only this approved table.")] = None,
    db: DbOpt = None,
    role: RoleOpt = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """Write SQL for QUESTION, check it with the guard, run it on DuckDB, and explain it."""
    answer = services().sql_ask(question, role=role, db=db, dataset=dataset)
    if as_json:
        print_json(shapes.sql_answer(answer))
    else:
        _show_answer(answer)
    if answer.error:
        raise typer.Exit(1)


def _show_answer(answer: Any) -> None:
    typer.echo(answer.sql or "(no SQL)")
    if answer.explanation:
        typer.echo(answer.explanation)
    if answer.error:
        err(f"error: {answer.error}")
        return
    _show_rows(answer.columns, answer.rows, answer.truncated)
    versions = ", ".join(f"{k}@{v}" for k, v in answer.dataset_versions.items())
    typer.echo(f"datasets: {versions}")
    if answer.knowledge:
        typer.echo(f"knowledge used: {', '.join(answer.knowledge)}")
    if answer.uncertain:
        err(f"uncertain: {round(100 * (answer.confidence or 0))}% of {answer.candidates} candidate queries gave "
            f"this result; {len(answer.alternatives)} other reading(s) in --json")
    if answer.notice:
        err(f"note: {answer.notice}")
    if answer.fallback:
        err("note: every attempt with the full prompt failed; the plain prompt wrote this query: check that it "
            "answers the question")
    if answer.respelled:
        err(f"note: nothing matched as written; ran with the values as the data spells them: "
            f"{', '.join(answer.respelled)}")
    if answer.sdc:
        err(f"note: {answer.sdc['notice']}")


def _show_rows(columns: list[str], rows: list[list[Any]], truncated: bool) -> None:
    typer.echo(" | ".join(columns))
    for row in rows[:50]:
        typer.echo(" | ".join("" if v is None else str(v) for v in row))
    more = " (showing 50)" if len(rows) > 50 else ""
    typer.echo(f"{len(rows)} row(s){more}" + ("; row cap reached" if truncated else ""))


@sql_app.command("check")
def sql_check(
    sql: SqlArg, db: DbOpt = None, role: RoleOpt = DEFAULT_ROLE, to: ToOpt = None, as_json: JsonOpt = False,
) -> None:
    """Whether the guard lets SQL run for the role, and why; exit 0 either way (the verdict is the output)."""
    from assistant.sql.guard import transpile

    verdict = services().sql_check(sql, role=role, db=db)
    result = shapes.verdict(verdict)
    if to and verdict.allowed:
        result["transpiled"] = transpile(verdict.sql, to)
    if as_json:
        print_json(result)
        return
    typer.echo(verdict.reason if verdict.allowed else "rejected: " + verdict.reason)
    if verdict.allowed:
        typer.echo(verdict.sql)
    if "transpiled" in result:
        typer.echo(f"{to}: {result['transpiled']}")


@sql_app.command("run")
def sql_run(
    sql: SqlArg, db: DbOpt = None, role: RoleOpt = DEFAULT_ROLE, as_json: JsonOpt = False,
) -> None:
    """Run hand-written SQL through the same guard and limits as generated SQL."""
    from assistant.sql.guard import SqlRejected

    try:
        result = services().sql_run(sql, role=role, db=db)
    except SqlRejected as rejected:
        raise GovDataError(f"rejected: {rejected.reason}") from None
    if as_json:
        print_json(shapes.sql_result(result))
        return
    typer.echo(result.sql)
    _show_rows(result.columns, result.rows, result.truncated)
    if result.sdc:
        err(f"note: {result.sdc['notice']}")


@sql_app.command("learn")
def sql_learn(
    question: Annotated[str, typer.Argument(help="The question, as an analyst would ask it.")],
    sql: Annotated[str, typer.Argument(help="The steward-verified SQL that answers it.")],
    role: Annotated[str, role_option("Who verifies: a role with sql.learn.")] = "data_steward",
    as_json: JsonOpt = False,
) -> None:
    """Store a verified question -> SQL pair as approved knowledge (a steward's direct approval); it must pass the
    guard and run. Shown to the model as a verified example."""
    item = services().learn(question, sql, role=role)
    if as_json:
        print_json(item.as_dict())
        return
    err(f"learned {item.id}: {item.question} -> tables {', '.join(item.tables)}")
