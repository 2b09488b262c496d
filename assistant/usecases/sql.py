"""Use cases over approved tables: questions, checks and runs of SQL, the role's tables, approving tables and
learning verified pairs."""

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.audit import content_hash
from assistant.sql.sdc import public
from core.errors import GovDataError

if TYPE_CHECKING:
    from assistant.policy.grants import Grant
    from assistant.sql.generate import SqlAnswer, SqlContext
    from assistant.sql.guard import Verdict
    from assistant.sql.knowledge import KnowledgeItem
    from assistant.sql.runner import SqlResult
    from assistant.sql.service import AddResult

from assistant.usecases.desk import Desk, _entry


class SqlUseCases(Desk):

    @_entry("sql.ask")
    def sql_ask(self, question: str, *, role: str, db: Path | None = None, dataset: str | None = None,
                user: str | None = None) -> "SqlAnswer":
        """Question -> guarded SQL -> rows over the role's approved tables; leaves a receipt (a refusal too)."""
        with self._receipt("sql.ask", role, user, question=question, route="sql",
                           settings=self._sql_settings(db)) as receipt:
            grants = self._grants(user) if db is None else ()
            with self.model_gate.slot(receipt.user, role):  # model work: the engine's gate stays for runs
                answer = self.sql.ask(question, role=role, db=db, dataset=dataset, grants=grants)
            if answer.sdc:
                self._within_daily_limit(receipt.user)
            shown, found = self._shown(role, answer)
            receipt.datasets, receipt.sql = dict(answer.dataset_versions), answer.sql
            receipt.row_count, receipt.model = answer.row_count, self.settings.llm.model
            receipt.answer_hash = content_hash([shown.columns, shown.rows])
            receipt.grants = list(answer.grants)
            receipt.raw_values = self._raw(role, list(answer.dataset_versions), found) or _raw_grant(grants,
                                                                                                    answer.grants)
            receipt.outcome = f"error: {answer.error}" if answer.error else "ok"
            receipt.sources = [f"knowledge:{k}" for k in answer.knowledge]  # what it was taught (issue 32)
            receipt.sources += ["prompt:plain"] if answer.fallback else []  # the plain prompt wrote it (issue 27)
            receipt.sdc = dict(answer.sdc or {})
        return dataclasses.replace(shown, receipt_id=receipt.id, sdc=public(answer.sdc))

    @_entry("sql.run")
    def sql_run(self, sql: str, *, role: str, db: Path | None = None, user: str | None = None,
                action: str = "sql.run", grants: "tuple[Grant, ...] | None" = None) -> "SqlResult":
        """Guard and run SQL the user wrote; rejected and failed queries leave a receipt too. The caller's active
        grants apply (`grants` replaces them only for a steward's replay of a receipt)."""
        with self._receipt(action, role, user, sql=sql, route="sql", settings=self._sql_settings(db)) as receipt:
            applied = () if db is not None else self._grants(user) if grants is None else grants
            with self.gate.slot(receipt.user, role):
                result = self.sql.run(sql, role=role, db=db, grants=applied)
            if result.sdc:
                self._within_daily_limit(receipt.user)
            shown, found = self._shown(role, result)
            receipt.sql, receipt.datasets, receipt.row_count = result.sql, result.dataset_versions, result.row_count
            receipt.grants = list(result.grants)
            receipt.raw_values = self._raw(role, result.tables, found) or _raw_grant(applied, result.grants)
            receipt.answer_hash = content_hash([shown.columns, shown.rows])
            receipt.sdc = dict(result.sdc or {})
        return dataclasses.replace(shown, receipt_id=receipt.id, sdc=public(result.sdc))

    def _within_daily_limit(self, user: str) -> None:
        """Disclosure control's daily limit per user (GOVDATA_SDC__DAILY_QUERIES): averaging many answers over
        different splits of the same people would recover exact counts (docs/security.md), so each user gets a
        bounded number of protected answers a day; the answer over the limit is refused, and its receipt says so."""
        limit = self.settings.sdc.daily_queries
        if not limit:
            return
        today = datetime.now(UTC).date().isoformat()
        if self.audit.protected_since(user, today) >= limit:
            raise GovDataError(f"disclosure control: {user} has had {limit} answers over tables about people today, "
                               "the daily limit; ask again tomorrow (UTC) or ask a data steward")

    @_entry("sql.check")
    def sql_check(self, sql: str, *, role: str, db: Path | None = None, user: str | None = None) -> "Verdict":
        """The guard's verdict on SQL for the role, with its reason; nothing runs. Leaves a receipt."""
        with self._receipt("sql.check", role, user, sql=sql, route="sql", settings=self._sql_settings(db)) as receipt:
            grants = self._grants(user) if db is None else ()
            verdict = self.sql.check(sql, role=role, db=db, grants=grants)
            receipt.outcome = "allowed" if verdict.allowed else f"rejected: {verdict.reason}"
            if verdict.query is not None:
                receipt.datasets = self.sql.versions(list(verdict.query.tables), db=db)
                if grants:
                    used = self.sql.granted(role, grants).grants
                    receipt.grants = sorted({g for t in verdict.query.tables for g in used.get(t, ())})
        shown, _ = self._shown(role, dataclasses.replace(verdict, query=None))
        return dataclasses.replace(shown, query=verdict.query)

    @_entry("sql.check")
    def eval_guard_line(self, row: dict[str, Any], db: Path, *, role: str,
                        user: str | None = None) -> dict[str, Any]:
        """One line of `eval guard`: the verdict on row["sql"] over an ad-hoc database whose approval the row
        may only narrow (approved_tables, denied_columns). Nothing runs; leaves a `sql.check` receipt."""
        from assistant.sql.evalguard import guard_line

        sql = str(row.get("sql", ""))
        with self._receipt("sql.check", role, user, sql=sql, route="sql", settings=self._sql_settings(db)) as receipt:
            record = guard_line(self.sql, row, db)
            receipt.outcome = "allowed" if record["allowed"] else f"rejected: {record['reason']}"
        return record

    @_entry("sql.tables")
    def sql_tables(self, role: str, *, db: Path | None = None, user: str | None = None) -> "SqlContext":
        """The approved tables the role may query, as the role may see them (samples masked). Leaves a receipt."""
        with self._receipt("sql.tables", role, user, route="sql", settings=self._sql_settings(db)) as receipt:
            context = self.sql.context(role, db=db, grants=self._grants(user) if db is None else ())
            tables, _ = self._shown(role, context.tables)
            receipt.datasets = {t.name: t.version for t in context.tables}
            receipt.grants = sorted({g for ids in context.grants.values() for g in ids})
        return dataclasses.replace(context, tables=tables)

    @_entry("datasets.add")
    def add_tables(self, path: Path, *, name: str | None = None, access_level: str | None = None,
                   describe: Path | None = None, role: str, user: str | None = None) -> "AddResult":
        """Approve PATH's tables for SQL questions (a steward's action, `tables.approve`); leaves a receipt."""
        with self._receipt("datasets.add", role, user, question=str(path), route="sql",
                           settings={"name": name, "access_level": access_level,
                                     "describe": str(describe) if describe else None}) as receipt:
            self.role(role).require("tables.approve")
            result = self.sql.add(path, name=name, access_level=access_level, describe=describe, role=role,
                                  user=receipt.user)
            receipt.datasets = {t.name: t.version for t in result.tables}
            receipt.outcome = "unchanged" if result.unchanged else "ok"
        if result.rechecked:  # the knowledge on the changed tables, run again as this steward (issue 32)
            from assistant.usecases.knowledge import recheck_outcome

            with self._receipt("knowledge.recheck", role, user, question=f"datasets add {path}",
                               route="sql") as rechecked:
                recheck_outcome(rechecked, result.rechecked)
        return result

    @_entry("sql.learn")
    def learn(self, question: str, sql: str, *, role: str, user: str | None = None) -> "KnowledgeItem":
        """Store a verified question/SQL pair (`sql.learn`) after it passes the guard and runs: an approved
        knowledge item, a steward's direct approval (issue 32); leaves a receipt."""
        with self._receipt("sql.learn", role, user, question=question, sql=sql, route="sql") as receipt:
            self.role(role).require("sql.learn")
            item = self.sql.learn(question, sql, role, receipt.user)
            receipt.datasets, receipt.outcome = dict(item.tables), f"approved {item.id}"
        return item


def _raw_grant(grants: "tuple[Grant, ...]", used: list[str]) -> bool:
    """Whether a grant used here shows sensitive columns raw: its receipts say `raw_values` like a steward's."""
    return any(g.raw and g.columns and g.id in used for g in grants)
