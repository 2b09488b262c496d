"""The disclosure report's section on sharing and authorised operation (issue 33): each grant — organisation,
scope, purpose, term, state — and how many uses were made under it each month, counted from the receipts that
carry its id. Never a row, a question, a user or a predicate: only whether the rows are limited.

Small monthly counts are shown as "<N" like every count of the report (assistant/register/disclosure.py).
"""

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

USES = ("datasets.search", "datasets.get", "sql.ask", "sql.run", "sql.replay")  # reads of data or records


def section(grants: Iterable[Any], receipts: Iterable[Any], threshold: int, today: date) -> list[dict[str, Any]]:
    """One row per grant, oldest first."""
    months: dict[str, Counter[str]] = {}
    for receipt in receipts:
        if receipt.action in USES and not str(receipt.outcome).startswith(("refused", "failed")):
            for grant_id in getattr(receipt, "grants", None) or ():
                months.setdefault(grant_id, Counter())[receipt.time[:7]] += 1
    rows = []
    for grant in grants:
        used = months.get(grant.id, Counter())
        rows.append({
            "grant": grant.id, "organisation": grant.org, "scope": grant.scope, "target": grant.target,
            "columns": list(grant.columns), "rows_limited": bool(grant.rows), "purpose": grant.purpose,
            "from": grant.start, "until": grant.until, "state": grant.state(today), "version": grant.version,
            "uses": _cell(sum(used.values()), threshold),
            "uses_by_month": {month: _cell(n, threshold) for month, n in sorted(used.items())},
        })
    return rows


def _cell(count: int, threshold: int) -> int | str:
    return f"<{threshold}" if 0 < count < threshold else count


def html_rows(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The section as the report's HTML table rows."""
    return [[r["grant"], r["organisation"], _scope(r), r["purpose"], f"{r['from']} to {r['until']}", r["state"],
             r["uses"], ", ".join(f"{m}: {n}" for m, n in r["uses_by_month"].items())] for r in rows]


def _scope(row: dict[str, Any]) -> str:
    columns = f" ({', '.join(row['columns'])})" if row["columns"] else ""
    return f"{row['scope']}: {row['target']}{columns}" + (" — some rows" if row["rows_limited"] else "")


HTML_HEADER = ["grant", "organisation", "scope", "purpose", "term", "state", "uses", "uses by month"]
