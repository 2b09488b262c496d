"""Use cases over the audit log: receipts listed, shown, exported and verified, the head, replay, and the
public disclosure report."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.audit import Receipt, Verification, content_hash
from assistant.boundary import digest
from assistant.usecases.sql import SqlUseCases
from core.dates import parse_since, period_end
from core.errors import GovDataError

if TYPE_CHECKING:
    pass

from assistant.usecases.desk import _entry


class AuditUseCases(SqlUseCases):  # replay re-runs a receipt's SQL as a SQL use case

    @_entry("audit.read")
    def audit_receipts(self, *, role: str, user: str | None = None, of_user: str | None = None,
                       since: str | None = None, action: str | None = None, limit: int = 50) -> list[Receipt]:
        """Receipts newest first, filtered by user, time and action (`audit.read`)."""
        self._may_read_audit(role, user, f"list user={of_user} since={since} action={action}")
        start = parse_since(since).isoformat() if since else None
        return self._visible(role, self.audit.recent(user=of_user, since=start, action=action, limit=limit))

    @_entry("audit.read")
    def audit_receipt(self, receipt_id: int, *, role: str, user: str | None = None) -> Receipt:
        """One receipt in full (`audit.read`)."""
        self._may_read_audit(role, user, f"show {receipt_id}")
        return self._visible(role, self.audit.get(receipt_id))

    @_entry("audit.read")
    def own_receipt(self, receipt_id: int, *, role: str, user: str | None = None) -> Receipt:
        """The receipt of the caller's own request, to show beside its answer (issue 17); a role with
        `audit.read` may see any. Someone else's receipt is refused without saying whose it is."""
        receipt = self.audit.get(receipt_id)
        if receipt.user != self.user(user) and not self.allowed(role, "audit.read"):
            raise GovDataError(f"receipt {receipt_id} is not one of yours")
        return self._visible(role, receipt)

    @_entry("audit.read")
    def audit_export(self, fmt: str, *, role: str, user: str | None = None) -> str:
        """Every receipt, oldest first, as jsonl or csv (`audit.read`)."""
        self._may_read_audit(role, user, f"export {fmt}")
        return self.audit.export(fmt, (lambda receipt: self._visible(role, receipt)) if self._masks(role) else None)

    @_entry("audit.read")
    def audit_verify(self, *, role: str, user: str | None = None,
                     expect_head: str | None = None) -> tuple[Verification, dict[str, Any]]:
        """The chain checked from the first entry, and the head it ended at (`audit.read`)."""
        self._may_read_audit(role, user, "verify")
        log = self.audit
        return log.verify(expect_head), log.head()

    def _may_read_audit(self, role: str, user: str | None, what: str) -> None:
        """`audit.read` or a refusal on the log. Allowed reads leave no receipt: reading must not move the head
        that a witness compares, and the readers are the stewards whose own actions are on the log."""
        try:
            self.role(role).require("audit.read")
        except GovDataError as exc:
            self.record(Receipt("audit.read", self.user(user), role, question=what, outcome=f"refused: {exc}"))
            raise

    def audit_head(self) -> dict[str, Any]:
        """The newest receipt's id and hash (signed when a key is set). Meant to be published, so anyone may
        read it, and reading it leaves no receipt (one would move the head it just printed)."""
        return self.audit.head()

    @_entry("audit.read")
    def audit_replay(self, receipt_id: int, *, role: str, user: str | None = None) -> dict[str, Any]:
        """Re-run a receipt's SQL as its recorded role when every dataset is still at the recorded version
        (`audit.read`, then a `sql.replay` receipt); the report says same, different or version_changed."""
        self._may_read_audit(role, user, f"replay {receipt_id}")
        recorded = self.audit.get(receipt_id)
        if not recorded.action.startswith("sql.") or not recorded.sql:
            raise GovDataError(f"audit replay {receipt_id}: a {recorded.action} receipt has no SQL to replay")
        if recorded.outcome != "ok":
            raise GovDataError(f"audit replay {receipt_id}: the recorded query did not run ({recorded.outcome})")
        if recorded.sql_sha256 and digest(recorded.sql) != recorded.sql_sha256:
            raise GovDataError(f"audit replay {receipt_id}: the receipt keeps only the start of its SQL "
                               f"({len(recorded.sql):,} characters), so it cannot be replayed")
        db = Path(recorded.settings["db"]) if recorded.settings.get("db") else None
        current = self.sql.versions(list(recorded.datasets), db=db)
        changed = {name: {"recorded": old, "now": current.get(name, "")} for name, old in recorded.datasets.items()
                   if current.get(name) != old}
        report: dict[str, Any] = {"id": receipt_id, "sql": recorded.sql, "changed": changed}
        if changed:
            return self._visible(role, report | {"status": "version_changed"})
        cap = recorded.settings.get("row_cap")
        replayer = type(self)(self.settings.with_row_cap(int(cap)), self.interface) if cap else self
        book = self.grant_file.book()  # as recorded: the grants it ran under, as they stand now, whatever their state
        grants = tuple(book.grants[g] for g in recorded.grants if g in book.grants)
        result = replayer.sql_run(recorded.sql, role=recorded.role, user=user, db=db, action="sql.replay",
                                  grants=grants)
        same = content_hash([result.columns, result.rows]) == recorded.answer_hash
        return self._visible(role, report | {"status": "same" if same else "different",
                                             "row_count": result.row_count, "recorded_row_count": recorded.row_count,
                                             "replay_receipt_id": result.receipt_id})

    @_entry("audit.read")
    def disclose(self, *, role: str, user: str | None = None, since: str | None = None,
                 until: str | None = None) -> dict[str, Any]:
        """The public disclosure report over the receipts from `since` up to the end of `until` (`audit.read`):
        counts by dataset, role, interface, month and outcome, small counts suppressed, never a user or question;
        and each grant of sharing and authorised operation with its uses by month (issue 33)."""
        from assistant.policy.grants import today_utc
        from assistant.register import disclosure, operation

        self._may_read_audit(role, user, f"disclose since={since} until={until}")
        start = parse_since(since).isoformat() if since else None
        end = period_end(until).isoformat() if until else None
        receipts = [r for r in self.audit.recent(since=start, limit=100_000_000) if end is None or r.time < end]
        levels = {t.name: t.access_level for t in self.sql.approved.tables()}
        report = disclosure.build(receipts, levels, self.settings.disclosure.min_count, since, until)
        report["authorised_operation"] = operation.section(self.grant_file.book().grants.values(), receipts,
                                                           self.settings.disclosure.min_count, today_utc())
        return self._visible(role, report)
