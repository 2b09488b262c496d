"""The SQL side of Services: approved tables, checks, runs, questions and the knowledge they are taught, per
role."""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
from langchain_core.language_models import BaseChatModel

from assistant.policy import pii
from assistant.policy.roles import get_role
from assistant.register.grading import decisions_of
from assistant.sql.approved import ApprovedTables, PostgresRegistry, full_approval
from assistant.sql.curation import Curation, Verified
from assistant.sql.generate import SqlAnswer, SqlContext, SqlGenerator, runner_for, table_document
from assistant.sql.granted import Granted, with_grants
from assistant.sql.guard import Approval, SqlGuard, SqlRejected, Verdict
from assistant.sql.knowledge import KnowledgeItem, checked_sql, fingerprint, knowledge_store
from assistant.sql.lessons import hidden_names, names_any, readable
from assistant.sql.postgres import PostgresTarget, pull_tables, sync_tables, target_of
from assistant.sql.predicates import checked_predicate
from assistant.sql.runner import Runner, RunnerLimits, SqlResult, engine_message, locked_connection
from assistant.sql.sdc import SdcRules
from assistant.sql.sdc_rewrite import SdcRefused
from assistant.sql.sdc_runner import SdcPolicy, SdcRunner, declared, record_keys, secret_of, shared_secret_of
from assistant.sql.values import ValueIndex
from assistant.sql.walls import AccessProfile, ProfileDatabases, profile_of
from core.errors import FieldError, GovDataError, first_line
from core.files import atomic_write
from core.settings import Settings
from core.state import shared_state
from ingest.tables import ColumnInfo, RegisteredTable, adhoc_database, described_values, quote

if TYPE_CHECKING:
    from assistant.policy.grants import Grant

Grants = tuple["Grant", ...]

DATASET_PREFIX = "govdata-sql:"


@dataclass(frozen=True)
class AddResult:
    tables: list[RegisteredTable]
    indexed: int
    unchanged: bool = False
    rechecked: list[dict[str, str]] = field(default_factory=list)  # knowledge re-run on the changed tables


