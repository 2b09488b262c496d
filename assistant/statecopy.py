"""`govdata state migrate --to postgres` (issue 34): an embedded GOVDATA_HOME's state copied into the shared state
once. Idempotent and resumable: every store copies only what the shared state lacks (receipts after its head,
names and ids it does not hold, content rows it has not got), so a second run, or a run after an interruption,
finishes the copy and changes nothing else. The embedded chain must verify before the copy, and the shared chain
must verify after it; the embedded files are left as they were (no longer read once the setting is on).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistant.audit import AuditLog, Verification, open_log, read_key
from assistant.audit_rows import PostgresRows, SqliteRows
from assistant.policy.grants import GrantFile, PostgresGrants, merged
from assistant.policy.tokens import PostgresTokens, TokenFile
from assistant.policy.users import UserTable, load_users
from assistant.register.grading import Decisions, PostgresDecisions, decisions_path
from assistant.sql.approved import PostgresRegistry, RegistryFile
from assistant.sql.knowledge import KnowledgeStore, PostgresKnowledge
from core.errors import GovDataError
from core.files import file_lock
from core.settings import Settings
from core.state import shared_state
from core.state.postgres import PostgresState
from vectorstore.content import ContentStore

_BATCH = 2000
Progress = Callable[[str], None]


@dataclass
class MigrationReport:
    """What each store copied now (0: the shared state had it all), what was left and why, and the shared chain's
    verification after the copy."""

    copied: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    verification: Verification | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"copied": self.copied, "skipped": self.skipped,
                "verification": self.verification.as_dict() if self.verification else None}


def migrate_to_postgres(settings: Settings, progress: Progress | None = None) -> MigrationReport:
    """Copy every embedded store of `settings.home` into the shared state `settings.state` names."""
    state = shared_state(settings.state)
    if state is None:
        raise GovDataError("moving the state into PostgreSQL needs GOVDATA_STATE__POSTGRES_DSN (the shared state)")
    say = progress or (lambda line: None)
    report = MigrationReport()
    for name, step in (("audit", _audit), ("users", _users), ("tokens", _tokens), ("decisions", _decisions),
                       ("approved_tables", _tables), ("knowledge", _knowledge), ("grants", _grants),
                       ("sdc_key", _sdc_key),
                       ("contents", _contents)):
        outcome = step(settings, state)
        if isinstance(outcome, str):
            report.skipped[name] = outcome
            say(f"{name}: skipped ({outcome})")
        else:
            report.copied[name] = outcome
            say(f"{name}: {outcome} copied")
    report.verification = open_log(settings).verify()
    if not report.verification.ok:
        raise GovDataError(f"the shared audit chain does not verify after the copy: {report.verification.problem}")
    return report


def _audit(settings: Settings, state: PostgresState) -> int | str:
    """The embedded chain, verified, appended after the shared head (which must be where it left off)."""
    key = read_key(settings.audit.key_file) if settings.audit.key_file else None
    embedded = AuditLog(settings.audit_path, key=key, witness_file=settings.audit.witness_file)
    if not embedded.database.is_file():
        return "no embedded audit log"
    with file_lock(settings.audit_path / "audit.lock"):  # no embedded append while the chain is copied
        checked = embedded.verify()
        if not checked.ok:
            raise GovDataError(f"the embedded audit chain does not verify, nothing copied: {checked.problem}")
        rows = SqliteRows(embedded.database).columns()
        try:
            return PostgresRows(state).copy_in(rows, embedded.head())
        except ValueError as exc:
            raise GovDataError(f"audit: {exc}") from None


def _users(settings: Settings, state: PostgresState) -> int | str:
    """The users file in force (GOVDATA_USERS_FILE, else GOVDATA_HOME/users.json), with organisations and whether
    each is disabled; a name the shared state holds keeps its row."""
    path = settings.users_path
    if path is None:
        return "no users file (the bundled demo users are never copied)"
    table = UserTable(state)
    return sum(table.put(u) for u in load_users(path).values())


def _tokens(settings: Settings, state: PostgresState) -> int | str:
    if not settings.tokens_path.is_file():
        return "no tokens file"
    return PostgresTokens(state).put(list(TokenFile(settings.tokens_path).tokens().values()))


def _decisions(settings: Settings, state: PostgresState) -> int | str:
    path = decisions_path(settings.home)
    if not path.is_file():
        return "no decisions file"
    return PostgresDecisions(state).put(Decisions(path).all(), replace=False)


def _tables(settings: Settings, state: PostgresState) -> int | str:
    """Registered tables the shared registry lacks, published to the PostgreSQL engine first."""
    from assistant.sql.postgres import sync_tables, target_of

    local = RegistryFile(settings.sql_path).read()
    if not local:
        return "no approved tables"
    target = target_of(settings.sql)
    if target is None:
        return "approved tables need GOVDATA_SQL__ENGINE=postgres to be shared; set it and run again"
    registry = PostgresRegistry(state)
    with registry.locked():
        shared = {t.name: t for t in registry.read()}
        fresh = [t for t in local if t.name not in shared]
        lacking = sorted(set(shared) - {t.name for t in local})
        if fresh and lacking:  # the engine's schema is loaded whole from this host's DuckDB file
            return (f"the shared registry holds tables this host lacks ({', '.join(lacking)}); add this host's "
                    "tables with `datasets add` instead")
        if fresh:
            merged = [*shared.values(), *fresh]
            sync_tables(target, settings.sql_path / "approved.duckdb", merged, settings.sql_path / "postgres.json")
            registry.write(merged)
    return len(fresh)


def _knowledge(settings: Settings, state: PostgresState) -> int | str:
    """Knowledge items (issue 32; an examples.jsonl of `sql learn` read as approved pairs) whose id the shared
    state lacks."""
    items = KnowledgeStore(settings.sql_path).items()
    if not items:
        return "no knowledge items"
    return PostgresKnowledge(state).put(items)


def _grants(settings: Settings, state: PostgresState) -> int | str:
    """Organisations, grants and requests (issue 33) whose name or id the shared document lacks."""
    local = GrantFile(settings.grants_path).book()
    count = len(local.organisations) + len(local.grants) + len(local.requests)
    if not count:
        return "no grants file"
    shared = PostgresGrants(state)
    before = shared.book()
    after = shared.change(lambda book: merged(book, local))
    return sum(len(getattr(after, part)) - len(getattr(before, part)) for part in ("organisations", "grants",
                                                                                  "requests"))


def _sdc_key(settings: Settings, state: PostgresState) -> int | str:
    """This home's disclosure-control key, unless the shared state has one (then perturbed answers follow that)."""
    from assistant.sql.sdc_runner import shared_secret_of

    path = settings.sql_path / "sdc.key"
    if not path.is_file():
        return "no disclosure-control key"
    with state.connection() as con:
        had = con.execute("SELECT 1 FROM secrets WHERE name = 'sdc.key'").fetchone() is not None
    shared_secret_of(state, path)
    return 0 if had else 1


