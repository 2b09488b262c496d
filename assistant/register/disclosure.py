"""The disclosure report (披露): how public data was used, for the public, built from the audit receipts.

Counts only, by dataset, role, interface, month and outcome, and what disclosure control did to answers over tables
about people (issue 35: results protected, cells suppressed, groups not shown, queries refused); never a user,
never a question. Any count below
the threshold is shown as "<N"; when only one cell of a dimension is, the next smallest is shown as
"suppressed", so the hidden one cannot be worked out from the total by subtraction.
"""

import html
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from assistant import csvsafe
from assistant.register import operation

USE_ACTIONS = ("ask", "docs.search", "datasets.search", "sql.ask", "sql.run", "sql.replay")
SQL_ACTIONS = ("sql.ask", "sql.run", "sql.replay")
Cell = int | str


def _outcome(receipt: Any) -> str:
    text = str(receipt.outcome)
    if text.startswith("refused"):
        return "refused"
    if text.startswith(("failed", "error")):
        return "failed"
    if text == "not found":
        return "declined"
    return "abandoned" if text == "abandoned" else "answered"


def build(receipts: Iterable[Any], levels: dict[str, str], threshold: int, since: str | None = None,
          until: str | None = None) -> dict[str, Any]:
    """The report's numbers (already suppressed); `levels` gives each dataset's access level."""
    uses = [r for r in receipts if r.action in USE_ACTIONS]
    by_dataset: Counter[str] = Counter()
    dataset_roles: dict[str, Counter[str]] = defaultdict(Counter)
    restricted: Counter[tuple[str, str, str]] = Counter()
    documents: Counter[str] = Counter()
    for r in uses:
        if r.action in SQL_ACTIONS and _outcome(r) == "answered":
            for name in r.datasets:
                by_dataset[name] += 1
                dataset_roles[name][r.role] += 1
                if levels.get(name, "public") != "public":
                    restricted[(name, levels[name], r.role)] += 1
        if r.action == "ask" and _outcome(r) == "answered":
            documents.update({PurePath(s).stem for s in r.sources})
    outcomes = Counter(_outcome(r) for r in uses)
    report: dict[str, Any] = {
        "title": "How public data was used",
        "period": {"since": since, "until": until},
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "suppressed_below": threshold,
        "requests": _cell(len(uses), threshold),
        "outcomes": _suppress(dict(outcomes), threshold),
        "by_action": _suppress(dict(Counter(r.action for r in uses)), threshold),
        "by_role": _suppress(dict(Counter(r.role for r in uses)), threshold),
        "by_interface": _suppress(dict(Counter(r.interface for r in uses)), threshold),
        "by_month": _suppress(dict(sorted(Counter(r.time[:7] for r in uses).items())), threshold),
        "datasets": [{"dataset": name, "access_level": levels.get(name, "public"), "uses": _cell(n, threshold),
                      "by_role": _suppress(dict(dataset_roles[name]), threshold)}
                     for name, n in by_dataset.most_common()],
        "documents_cited": [{"document": name, "citations": _cell(n, threshold)}
                            for name, n in documents.most_common()],
        "restricted_access": [{"dataset": d, "access_level": level, "role": role, "uses": _cell(n, threshold)}
                              for (d, level, role), n in sorted(restricted.items())],
        "raw_personal_data_reads": _suppress(dict(Counter(r.role for r in uses if r.raw_values)), threshold),
        "disclosure_control": _disclosure_control(uses, threshold),
    }
    return report


def _disclosure_control(uses: list[Any], threshold: int) -> dict[str, Any]:
    """Per table about people: answers protected, cells suppressed by the threshold and dominance rules and to
    protect other cells, groups not shown, and row-level queries refused (from the receipts' `sdc`)."""
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for r in uses:
        report = getattr(r, "sdc", None) or {}
        if report.get("table"):
            counts = totals[str(report["table"])]
            counts["protected_results"] += 1
            for key in ("threshold_cells", "dominance_cells", "secondary", "hidden_groups"):
                counts[key] += int(report.get(key) or 0)
        elif "disclosure control" in str(r.outcome):
            totals["(refused)"]["refused_queries"] += 1
    return {table: {key: _cell(n, threshold) for key, n in sorted(counts.items())} for table, counts in
            sorted(totals.items())}


def _cell(count: int, threshold: int) -> Cell:
    return f"<{threshold}" if 0 < count < threshold else count


SUPPRESSED = "suppressed"


def _suppress(counts: dict[str, int], threshold: int) -> dict[str, Cell]:
    """Small counts shown as "<N"; if exactly one was, the next smallest is shown as "suppressed" too (totals
    are shown elsewhere, and one hidden cell could be worked out from them)."""
    small = {k for k, n in counts.items() if 0 < n < threshold}
    also: set[str] = set()
    if len(small) == 1 and len(counts) > 1:
        also = {min((n, k) for k, n in counts.items() if k not in small)[1]}
    return {k: f"<{threshold}" if k in small else SUPPRESSED if k in also else n for k, n in counts.items()}