class SqlService:
    def __init__(self, settings: Settings, chat_model: Callable[[], BaseChatModel],
                 embed: Callable[[list[str]], np.ndarray], ingest: Callable[[list[Path]], Any]) -> None:
        self.settings = settings
        self.state = shared_state(settings.state)
        self.approved = ApprovedTables(settings.sql_path, decisions_of(settings),
                                       PostgresRegistry(self.state) if self.state is not None else None)
        self.knowledge = knowledge_store(settings)  # knowledge.json, or the shared state's table (issue 34)
        self.curation = Curation(self.knowledge, self.verify)
        self._chat_model = chat_model
        self._embed = embed
        self._ingest = ingest
        self._generator: SqlGenerator | None = None
        self._granted_views: dict[tuple[str, str], RegisteredTable] = {}  # (profile key, table) -> as granted

    @property
    def profiles(self) -> ProfileDatabases:
        """The DuckDB file of each access profile: what a role's queries (and value hints) may reach."""
        return ProfileDatabases(self.approved.database, self.settings.sql_path / "profiles", self.sdc_secret)

    @cached_property
    def sdc_secret(self) -> bytes:
        """Disclosure control's key (GOVDATA_HOME/sql/sdc.key): record keys and noise are keyed by it."""
        if self.state is not None:  # one key for every app server (issue 34)
            return shared_secret_of(self.state)
        return secret_of(self.settings.sql_path / "sdc.key")

    @property
    def guard(self) -> SqlGuard:
        return SqlGuard(row_cap=self.settings.sql.row_cap, max_chars=self.settings.sql.max_chars)

    @property
    def generator(self) -> SqlGenerator:
        if self._generator is None:
            embedding = self.settings.embedding
            values = ValueIndex(self._embed, self.settings.sql_path / "values",
                                model=f"{embedding.model}:{embedding.path or ''}")
            self._generator = SqlGenerator(self._chat_model(), self.settings.sql, self.settings.llm.json_mode,
                                           self._embed, values)
        return self._generator

    def limits(self) -> RunnerLimits:
        return RunnerLimits.of(self.settings.sql)

    def _runner(self, context: SqlContext) -> Runner:
        return runner_for(context, self.limits(), self.settings.sql.postgres_work_mem)

    @cached_property
    def postgres(self) -> PostgresTarget | None:
        """Where the registry's tables are mirrored and queried (GOVDATA_SQL__ENGINE=postgres), or None: DuckDB.
        Read once: the settings are frozen and the passwords are read from their variables here."""
        target = target_of(self.settings.sql)
        if target is None:
            return None
        return replace(target, logins=str(self.settings.sql_path / "postgres-logins.json"), shared=self.state)

    def local_copy(self, tables: list[RegisteredTable]) -> None:
        """Shared state: this host's DuckDB copy of the approved tables brought up to the shared registry (from
        PostgreSQL, where every host's `datasets add` put them). Embedded: the DuckDB file is the tables."""
        if self.state is None:
            return
        pull_tables(self._shared_engine(), self.approved.database, tables, self.settings.sql_path / "pulled.json")

    def _shared_engine(self) -> PostgresTarget:
        if self.postgres is None:
            raise GovDataError("with shared state (GOVDATA_STATE__POSTGRES_DSN) approved tables must live where "
                               "every app server reads them: set GOVDATA_SQL__ENGINE=postgres (docs/deploy.md)")
        return self.postgres

    def _publish(self, tables: list[RegisteredTable]) -> None:
        """Shared state: the registry's tables into PostgreSQL before the registry names them."""
        sync_tables(self._shared_engine(), self.approved.database, tables, self.settings.sql_path / "postgres.json")
        atomic_write(self.settings.sql_path / "pulled.json", json.dumps({t.name: t.version for t in tables}))

    def add(self, path: Path, *, name: str | None, access_level: str | None, describe: Path | None,
            role: str | None = None, user: str = "") -> AddResult:
        """Register PATH's tables, then index every approved table as a catalog record for dataset search. With
        `role` (the steward adding), every knowledge item on a table whose version changed is run again as that
        role (issue 32): suspended when it fails, flagged when its result changed shape."""
        if self.state is not None:
            added, unchanged = self.approved.add(path, name=name, access_level=access_level, describe=describe,
                                                 prepare=self.local_copy, publish=self._publish)
        else:
            added, unchanged = self.approved.add(path, name=name, access_level=access_level, describe=describe)
        if self.postgres is not None and self.state is None:  # PostgreSQL mirrors the registry
            sync_tables(self.postgres, self.approved.database, self.approved.tables(),
                        self.settings.sql_path / "postgres.json")
        if unchanged and (self.settings.sql_path / "catalog.json").is_file():
            return AddResult(added, 0, unchanged=True)
        rechecked = self.curation.recheck({t.name: t.version for t in added}, role, user) if role else []
        summary = self._ingest([self.write_catalog()])
        return AddResult(added, int(getattr(summary, "added", 0)) + int(getattr(summary, "updated", 0)),
                         rechecked=rechecked)

    def write_catalog(self) -> Path:
        """A DCAT-US data.json of the approved tables, so dataset search finds them (and their access level)."""
        path = self.settings.sql_path / "catalog.json"
        records = [_dcat_record(t) for t in self.approved.tables()]
        atomic_write(path, json.dumps({"conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
                                       "dataset": records}, ensure_ascii=False, indent=1))
        return path

    def context(self, role: str, *, db: Path | None = None, dataset: str | None = None,
                grants: Grants = ()) -> SqlContext:
        """The tables a call may use: an ad-hoc database (all tables), or the registry filtered by role and widened
        by the caller's grants; `dataset` narrows either to one table."""
        context = self.adhoc_context(db) if db is not None else self.role_context(role, grants)
        if dataset is None:
            return context
        tables = [t for t in context.tables if t.name == dataset.lower()]
        if not tables:
            raise FieldError("dataset", "no approved table of that name for this role", dataset)
        approval = Approval.of([a for a in context.approval.tables.values() if a.name.lower() == dataset.lower()])
        return replace(context, tables=tables, approval=approval,
                       grants={k: v for k, v in context.grants.items() if k == tables[0].name})

    def role_context(self, role: str, grants: Grants = ()) -> SqlContext:
        """The approved tables of the role's access levels and those its organisation's grants open (issue 33), its
        sensitive-column policy, and what it may not use. A grant's rows and columns are the engine wall's: the
        profile's file (or PostgreSQL login) holds only them, and is named by what it holds, so a changed,
        revoked or expired grant never reaches an old file. Tables about people stay under the role's disclosure
        control whatever grant opened them (issue 35)."""
        granted = self.granted(role, grants)
        every = self.approved.tables()
        if not granted.tables:
            raise GovDataError(f"no approved tables for role {role!r}; a data steward adds them with "
                               "`govdata datasets add`, or grants your organisation access (`govdata grants request`)")
        record = get_role(role, self.settings.roles_file)
        under = [t for t in granted.tables if t.unit] if record.microdata == "deny" else []
        profile = profile_of(granted.approval, granted.tables, every, granted.row_filters,
                             record_keys=record_keys(under))
        database = self.profiles.database(profile)
        tables = [self._as_granted(t, granted, profile, database) if t.name in granted.grants else t
                  for t in granted.tables]
        policy = SdcPolicy(declared(under, self.settings.sdc.k), SdcRules.of(self.settings.sdc),
                           self.sdc_secret) if under else None
        return SqlContext(database, _without_ranges(tables, under), granted.approval,
                          withheld_documents(every, granted.approval), self.postgres, profile,
                          grants=dict(granted.grants), sdc=policy)

    def granted(self, role: str, grants: Grants = ()) -> Granted:
        """The role's approval over the registry with the caller's active grants joined in (no files built)."""
        record = get_role(role, self.settings.roles_file)
        every = self.approved.tables()
        self.local_copy(every)
        tables = [t for t in every if t.access_level in record.access_levels]
        return with_grants(every, self.approved.approval(record.access_levels, record.sensitive_columns, tables),
                           grants)

    def _as_granted(self, table: RegisteredTable, granted: Granted, profile: AccessProfile,
                    database: Path) -> RegisteredTable:
        """A table opened by a grant as its grantee sees it: only the readable columns, and the row count, values
        and ranges of its own rows (read once per profile file from that file, never from the approved table)."""
        key = (profile.key, table.name)
        if key not in self._granted_views:
            access = granted.approval.table(table.name)
            denied = access.denied if access else frozenset()
            columns = [c for c in table.columns if c.name not in denied]
            if profile.full:
                self._granted_views[key] = replace(table, columns=columns)
            else:
                held = next(({n.lower() for n in r.held()} for r in profile.relations if r.name == table.name), set())
                self._granted_views[key] = _described(table, columns, held, locked_connection(
                    database, self.limits(), shared=True))
        return self._granted_views[key]

    def adhoc_context(self, db: Path) -> SqlContext:
        """An ad-hoc database (a file or folder the caller names): every table approved, whatever the role."""
        self._refuse_own_files(db)
        database, tables = adhoc_database(db, self.settings.sql_path / "adhoc")
        return SqlContext(database, tables, full_approval(tables))

    def _refuse_own_files(self, db: Path) -> None:
        """`--db` treats every table as approved and no column as sensitive, so it must never open the approved
        database (or a hard link to it), the audit log or anything else under GOVDATA_HOME."""
        path, home = db.expanduser().resolve(), self.settings.home.expanduser().resolve()
        if path == home or home in path.parents or _is_one_of(path, _own_files(home)):
            raise FieldError("db", "this is the assistant's own data under GOVDATA_HOME; query the approved "
                             "tables without an ad-hoc database so the role's access policy applies", db)

    def checked_rows(self, table: str, predicate: str, *, run: bool = True) -> str:
        """A grant's row predicate as it will run (assistant/sql/predicates.py), after it ran once on the approved
        table (`run`): a predicate that names an unknown column, holds a subquery or does not run is refused.
        Without `run` (a request) only its form is checked, never its column names."""
        found = next((t for t in self.approved.tables() if t.name == table), None)
        if found is None:
            raise FieldError("dataset_id", "no approved table has this name", table)
        checked = checked_predicate(predicate, [c.name for c in found.columns] if run else None)
        if run:
            con = locked_connection(self.approved.database, self.limits())
            try:
                con.execute(f"SELECT count(*) FROM {quote(table)} WHERE {checked}").fetchone()
            except duckdb.Error as exc:
                raise FieldError("rows", f"the predicate does not run on {table}: {engine_message(exc)}") from None
            finally:
                con.close()
        return checked

    def check(self, sql: str, *, role: str, db: Path | None = None, grants: Grants = ()) -> Verdict:
        """The guard's verdict, and for a role under disclosure control whether the query is an aggregate it may
        run over a table about people."""
        context = self.context(role, db=db, grants=grants)
        verdict = self.guard.check(sql, context.approval)
        if not verdict.allowed or verdict.query is None or context.sdc is None:
            return verdict
        try:
            planned = SdcRunner(self._runner(context), context.sdc).plan(verdict.query)
        except SdcRefused as refused:
            return Verdict(False, refused.reason, sql)
        if planned is None:
            return verdict
        return replace(verdict, reason=f"allowed: an aggregate of {planned.table.name} under disclosure control "
                                       "(small cells suppressed, counts and sums perturbed)")

    def run(self, sql: str, *, role: str, db: Path | None = None, grants: Grants = ()) -> SqlResult:
        context = self.context(role, db=db, grants=grants)
        query = self.guard.guard(sql, context.approval)
        result = self._runner(context).run(query)
        known = {t.name: t.version for t in context.tables}
        return replace(result, dataset_versions={name: known.get(name, "") for name in result.tables},
                       grants=used_grants(context, result.tables))

    def ask(self, question: str, *, role: str, db: Path | None = None, dataset: str | None = None,
            grants: Grants = ()) -> SqlAnswer:
        if not question.strip():
            raise GovDataError("QUESTION must not be empty")
        context = self.context(role, db=db, dataset=dataset, grants=grants)
        whole = context if db is None or dataset is None else self.adhoc_context(db)  # the fingerprint's tables
        taught = self.taught(context, "" if db is None else _fingerprint(whole.tables))
        if context.sdc is not None:  # no worked pair the role's disclosure control would refuse (issue 35)
            taught = [i for i in taught if i.kind != "pair" or self._sdc_allows(context, i.sql)]
        if get_role(role, self.settings.roles_file).masks_pii:  # the model never sees values the role may not
            context = replace(context, tables=pii.mask_any(context.tables)[0], masks_pii=True)
            taught = [_masked(item) for item in taught]  # a question's words too, and a note's
        answer = self.generator.ask(question, context, taught)
        return replace(answer, grants=used_grants(context, list(answer.dataset_versions)))

    def scope(self, db: Path | None) -> str:
        """Whose knowledge a call uses: "" for the approved tables, else the ad-hoc database's fingerprint."""
        return "" if db is None else _fingerprint(self.adhoc_context(db).tables)

    def taught(self, context: SqlContext, scope: str) -> list[KnowledgeItem]:
        """The knowledge in use for this call (`scope`: "" the approved tables, else an ad-hoc database's
        fingerprint) that its role may read (`lessons.readable`); every item of an ad-hoc database, whose tables
        are all approved. None when knowledge_tokens is 0."""
        if self.settings.sql.knowledge_tokens == 0:
            return []
        items = [i for i in self.knowledge.items() if i.db == scope and i.in_use()]
        if scope or not items:
            return items
        hidden = hidden_names(context.approval, context.tables, self.approved.tables())
        return readable(items, context.approval, self.guard, hidden)

    def reviewable(self, items: list[KnowledgeItem], role: str) -> list[KnowledgeItem]:
        """The items a reviewing role may read in the queue: an ad-hoc database's, and those on the approved tables
        whose tables it may query and whose words name no column it may not read. The guard is not asked: a
        suspended item fails it by definition and must still reach the steward."""
        record = get_role(role, self.settings.roles_file)
        every = self.approved.tables()
        approval = self.approved.approval(record.access_levels, record.sensitive_columns, every)
        hidden = hidden_names(approval, every, every)
        return [i for i in items if i.db or (all(approval.table(n) for n in i.tables) and not names_any(
            " ".join((i.question, i.term, i.text, i.sql)), hidden))]

    def verify(self, item: KnowledgeItem, role: str, db: Path | None = None) -> Verified:
        """An item checked as ROLE on the tables it may query: its SQL (a term's expression, read from its table)
        passes the guard and runs; a note's or term's tables exist. The tables it uses at their current versions,
        and its result's columns."""
        context = self.context(role, db=db)
        known = {t.name: t.version for t in context.tables}
        if item.kind in ("note", "term") and not item.tables and (item.kind == "note" or item.sql):
            raise FieldError("table", f"a {item.kind} names the table it is about")
        if item.kind == "term" and item.sql and len(item.tables) != 1:
            raise FieldError("table", "a term's SQL expression is read from one table")
        sql, names = checked_sql(item), [n.lower() for n in item.tables]
        columns: tuple[str, ...] = ()
        if sql:
            try:
                query = self.guard.guard(sql, context.approval)
            except SqlRejected as rejected:
                raise GovDataError(f"SQL rejected: {rejected.reason}") from None
            columns = tuple(self._runner(context).run(query).columns)
            names = list(query.tables) if item.kind == "pair" else names
        missing = [n for n in names if n not in known]
        if missing:
            raise GovDataError(f"not an approved table this role may query: {', '.join(missing)}")
        return Verified({n: known[n] for n in names}, columns)

    def _sdc_allows(self, context: SqlContext, sql: str) -> bool:
        assert context.sdc is not None
        try:
            SdcRunner(self._runner(context), context.sdc).plan(self.guard.guard(sql, context.approval))
        except (SdcRefused, SqlRejected):
            return False
        return True

    def versions(self, tables: list[str], *, db: Path | None = None) -> dict[str, str]:
        """The version of each named table (registry, or the ad-hoc database's content hash)."""
        known = self.adhoc_context(db).tables if db is not None else self.approved.tables()
        versions = {t.name: t.version for t in known}
        return {name: versions.get(name, "") for name in tables}

    def has_sensitive(self, tables: list[str]) -> bool:
        """Whether any of these registered tables has a column flagged sensitive."""
        wanted = {name.lower() for name in tables}
        return any(c.sensitive for t in self.approved.tables() if t.name in wanted for c in t.columns)

    def learn(self, question: str, sql: str, role: str, user: str = "") -> KnowledgeItem:
        """Store a pair verified by ROLE (it passes the guard and runs on the tables that role may query) as an
        approved knowledge item: a steward's direct approval."""
        return self.curation.learn(question, sql, role, user)


