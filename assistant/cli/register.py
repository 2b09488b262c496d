"""`govdata register list|show|grade|held|export`: the public data resource register with quality scores and reasons,
grading suggestions, and passages held for review."""

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant import shapes
from assistant.cli.common import JsonOpt, err, print_json, role_option, services
from assistant.register.entries import KINDS, Entry, RegisterFilter, export
from assistant.register.grading import describe_evidence
from core.errors import FieldError

StewardRole = Annotated[str, role_option("Who reads the register: a role with register.read.")]
STEWARD = "data_steward"

register_app = typer.Typer(help="The register of public data resources: metadata, quality scores and reasons.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(register_app, name="register")
    app.command("disclose")(disclose)


def disclose(
    out: Annotated[Path, typer.Option("--out", help="report.html, report.csv or report.json (by the suffix).")],
    since: Annotated[str | None, typer.Option("--since", help="From YYYY[-MM[-DD]] (UTC).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to the end of YYYY[-MM[-DD]] (UTC).")] = None,
    role: Annotated[str, role_option("Who builds it: a role with audit.read.")] = STEWARD,
) -> None:
    """The public disclosure report: how public data was used, aggregated, small counts suppressed."""
    from assistant.register import disclosure
    from core.files import atomic_write

    writers = {".html": disclosure.to_html, ".csv": disclosure.to_csv, ".json": disclosure.to_json}
    writer = writers.get(out.suffix.lower())
    if writer is None:
        raise FieldError("out", "the file must end in .html, .csv or .json", str(out))
    report = services().disclose(role=role, since=since, until=until)
    atomic_write(out, writer(report))
    typer.echo(f"wrote {out}: {report['requests']} requests, {len(report['datasets'])} datasets", err=True)


def _filter(publisher: str | None, level: str | None, kind: str | None, min_score: int | None,
            max_score: int | None, stale: bool | None) -> RegisterFilter:
    if kind is not None and kind not in KINDS:
        raise FieldError("kind", f"expected one of: {', '.join(repr(k) for k in KINDS)}", kind)
    if level:
        from core.access import normalize_access_level

        try:
            level = normalize_access_level(level)
        except ValueError as exc:
            raise FieldError("access_level", str(exc), level) from None
    return RegisterFilter(publisher, level, kind, min_score, max_score, stale)


def _line(entry: Entry) -> str:
    r, q = entry.resource, entry.quality
    worst = max(q.losses, key=lambda loss: loss.points).reason if q.losses else "-"
    stale = " STALE" if q.stale else ""
    return f"{q.score:>3}{stale}  {r.kind[:8]:<8}  {r.id[:40]:<40}  {r.title[:50]}  ({worst})"


Publisher = Annotated[str | None, typer.Option("--publisher", help="Publisher name contains this.")]
Level = Annotated[str | None, typer.Option("--access-level", help="public, restricted public, non-public.")]
Kind = Annotated[str | None, typer.Option("--kind", help="'catalog record' or 'approved table'.")]
MinScore = Annotated[int | None, typer.Option("--min-score", min=0, max=100, help="Score at least this.")]
MaxScore = Annotated[int | None, typer.Option("--max-score", min=0, max=100, help="Score at most this.")]
Stale = Annotated[bool | None, typer.Option("--stale/--fresh", help="Only stale (or only not stale) entries.")]


@register_app.command("list")
def register_list(publisher: Publisher = None, access_level: Level = None, kind: Kind = None,
                  min_score: MinScore = None, max_score: MaxScore = None, stale: Stale = None,
                  limit: Annotated[int, typer.Option("--limit", min=1, help="Most entries shown.")] = 100,
                  role: StewardRole = STEWARD, as_json: JsonOpt = False) -> None:
    """Entries, lowest quality score first, each with the rule that cost it most."""
    where = _filter(publisher, access_level, kind, min_score, max_score, stale)
    every = services().register_entries(role=role, where=where)
    entries = every[:limit]
    if as_json:
        print_json([shapes.entry(e) for e in entries])
    else:
        for entry in entries:
            typer.echo(_line(entry))
    if len(every) > limit:
        err(f"showing {limit} of {len(every)} entries; --limit shows more")


@register_app.command("show")
def register_show(entry_id: Annotated[str, typer.Argument(metavar="ID", help="Catalog identifier or table name.")],
                  role: StewardRole = STEWARD, as_json: JsonOpt = False) -> None:
    """One entry in full: its metadata and every point it lost, with the rule."""
    entry = services().register_entry(entry_id, role=role).to_json()
    if as_json:
        print_json(entry)
        return
    for key, value in entry.items():
        if key != "reasons":
            typer.echo(f"{key}: {_value(value)}")
    typer.echo("reasons:" if entry["reasons"] else "reasons: none (100 points)")
    for reason in entry["reasons"]:
        typer.echo(f"  {reason['points']:>4}  {reason['rule']}: {reason['reason']}")


@register_app.command("grade")
def register_grade(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Approved table name or catalog record id.")],
    accept: Annotated[str | None, typer.Option("--accept", metavar="ID", help="Accept this suggestion.")] = None,
    reject: Annotated[str | None, typer.Option("--reject", metavar="ID", help="Reject this suggestion.")] = None,
    role: StewardRole = STEWARD, as_json: JsonOpt = False,
) -> None:
    """Classification and grading suggestions with evidence; --accept or --reject decides one (a receipt each)."""
    if accept and reject:
        raise FieldError("accept", "give --accept or --reject, not both", accept)
    svc = services()
    if accept or reject:
        decided = svc.register_decide(name, str(accept or reject), accept=bool(accept), role=role)
        if as_json:
            print_json(decided.to_json())
        else:
            typer.echo(f"{decided.status}: {decided.id} {decided.kind} {decided.target} -> {decided.suggested}")
        return
    suggestions = svc.register_grade(name, role=role)
    if as_json:
        print_json([s.to_json() for s in suggestions])
        return
    if not suggestions:
        typer.echo(f"no suggestions for {name}")
    for s in suggestions:
        typer.echo(f"{s.id}  {s.status:<8}  {s.kind:<16}  {s.target}: {s.current} -> {s.suggested}  "
                   f"({describe_evidence(s.evidence)})")


@register_app.command("held")
def register_held(
    release: Annotated[str | None, typer.Option("--release", metavar="ID", help="Release this passage.")] = None,
    keep: Annotated[str | None, typer.Option("--keep", metavar="ID", help="Keep this passage held.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only pending, released or kept ones.")] = None,
    role: Annotated[str, role_option("Who reviews: a role with register.review.")] = STEWARD,
    as_json: JsonOpt = False,
) -> None:
    """Passages held at ingest for instruction-like text, with the rule and the text; --release or --keep decides
    one (a receipt each)."""
    if release and keep:
        raise FieldError("release", "give --release or --keep, not both", release)
    svc = services()
    if release or keep:
        decided = svc.review_held(str(release or keep), release=bool(release), role=role)
        if as_json:
            print_json(decided.to_json())
        else:
            typer.echo(f"{decided.status}: {decided.id} {decided.source}")
        return
    held = svc.held_passages(role=role, status=status)
    if as_json:
        print_json([p.to_json() for p in held])
        return
    if not held:
        typer.echo("no held passages")
    for p in held:
        where = f"{p.title} {p.article}".strip() if p.article else p.heading_path or p.title
        typer.echo(f"{p.id}  {p.status:<8}  {p.rule}: “{p.match}”  {p.source}  ({where})")
        typer.echo(f"    {' '.join(p.text.split())[:300]}")


@register_app.command("export")
def register_export(fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
                    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout).")] = None,
                    publisher: Publisher = None, access_level: Level = None, kind: Kind = None,
                    min_score: MinScore = None, max_score: MaxScore = None, stale: Stale = None,
                    role: StewardRole = STEWARD) -> None:
    """The register (or the filtered part) as CSV or JSON, for a spreadsheet or another program."""
    if fmt not in ("csv", "json"):
        raise FieldError("format", "expected csv or json", fmt)
    where = _filter(publisher, access_level, kind, min_score, max_score, stale)
    text = export(services().register_entries(role=role, where=where), fmt)
    if out is None:
        typer.echo(text, nl=False)
        return
    from core.files import atomic_write

    atomic_write(out, text)
    typer.echo(f"wrote {out}", err=True)


def _value(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else "-" if value in ("", None) else str(value)
