"""The SQL side of Services: approved tables, checks, runs, questions and learned examples, per role."""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel

from assistant.policy import pii
from assistant.policy.roles import get_role
from assistant.register.grading import decisions_of
from assistant.sql.approved import ApprovedTables, PostgresRegistry, full_approval
from assistant.sql.examples import Examples, ExampleStore, PostgresExamples, VerifiedExample, readable_by
from assistant.sql.generate import SqlAnswer, SqlContext, SqlGenerator, runner_for, table_document
from assistant.sql.guard import Approval, SqlGuard, SqlRejected, Verdict
from assistant.sql.postgres import PostgresTarget, pull_tables, sync_tables, target_of
from assistant.sql.runner import Runner, RunnerLimits, SqlResult
from assistant.sql.values import ValueIndex
from assistant.sql.walls import ProfileDatabases, profile_of
from core.errors import FieldError, GovDataError
from core.files import atomic_write
from core.settings import Settings
from core.state import shared_state
from ingest.tables import RegisteredTable, adhoc_database

DATASET_PREFIX = "govdata-sql:"


@dataclass(frozen=True)
class AddResult:
    tables: list[RegisteredTable]
    indexed: int
    unchanged: bool = False


class SqlService:
    def __init__(self, settings: Settings, chat_model: Callable[[], BaseChatModel],
                 embed: Callable[[list[str]], np.ndarray], ingest: Callable[[list[Path]], Any]) -> None:
        self.settings = settings
        self.state = shared_state(settings.state)
        self.approved = ApprovedTables(settings.sql_path, decisions_of(settings),
                                       PostgresRegistry(self.state) if self.state is not None else None)
        self.examples: Examples = (PostgresExamples(self.state) if self.state is not None
                                   else ExampleStore(settings.sql_path / "examples.jsonl"))
        self._chat_model = chat_model
        self._embed = embed
        self._ingest = ingest
        self._generator: SqlGenerator | None = None

    @property
    def profiles(self) -> ProfileDatabases:
        """The DuckDB file of each access profile: what a role's queries (and value hints) may reach."""
        return ProfileDatabases(self.approved.database, self.settings.sql_path / "profiles")

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

    def add(self, path: Path, *, name: str | None, access_level: str | None, describe: Path | None) -> AddResult:
        """Register PATH's tables, then index every approved table as a catalog record for dataset search."""
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
        summary = self._ingest([self.write_catalog()])
        return AddResult(added, int(getattr(summary, "added", 0)) + int(getattr(summary, "updated", 0)))

    def write_catalog(self) -> Path:
        """A DCAT-US data.json of the approved tables, so dataset search finds them (and their access level)."""
        path = self.settings.sql_path / "catalog.json"
        records = [_dcat_record(t) for t in self.approved.tables()]
        atomic_write(path, json.dumps({"conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
                                       "dataset": records}, ensure_ascii=False, indent=1))
        return path

    def context(self, role: str, *, db: Path | None = None, dataset: str | None = None) -> SqlContext:
        """The tables a call may use: an ad-hoc database (all tables), or the registry filtered by role;
        `dataset` narrows either to one table."""
        context = self.adhoc_context(db) if db is not None else self.role_context(role)
        if dataset is None:
            return context
        tables = [t for t in context.tables if t.name == dataset.lower()]
        if not tables:
            raise FieldError("dataset", "no approved table of that name for this role", dataset)
        approval = Approval.of([a for a in context.approval.tables.values() if a.name.lower() == dataset.lower()])
        return replace(context, tables=tables, approval=approval)

    def role_context(self, role: str) -> SqlContext:
        """The approved tables of the role's access levels, its sensitive-column policy, and what it may not use."""
        record = get_role(role, self.settings.roles_file)
        every = self.approved.tables()
        self.local_copy(every)
        tables = [t for t in every if t.access_level in record.access_levels]
        if not tables:
            raise GovDataError(f"no approved tables for role {role!r}; a data steward adds them with "
                               "`govdata datasets add`")
        approval = self.approved.approval(record.access_levels, record.sensitive_columns, tables)
        profile = profile_of(approval, tables, every)
        return SqlContext(self.profiles.database(profile), tables, approval, withheld_documents(every, approval),
                          self.postgres, profile)

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

    def check(self, sql: str, *, role: str, db: Path | None = None) -> Verdict:
        return self.guard.check(sql, self.context(role, db=db).approval)

    def run(self, sql: str, *, role: str, db: Path | None = None) -> SqlResult:
        context = self.context(role, db=db)
        query = self.guard.guard(sql, context.approval)
        result = self._runner(context).run(query)
        known = {t.name: t.version for t in context.tables}
        return replace(result, dataset_versions={name: known.get(name, "") for name in result.tables})

    def ask(self, question: str, *, role: str, db: Path | None = None, dataset: str | None = None) -> SqlAnswer:
        if not question.strip():
            raise GovDataError("QUESTION must not be empty")
        context = self.context(role, db=db, dataset=dataset)
        examples = readable_by(self.examples.all(), context.approval, self.guard) if db is None else []
        if get_role(role, self.settings.roles_file).masks_pii:  # the model never sees values the role may not
            context = replace(context, tables=pii.mask_any(context.tables)[0], masks_pii=True)
            examples = pii.mask_any(examples)[0]  # a question's words too: pii.mask_text on every text field
        return self.generator.ask(question, context, examples)

    def versions(self, tables: list[str], *, db: Path | None = None) -> dict[str, str]:
        """The version of each named table (registry, or the ad-hoc database's content hash)."""
        known = self.adhoc_context(db).tables if db is not None else self.approved.tables()
        versions = {t.name: t.version for t in known}
        return {name: versions.get(name, "") for name in tables}

    def has_sensitive(self, tables: list[str]) -> bool:
        """Whether any of these registered tables has a column flagged sensitive."""
        wanted = {name.lower() for name in tables}
        return any(c.sensitive for t in self.approved.tables() if t.name in wanted for c in t.columns)

    def learn(self, question: str, sql: str, role: str) -> VerifiedExample:
        """Store a pair verified by ROLE after it passes the guard and runs on the tables that role may query."""
        if not question.strip():
            raise GovDataError("QUESTION must not be empty")
        context = self.context(role)
        try:
            query = self.guard.guard(sql, context.approval)
        except SqlRejected as rejected:
            raise GovDataError(f"SQL rejected: {rejected.reason}") from None
        self._runner(context).run(query)
        return self.examples.add(question, sql, query.tables)


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
        "distribution": [{"format": "DuckDB table", "title": f"approved table {table.name}",
                          "accessURL": f"govdata sql ask --dataset {table.name} QUESTION"}],
    }