def used_grants(context: SqlContext, tables: list[str]) -> list[str]:
    """The grants through which these tables were read (for the receipt and the result)."""
    return sorted({g for name in tables for g in context.grants.get(name.lower(), ())})


def _described(table: RegisteredTable, columns: list[Any], held: set[str],
               con: duckdb.DuckDBPyConnection) -> RegisteredTable:
    """The table with its row count and column values read from a profile's file (a read-only cursor); a column
    the file does not hold (a unit column under disclosure control) keeps its name and shows no values."""
    try:
        read = {c.name: c for c in described_values(con, table.name, [c for c in columns if c.name.lower() in held])}
        found = con.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()
    except duckdb.Error as exc:
        raise GovDataError(f"cannot read the access profile's table {table.name}: {first_line(exc)}") from None
    finally:
        con.close()
    described = [read.get(c.name) or replace(c, samples=[], examples=[], range=[], distinct=0) for c in columns]
    return replace(table, columns=described, row_count=int(found[0]) if found else 0)


def _fingerprint(tables: list[RegisteredTable]) -> str:
    return fingerprint({t.name: t.version for t in tables})


def _masked(item: KnowledgeItem) -> KnowledgeItem:
    """The item's texts with personal data masked, for a role that masks it."""
    def masked(text: str) -> str:
        return pii.mask_text(text)[0]

    return replace(item, question=masked(item.question), term=masked(item.term), text=masked(item.text),
                   sql=masked(item.sql))


