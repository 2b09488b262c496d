"""One line of `govdata eval guard`: the verdict on a statement against a database's (narrowed) approval."""

from pathlib import Path
from typing import Any

from assistant.sql.guard import Approval, TableAccess
from core.errors import GovDataError


def narrowed(approval: Approval, approved_tables: Any, denied_columns: Any) -> Approval:
    """Keep only `approved_tables` (all when absent); deny columns given as ["t.c" | "c"] or {"t": ["c"]}."""
    tables = list(approval.tables.values())
    if approved_tables is not None:
        if not isinstance(approved_tables, list):
            raise GovDataError("approved_tables must be a list of table names")
        wanted = {str(t).lower() for t in approved_tables}
        tables = [t for t in tables if t.name.lower() in wanted]
    denied = _denied_map(denied_columns)
    return Approval.of([
        TableAccess(t.name, t.columns, t.masked, t.denied | frozenset(denied.get(t.name.lower(), set()) |
                                                                     denied.get("*", set())))
        for t in tables
    ])


def _denied_map(value: Any) -> dict[str, set[str]]:
    if value is None:
        return {}
    out: dict[str, set[str]] = {}
    if isinstance(value, dict):
        for table, columns in value.items():
            out.setdefault(str(table).lower(), set()).update(str(c).lower() for c in columns)
        return out
    if not isinstance(value, list):
        raise GovDataError("denied_columns must be a list of \"table.column\" or a {table: [columns]} object")
    for item in value:
        table, _, column = str(item).lower().rpartition(".")
        out.setdefault(table or "*", set()).add(column)
    return out


def guard_line(sql_service: Any, row: dict[str, Any], db: Path) -> dict[str, Any]:
    try:
        context = sql_service.adhoc_context(db)
        approval = narrowed(context.approval, row.get("approved_tables"), row.get("denied_columns"))
    except GovDataError as exc:
        return {"id": row["id"], "allowed": False, "reason": f"cannot load database: {exc}"}
    verdict = sql_service.guard.check(str(row["sql"]), approval)
    return {"id": row["id"], "allowed": verdict.allowed, "reason": verdict.reason, "sql": verdict.sql}
