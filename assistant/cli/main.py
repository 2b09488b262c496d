"""The `govdata` command line: a thin shell over assistant.services.

Conventions: `--json` prints only JSON on stdout; progress and errors go to stderr; exit 0 on success,
1 on bad input or a failed operation (one line per problem), 2 on usage errors; `--debug` shows tracebacks.
"""

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant import shapes
from assistant.cli.common import JsonOpt, RoleOpt, err, error_text, print_json, state
from assistant.cli.common import services as build_services
from assistant.policy.roles import DEFAULT_ROLE
from core.errors import GovDataError
from core.offline import enforce_offline
from core.settings import Settings

app = typer.Typer(help="GovData Assistant: find datasets, ask policy questions, query approved data.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
docs_app = typer.Typer(help="Search ingested policy and guidance documents.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")
datasets_app = typer.Typer(help="Find datasets in the ingested open-data catalogs.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")

@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False) -> None:
    state["debug"] = debug


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (recursive).")],
    prune: Annotated[bool, typer.Option("--prune", help="Remove what vanished from these paths.")] = False,
    access_level: Annotated[str | None, typer.Option(
        "--access-level", help="public | restricted public | non-public; can only make sources stricter.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest catalogs (DCAT data.json, CKAN JSON, CSV lists, datapackage.json) and documents."""
    from core.access import normalize_access_level

    if access_level is not None:
        try:
            access_level = normalize_access_level(access_level)
        except ValueError as exc:
            raise GovDataError(f"--access-level: {exc}") from None
    services = build_services()
    summary = _run_ingest(services, paths, access_level, prune)
    for warning in summary.warnings:
        err(f"warning: {warning}")
    for failure in summary.failures:
        err(f"error: {failure}")
    if as_json:
        print_json(summary.as_dict())
    else:
        err(
            f"files: {summary.files} ({summary.files_landed} landed, {summary.files_skipped} unchanged, "
            f"{summary.files_failed} failed, {summary.files_removed} removed); datasets: {summary.datasets}; "
            f"documents: {summary.documents}; items added {summary.added}, updated {summary.updated}, "
            f"skipped {summary.skipped}, removed {summary.removed}; records failed {summary.records_failed}; "
            f"values repaired {summary.repaired}"
        )
    if summary.failures:
        raise typer.Exit(1)


def _run_ingest(services: Any, paths: list[Path], access_level: str | None, prune: bool) -> Any:
    if not sys.stderr.isatty():
        return services.ingest(paths, access_level=access_level, prune=prune)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("ingesting", total=None)

        def advance(path: Path) -> None:
            bar.update(task, advance=1, description=path.name[:40])

        return services.ingest(paths, access_level=access_level, prune=prune, progress=advance)


@app.command()
def status(as_json: JsonOpt = False) -> None:
    """Counts of what is in the store and which embedding model built it."""
    result = build_services().status()
    if as_json:
        print_json(result)
        return
    for key, value in result.items():
        typer.echo(f"{key}: {value}")


@docs_app.command("search")
def docs_search(
    query: Annotated[str, typer.Argument(help="What to look for, in any language.")],
    k: Annotated[int, typer.Option("--k", min=1, max=200, help="How many passages.")] = 5,
    role: RoleOpt = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """Passages of ingested documents closest to QUERY (only those the role may see)."""
    passages = build_services().search_passages(query, k=k, role=role)
    if as_json:
        print_json([shapes.passage(p) for p in passages])
        return
    for n, passage in enumerate(passages, 1):
        where = " > ".join(p for p in (passage.title, passage.heading_path, passage.article) if p)
        dated = f" ({passage.date})" if passage.date else ""
        link = f"\n    {passage.url}" if passage.url else ""  # the file path stays in --json's "source"
        typer.echo(f"[{n}] {where}{dated}  (score {passage.score:.3f}){link}")
        typer.echo("    " + passage.text[:300].replace("\n", "\n    ") + "\n")


@datasets_app.command("search")
def datasets_search(
    query: Annotated[str, typer.Argument(help="A need described in plain words, Chinese or English.")],
    k: Annotated[int, typer.Option("--k", min=1, max=200, help="How many datasets.")] = 10,
    role: RoleOpt = DEFAULT_ROLE,
    publisher: Annotated[str | None, typer.Option(help="Publisher name (case-insensitive part).")] = None,
    format: Annotated[str | None, typer.Option("--format", help="Distribution format, e.g. csv.")] = None,
    language: Annotated[str | None, typer.Option(help="Record language: zh or en.")] = None,
    since: Annotated[str | None, typer.Option(help="Modified on or after YYYY[-MM[-DD]].")] = None,
    access_level: Annotated[str | None, typer.Option(
        "--access-level", help="Only this level (one the role may see).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Datasets matching QUERY that the role may see, best first."""
    svc = build_services()
    results = svc.search_datasets(query, k=k, role=role, publisher=publisher, format=format, language=language,
                                  since=since, access_level=access_level)
    if as_json:
        print_json([shapes.dataset(r) for r in results])
        return
    for n, r in enumerate(results, 1):
        facts = [r.publisher, r.access_level, ", ".join(r.formats), f"modified {r.modified[:10]}" if r.modified
                 else "", f"updates {r.update_frequency}" if r.update_frequency else "",
                 f"quality {r.quality}/100" if r.quality is not None else "", f"score {r.score:.3f}"]
        typer.echo(f"[{n}] {r.title}  ({'; '.join(f for f in facts if f)})")
        typer.echo(f"    id: {r.identifier}  {r.url}".rstrip())
        if r.matched:
            typer.echo("    matched: " + ", ".join(r.matched))
        if r.description:
            typer.echo("    " + r.description[:200].replace("\n", " "))
    if not results:
        typer.echo(nothing_line(svc.closest_topics(query, role=role)))
    hidden = 0 if access_level else svc.hidden_matches(query, k=k, role=role)  # the words only, no filters
    if hidden:
        err(f"{hidden} more record(s) matching these words are not public and are not shown")


def nothing_line(closest: dict[str, list[str]]) -> str:
    """No dataset matches, with where to look instead (the publishers and keywords of the closest records)."""
    hints = [f"{label}: {', '.join(values)}" for label, values in (("closest publishers", closest["publishers"]),
                                                                   ("closest keywords", closest["keywords"])) if values]
    return "No dataset matches this need." + (f" Try {'; '.join(hints)}." if hints else "")


@datasets_app.command("show")
def datasets_show(
    identifier: Annotated[str, typer.Argument(metavar="ID", help="The dataset's identifier, as search shows it.")],
    role: RoleOpt = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """One catalog record in full: distributions, licence, contact, themes (only one the role may see)."""
    record = build_services().dataset_record(identifier, role=role)
    if as_json:
        print_json(record)
        return
    for key, value in record.items():
        if key == "distributions":
            for dist in value:
                parts = (dist.get("format", ""), dist.get("url", ""), dist.get("title", ""))
                typer.echo("distribution: " + " ".join(p for p in parts if p))
        elif value not in ("", [], None):
            typer.echo(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")


@datasets_app.command("overview")
def datasets_overview(role: RoleOpt = DEFAULT_ROLE, as_json: JsonOpt = False) -> None:
    """What the catalog holds for the role: publishers, counts by level, theme and catalog, the update dates."""
    overview = build_services().catalog_overview(role=role)
    if as_json:
        print_json(overview)
        return
    modified = overview["modified"]
    typer.echo(f"{overview['datasets']} datasets from {overview['publishers_total']} publishers; updated "
               f"{modified['earliest'] or '?'} to {modified['latest'] or '?'}; {overview['documents']} documents; "
               f"{overview['approved_tables']} approved tables")
    for title, counts in (("by access level", overview["by_access_level"]), ("by catalog", overview["by_catalog"]),
                          ("by theme", overview["by_theme"])):
        if counts:
            typer.echo(f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for row in overview["publishers"][:20]:
        typer.echo(f"    {row['datasets']:>5}  {row['publisher']}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A policy or service question, Chinese or English.")],
    role: RoleOpt = DEFAULT_ROLE,
    as_json: JsonOpt = False,
) -> None:
    """A grounded answer from the ingested laws and guides, every claim cited [n]; found=false when the
    documents do not support an answer."""
    answer = build_services().ask(question, role=role)
    if as_json:
        print_json(shapes.answer(answer))
        return
    typer.echo(answer.answer)
    for citation in answer.citations:  # the path stays in --json's "source"; people read the name
        typer.echo(f"  [{citation.n}] {citation.label}" + (f" — {citation.url}" if citation.url else ""))
    for sentence in answer.dropped:  # what the claim checks removed (issue 29)
        err(f"removed (its cited passages do not state it): {sentence}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 7860,
) -> None:
    """Start the web app, with the REST API at /api/v1 and the MCP server at /mcp on the same port."""
    from assistant.ui.server import build_assistant, launch

    launch(build_assistant(Settings()), host, port)


@app.command("mcp")
def mcp_stdio(role: RoleOpt = DEFAULT_ROLE) -> None:
    """Serve the MCP tools over stdio to a local client, as ROLE (receipts say interface mcp)."""
    from assistant.mcp.server import run_stdio

    run_stdio(build_services(interface="mcp"), role)


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 1, never a traceback."""
    enforce_offline()
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 prints escaped (\udcNN), never a crash
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        code = app(standalone_mode=False)
        if code == 130:  # typer turns Ctrl-C into exit code 130 and click returns it without a word
            err("interrupted")
        if isinstance(code, int) and code:
            sys.exit(code)
    except GovDataError as exc:
        if state["debug"]:
            raise
        err(f"error: {error_text(exc)}")
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: typer's message, exit code 2
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        sys.exit(getattr(exc, "exit_code", 2))
    except Exception as exc:  # anything else is a bug: one line, details behind --debug
        if state["debug"]:
            raise
        err(f"error: internal failure ({type(exc).__name__}: {exc}); rerun with --debug for details")
        sys.exit(1)