def _own_files(home: Path) -> set[tuple[int, int]]:
    """(device, inode) of every file under GOVDATA_HOME: a hard link to any of them is the same file."""
    found: set[tuple[int, int]] = set()
    for folder, _, names in os.walk(home):
        for name in names:
            try:
                stat = os.stat(os.path.join(folder, name), follow_symlinks=False)
            except OSError:
                continue
            found.add((stat.st_dev, stat.st_ino))
    return found


def _is_one_of(path: Path, files: set[tuple[int, int]]) -> bool:
    """Whether PATH (a file, or any file in a folder) is one of `files`."""
    candidates = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else []
    for candidate in candidates:
        try:
            stat = candidate.stat()
        except OSError:
            continue
        if (stat.st_dev, stat.st_ino) in files:
            return True
    return False


def _without_ranges(tables: list[RegisteredTable], under: list[RegisteredTable]) -> list[RegisteredTable]:
    """The tables as a role under disclosure control may see them: a table about people keeps its frequent values
    but not the min..max of a column (one person's value each) nor examples of many-valued text (single people's),
    and its unit column shows no values and says it is only counted (the profile's file does not hold it)."""
    units = {t.name: t.unit_column for t in under}
    return [replace(t, columns=[_as_under(c, units[t.name]) for c in t.columns]) if t.name in units else t
            for t in tables]