_SDC_WORDS = {"protected_results": "answers protected", "threshold_cells": "cells suppressed (fewer than k)",
              "dominance_cells": "cells suppressed (dominance)", "secondary": "cells suppressed to protect others",
              "hidden_groups": "groups of fewer than k not shown", "refused_queries": "row-level queries refused"}


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=1)


def to_csv(report: dict[str, Any]) -> str:
    """Long format: section, key, count (the dataset rows add the level)."""
    rows: list[list[Cell]] = [["requests", "all", "", report["requests"]]]
    for section in ("outcomes", "by_action", "by_role", "by_interface", "by_month", "raw_personal_data_reads"):
        rows += [[section, key, "", count] for key, count in report[section].items()]
    rows += [["datasets", row["dataset"], row["access_level"], row["uses"]] for row in report["datasets"]]
    rows += [["restricted_access", f"{row['dataset']} / {row['role']}", row["access_level"], row["uses"]]
             for row in report["restricted_access"]]
    rows += [["documents_cited", row["document"], "", row["citations"]] for row in report["documents_cited"]]
    rows += [["disclosure_control", f"{table} / {key}", "", count]
             for table, counts in report.get("disclosure_control", {}).items() for key, count in counts.items()]
    rows += [["authorised_operation", f"{g['grant']} / {g['organisation']} / {g['scope']}: {g['target']} / "
              f"{g['state']} / {month}", "", count] for g in report.get("authorised_operation", [])
             for month, count in (g["uses_by_month"] or {"all": g["uses"]}).items()]
    return csvsafe.to_csv(["section", "key", "access_level", "count"], rows)


def to_html(report: dict[str, Any]) -> str:
    """One self-contained page (no scripts, no links out): the tables and a bar chart of requests per month."""
    e = html.escape
    period = report["period"]
    span = f"{period['since'] or 'the first receipt'} to {period['until'] or 'now'}"

    def table(title: str, header: list[str], rows: list[list[Any]]) -> str:
        head = "".join(f"<th>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows) or (
            f"<tr><td colspan='{len(header)}'>none</td></tr>")
        return f"<h2>{e(title)}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    sections = [
        table("Requests by outcome", ["outcome", "requests"], [[k, v] for k, v in report["outcomes"].items()]),
        _month_chart(report["by_month"]),
        table("Datasets used", ["dataset", "access level", "uses", "by role"],
              [[d["dataset"], d["access_level"], d["uses"], ", ".join(f"{k}: {v}" for k, v in d["by_role"].items())]
               for d in report["datasets"]]),
        table("Restricted data accessed", ["dataset", "access level", "role", "uses"],
              [[r["dataset"], r["access_level"], r["role"], r["uses"]] for r in report["restricted_access"]]),
        table("Requests by role", ["role", "requests"], [[k, v] for k, v in report["by_role"].items()]),
        table("Requests by interface", ["interface", "requests"],
              [[k, v] for k, v in report["by_interface"].items()]),
        table("Documents cited in answers", ["document", "citations"],
              [[d["document"], d["citations"]] for d in report["documents_cited"]]),
        table("Disclosure control of tables about people", ["table", "what", "count"],
              [[t, _SDC_WORDS.get(k, k), v] for t, counts in report.get("disclosure_control", {}).items()
               for k, v in counts.items()]),
        table("Sharing and authorised operation (grants)", operation.HTML_HEADER,
              operation.html_rows(report.get("authorised_operation", []))),
    ]
    style = ("body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 10px;"
             "text-align:left}th{background:#f3f3f3}.bar{fill:#3b6ea5}.label{font-size:12px}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(report['title'])}</title>"
            f"<style>{style}</style></head><body><h1>{e(report['title'])}</h1>"
            f"<p>Period: {e(span)}. Requests: {e(str(report['requests']))}. Counts below "
            f"{report['suppressed_below']} are shown as &lt;{report['suppressed_below']}; no user and no question "
            f"appears in this report. Generated {e(report['generated'])}.</p>{''.join(sections)}</body></html>")


def _month_chart(months: dict[str, Cell]) -> str:
    """An inline SVG bar per month (suppressed months drawn at zero height and labelled as suppressed)."""
    if not months:
        return "<h2>Requests per month</h2><p>none</p>"
    numbers = [v for v in months.values() if isinstance(v, int)]
    top = max(numbers, default=1) or 1
    width, height, bar = 60 * len(months) + 20, 180, 40
    parts = []
    for n, (month, value) in enumerate(months.items()):
        size = int(140 * value / top) if isinstance(value, int) else 0
        x = 20 + n * 60
        parts.append(f"<rect class='bar' x='{x}' y='{150 - size}' width='{bar}' height='{size}'>"
                     f"<title>{html.escape(month)}: {html.escape(str(value))}</title></rect>"
                     f"<text class='label' x='{x}' y='{168}'>{html.escape(month)}</text>"
                     f"<text class='label' x='{x}' y='{145 - size}'>{html.escape(str(value))}</text>")
    return (f"<h2>Requests per month</h2><svg role='img' aria-label='Requests per month' width='{width}' "
            f"height='{height}' xmlns='http://www.w3.org/2000/svg'>{''.join(parts)}</svg>")
