"""The public data resource register (登记): every ingested catalog record and every approved table as one entry
with its metadata, where it came from, and its quality score with reasons. Built from what the store and the
SQL registry already hold; nothing here writes.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from assistant.csvsafe import records_to_csv
from assistant.register.periodicity import read_periodicity
from assistant.register.quality import Quality, Resource, duplicate_groups, score

CATALOG_RECORD, APPROVED_TABLE = "catalog record", "approved table"
KINDS = (CATALOG_RECORD, APPROVED_TABLE)


@dataclass(frozen=True)
class Entry:
    resource: Resource
    quality: Quality

    def to_json(self) -> dict[str, Any]:
        """One register entry; `id`, `kind`, `score` and `reasons` are a public contract (issue 16)."""
        r, period = self.resource, read_periodicity(self.resource.update_frequency)
        return {
            "id": r.id, "kind": r.kind, "title": r.title, "publisher": r.publisher, "access_level": r.access_level,
            "license": r.license, "formats": list(r.formats), "update_frequency": r.update_frequency,
            "update_every_days": period.days, "modified": r.modified, "contact": r.contact, "version": r.version,
            "source": r.source, "catalog": r.catalog, "language": r.language, "score": self.quality.score,
            "stale": self.quality.stale,
            "reasons": [{"rule": loss.rule, "points": -loss.points, "reason": loss.reason}
                        for loss in self.quality.losses],
        }


def from_record(item_id: str, payload: dict[str, Any]) -> Resource:
    """A catalog record as ingest stored it (the content table's payload)."""
    def text(key: str) -> str:
        value = payload.get(key)
        return "" if value is None else str(value)

    urls = [text("landing_page")] + [str(d.get("url", "")) for d in payload.get("distributions") or []
                                     if isinstance(d, dict)]
    return Resource(
        id=text("identifier") or item_id, kind=CATALOG_RECORD, title=text("title"), description=text("description"),
        publisher=text("publisher"), access_level=text("access_level"), license=text("license"),
        formats=tuple(str(f) for f in payload.get("formats") or []), update_frequency=text("accrual_periodicity"),
        modified=text("modified"), modified_ymd=int(payload.get("modified_ymd") or 0), contact=text("contact"),
        source=text("source"), catalog=text("catalog"), urls=tuple(u for u in urls if u),
        generated_identifier=bool(payload.get("generated_identifier")), language=text("language"),
    )


def from_table(table: Any) -> Resource:
    """An approved table (ingest.tables.RegisteredTable): its version is the file's content hash."""
    registered = str(table.registered_at or "")
    digits = "".join(ch for ch in registered[:10] if ch.isdigit())
    source = str(table.source)
    return Resource(
        id=str(table.name), kind=APPROVED_TABLE, title=str(table.title or table.name),
        description=str(table.description or ""), publisher=str(table.publisher or ""),
        access_level=str(table.access_level), license=str(table.license or ""), formats=(str(table.format),),
        update_frequency=str(getattr(table, "accrual_periodicity", "") or ""), modified=registered,
        modified_ymd=int(digits) if len(digits) == 8 else 0, contact=str(getattr(table, "contact", "") or ""),
        version=str(table.version), source=source, catalog="approved tables",
        source_exists=Path(source).exists() if source and not source.startswith(("http://", "https://")) else True,
    )


def build(resources: Iterable[Resource], today: date | None = None) -> list[Entry]:
    """Score every resource; duplicates are looked for across the whole register."""
    items = list(resources)
    day = today or date.today()
    twins = duplicate_groups(items)
    return [Entry(r, score(r, day, twins.get(r.id, ()))) for r in items]


@dataclass(frozen=True)
class RegisterFilter:
    publisher: str | None = None
    access_level: str | None = None
    kind: str | None = None
    min_score: int | None = None
    max_score: int | None = None
    stale: bool | None = None

    def keeps(self, entry: Entry) -> bool:
        r, q = entry.resource, entry.quality
        return ((not self.publisher or self.publisher.strip().lower() in r.publisher.lower())
                and (not self.access_level or r.access_level == self.access_level)
                and (not self.kind or r.kind == self.kind)
                and (self.min_score is None or q.score >= self.min_score)
                and (self.max_score is None or q.score <= self.max_score)
                and (self.stale is None or q.stale == self.stale))


CSV_COLUMNS = ("id", "kind", "title", "publisher", "access_level", "license", "formats", "update_frequency",
               "modified", "contact", "version", "source", "catalog", "score", "stale", "reasons")


def export(entries: Iterable[Entry], fmt: str) -> str:
    """CSV (one row per entry, reasons joined by "; ") or JSON (a list of entry objects)."""
    rows = [e.to_json() for e in entries]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    return records_to_csv(CSV_COLUMNS, ({**row, "formats": ", ".join(row["formats"]), "reasons": "; ".join(
        f"{r['rule']} {r['points']}: {r['reason']}" for r in row["reasons"])} for row in rows))