def _as_under(column: ColumnInfo, unit_column: str) -> ColumnInfo:
    if column.name != unit_column:
        return replace(column, range=[], examples=[])
    note = f"identifies each unit; it can only be counted: count(DISTINCT {column.name})"
    return replace(column, range=[], examples=[], samples=[], distinct=0,
                   description=f"{column.description} ({note})" if column.description else note)


def withheld_documents(tables: list[RegisteredTable], approval: Approval) -> tuple[str, ...]:
    """What the role may not use, as text to score questions against: whole tables of other access levels and
    denied columns of its own tables. Never shown to the model or the user."""
    out = []
    for table in tables:
        access = approval.table(table.name)
        if access is None:
            out.append(table_document(table))
            continue
        out.extend(f"{table.name} {c.name} {c.label} {c.description}" for c in table.columns if c.name in access.denied)
    return tuple(out)


def _dcat_record(table: RegisteredTable) -> dict[str, Any]:
    columns = "; ".join(
        f"{c.name}" + (f" ({c.description[:60]})" if c.description else "") for c in table.columns[:60]
    )
    description = f"{table.description}\nApproved table `{table.name}` ({table.row_count} rows). Columns: {columns}"
    return {
        "title": table.title, "description": description.strip(), "identifier": f"{DATASET_PREFIX}{table.name}",
        "accessLevel": table.access_level, "publisher": {"name": table.publisher} if table.publisher else None,
        "keyword": sorted({c.name for c in table.columns} | {c.label for c in table.columns if c.label}),
        "modified": table.registered_at[:10], "license": table.license or None,
        **({"theme": list(table.themes)} if table.themes else {}),
        "distribution": [{"format": "DuckDB table", "title": f"approved table {table.name}",
                          "accessURL": f"govdata sql ask --dataset {table.name} QUESTION"}],
    }