def _contents(settings: Settings, state: PostgresState) -> int | str:
    """Content rows (with their cached keyword tokens) the shared table lacks, in batches that each commit."""
    path = settings.chroma_path / "contents.sqlite"
    if not path.is_file():
        return "no content table"
    source = ContentStore(path)
    copied = 0
    try:
        for collection in ("datasets", "passages"):
            rows = source.all_rows(collection)
            for start in range(0, len(rows), _BATCH):
                copied += _copy_rows(state, collection, rows[start:start + _BATCH])
    finally:
        source.close()
    return copied


def _copy_rows(state: PostgresState, collection: str, rows: list[tuple[str, str, str | None, dict[str, Any]]]) -> int:
    with state.transaction() as con, con.cursor() as cur:
        cur.executemany("INSERT INTO contents (collection, item_id, text, payload, tokens) VALUES (%s, %s, %s, %s, %s) "
                        "ON CONFLICT (collection, item_id) DO NOTHING",
                        [(collection, i, text, json.dumps(payload, ensure_ascii=False), tokens)
                         for i, text, tokens, payload in rows])
        added = max(cur.rowcount, 0)  # summed over the batch: rows already there count 0
        if added:
            cur.execute("INSERT INTO generations (collection, generation) VALUES (%s, 1) ON CONFLICT (collection) "
                        "DO UPDATE SET generation = generations.generation + 1", (collection,))
    return added

