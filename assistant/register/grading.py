"""Classification and grading suggestions (分类分级): which columns hold personal data, which tables and catalog
records should not be public, each with its evidence, and the steward's decisions on them.

Nothing changes without a steward: `suggest_for_table` / `suggest_for_record` only read. An accepted
decision is written to GOVDATA_HOME/register/decisions.json; the SQL registry applies accepted column, unit and
table decisions every time it lists tables (so they hold at once, and survive a table being added again), and ingest
applies accepted record levels (only ever stricter).
"""

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

from assistant.policy.pii import column_hint, find_pii, mask_text
from core.access import most_restrictive
from core.errors import GovDataError
from core.files import atomic_write, file_lock
from core.state import shared_state

if TYPE_CHECKING:
    from core.settings import Settings
    from core.state.postgres import PostgresState

SAMPLE_ROWS = 1000
VALUE_SHARE = 0.5  # values that must match a detector for a column to be suggested on values alone
HINTED_SHARE = 0.1  # ... when the column's name already says what it holds
DECISIONS_VERSION = 1

# What a column's name or description says it holds, beyond the detectors' number kinds.
_NAME_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("name", re.compile(r"(^|_)(full_?|first_?|last_?|given_?|family_?|sur)?name$|姓名|联系人|聯絡人|申请人|申請人",
                        re.I)),
    ("address", re.compile(r"address|street|addr|住址|地址|住所|居住地", re.I)),
    ("location", re.compile(r"(^|_)(lat|lon|lng|latitude|longitude|coord\w*|gps)($|_)|经度|纬度|經度|緯度|坐标|座標",
                            re.I)),
    ("health", re.compile(r"diagnos|disease|illness|medical|health_?cond|icd_?10|病历|病歷|诊断|診斷|病情|疾病",
                          re.I)),
    ("minor", re.compile(r"(^|_)(child|minor|juvenile|pupil)|未成年|儿童|兒童|学生姓名|學生姓名", re.I)),
)
# Kinds whose presence makes a table non-public; the others make it at least restricted.
_GRAVE = {"id", "ssn", "health", "minor"}
_KIND_WORDS = {"id": "resident ID numbers", "ssn": "social security numbers", "card": "bank card numbers",
               "phone": "phone numbers", "email": "e-mail addresses", "name": "personal names",
               "address": "addresses", "location": "precise locations", "health": "health information",
               "minor": "data about minors"}
# Words in a catalog record that say it holds personal or restricted content.
_RESTRICTED_WORDS = re.compile(
    r"personal (data|information)|personally identifiable|\bpii\b|confidential|restricted|internal use|"
    r"not for public|medical records?|social security|个人信息|個人資料|個資|身份证|身分證|身份證|病历|病歷|未成年|"
    r"内部使用|內部使用|涉密|保密|不予公开|不予公開|限制公开|限制公開", re.I)


@dataclass(frozen=True)
class Suggestion:
    """One proposed change with its evidence; `status` is pending, accepted or rejected."""

    id: str
    target: str  # "table.column", "table" or a catalog record id
    kind: str  # "sensitive_column" | "table_unit" | "table_level" | "record_level"
    current: str
    suggested: str
    evidence: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def describe_evidence(evidence: dict[str, Any]) -> str:
    """A suggestion's evidence as one line, for the CLI and the Register tab alike."""
    if "what" in evidence:
        parts = [str(evidence["what"])]
        if evidence.get("matched"):
            parts.append(f"{evidence['matched']}/{evidence['sampled']} values")
        if evidence.get("name_says"):
            parts.append(f"name: {evidence['name_says']}")
        if evidence.get("examples"):
            parts.append("e.g. " + ", ".join(evidence["examples"]))
        return "; ".join(parts)
    if "unit_column" in evidence:
        column = evidence["unit_column"] or "none (each row is its own unit)"
        return f"rows hold personal data ({', '.join(evidence['personal_columns'])}); unit column: {column}"
    if "personal_columns" in evidence:
        return "personal data in " + ", ".join(evidence["personal_columns"])
    return f"“{evidence.get('phrase', '')}”: {evidence.get('context', '')}"


def _suggestion_id(*parts: str) -> str:
    return "g" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:10]


def _column_values(con: duckdb.DuckDBPyConnection, table: str, column: str) -> list[str]:
    quoted_table, quoted_column = '"' + table.replace('"', '""') + '"', '"' + column.replace('"', '""') + '"'
    rows = con.execute(f"SELECT CAST({quoted_column} AS VARCHAR) FROM {quoted_table} "
                       f"WHERE {quoted_column} IS NOT NULL LIMIT {SAMPLE_ROWS}").fetchall()
    return [str(r[0]) for r in rows if str(r[0]).strip()]


def _name_kind(column: Any) -> str | None:
    """What the column's name, label or description says it holds (each read on its own)."""
    texts = [t.strip() for t in (column.name, column.label or "", column.description or "") if t and t.strip()]
    hinted = column_hint(column.name) or column_hint(column.label or "")
    return hinted or next((kind for kind, pattern in _NAME_HINTS for t in texts if pattern.search(t)), None)


def column_evidence(column: Any, values: list[str]) -> dict[str, Any] | None:
    """Why a column looks personal: the share of sampled values a detector matched (examples masked), and/or
    what its name says. None when neither is strong enough."""
    kinds: Counter[str] = Counter()
    examples: list[str] = []
    for value in values:
        found = {f.kind for f in find_pii(value)}
        kinds.update(found)
        if found and len(examples) < 3:
            examples.append(mask_text(value)[0][:60])
    named = _name_kind(column)
    top, matched = kinds.most_common(1)[0] if kinds else (None, 0)
    share = matched / len(values) if values else 0.0
    if top is not None and (share >= VALUE_SHARE or (named and share >= HINTED_SHARE)):
        kind = top
    elif named is not None and named not in ("phone", "id", "card") and values:
        kind = named  # names, addresses, health, minors, locations: no detector, the name is the evidence
    elif named is not None and share >= HINTED_SHARE:
        kind = named
    else:
        return None
    evidence: dict[str, Any] = {"kind": kind, "what": _KIND_WORDS.get(kind, kind), "sampled": len(values),
                                "matched": matched if top == kind else 0,
                                "share": round(share, 3) if top == kind else 0.0, "examples": examples}
    if named:
        evidence["name_says"] = _KIND_WORDS.get(named, named)
    return evidence


def suggest_for_table(table: Any, database: Path, decided: dict[str, str]) -> list[Suggestion]:
    """Sensitivity per column (columns already flagged are skipped) and an access level for the table."""
    out: list[Suggestion] = []
    grave = False
    con = duckdb.connect(str(database), read_only=True)
    try:
        for column in table.columns:
            if column.sensitive:
                grave = grave or _name_kind(column) in _GRAVE
                continue
            evidence = column_evidence(column, _column_values(con, table.name, column.name))
            if evidence is None:
                continue
            grave = grave or evidence["kind"] in _GRAVE
            sid = _suggestion_id(table.name, column.name, "sensitive", table.version)
            out.append(Suggestion(sid, f"{table.name}.{column.name}", "sensitive_column", "not sensitive",
                                  "sensitive", evidence, decided.get(sid, "pending")))
    finally:
        con.close()
    personal = [s.target.split(".", 1)[1] for s in out] + [c.name for c in table.columns if c.sensitive]
    if personal and not getattr(table, "unit", ""):
        out.append(unit_suggestion(table, sorted(personal), out, decided))
    if personal:
        wanted = "non-public" if grave else "restricted public"
        if (most_restrictive(table.access_level, wanted) or table.access_level) != table.access_level:
            sid = _suggestion_id(table.name, "level", wanted, table.version)
            out.append(Suggestion(sid, table.name, "table_level", table.access_level, wanted,
                                  {"personal_columns": sorted(personal)}, decided.get(sid, "pending")))
    return out


_UNIT_ID = re.compile(r"(^|_)(person|people|patient|resident|citizen|individual|member|client|customer|applicant|"
                      r"student|pupil|employee|taxpayer|beneficiary|household|family|hh)_?(id|no|num|number|code|key)$"
                      r"|^(id|pid|uid)$|身份证|人员编号|户号|住户编号", re.I)


def unit_suggestion(table: Any, personal: list[str], found: list[Suggestion], decided: dict[str, str]) -> Suggestion:
    """Rows with personal data are about people: declare the table's unit (issue 35), so roles that may not see
    microdata get only protected aggregates. The unit column is one that identifies a person or household (a
    resident ID column, or a name like person_id); none: each row is its own unit."""
    detected = [s.target.split(".", 1)[1] for s in found if s.evidence.get("kind") in ("id", "ssn")]
    named = [c.name for c in table.columns if _UNIT_ID.search(c.name) or _UNIT_ID.search(c.label or "")]
    column = (named + detected + [""])[0]
    unit = "household" if re.search(r"household|family|(^|_)hh_|户", column, re.I) else "person"
    value = f"{unit}:{column}" if column else unit
    sid = _suggestion_id(table.name, "unit", value, table.version)
    return Suggestion(sid, table.name, "table_unit", "none", value,
                      {"personal_columns": personal, "unit_column": column}, decided.get(sid, "pending"))


def suggest_for_record(record_id: str, payload: dict[str, Any], decided: dict[str, str]) -> list[Suggestion]:
    """A public record whose title or description says it holds personal or restricted content."""
    level = str(payload.get("access_level", "public"))
    if level != "public":
        return []
    text = f"{payload.get('title', '')} {payload.get('description', '')}"
    found = _RESTRICTED_WORDS.search(text)
    if found is None:
        return []
    start = max(0, found.start() - 40)
    sid = _suggestion_id(record_id, "record", "restricted public")
    return [Suggestion(sid, record_id, "record_level", level, "restricted public",
                       {"phrase": found.group(0), "context": mask_text(text[start:found.end() + 40])[0]},
                       decided.get(sid, "pending"))]


class DecisionStore(Protocol):
    """The steward's decisions, in the order they were last written: a JSON file (embedded) or a table in the shared
    state (issue 34)."""

    def all(self) -> list[dict[str, Any]]: ...

    def statuses(self) -> dict[str, str]: ...

    def record(self, suggestion: Suggestion, status: str, user: str, role: str) -> dict[str, Any]: ...

    def accepted(self, kind: str) -> list[dict[str, Any]]: ...


def _entry(suggestion: Suggestion, status: str, user: str, role: str) -> dict[str, Any]:
    return {"id": suggestion.id, "status": status, "kind": suggestion.kind, "target": suggestion.target,
            "value": suggestion.suggested, "by": user, "role": role,
            "time": datetime.now(UTC).isoformat(timespec="seconds")}


class Decisions:
    """The steward's decisions (GOVDATA_HOME/register/decisions.json), written atomically under a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        try:
            return list(json.loads(self.path.read_text(encoding="utf-8"))["decisions"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise GovDataError(f"{self.path} is damaged ({exc}); restore it from a backup") from None

    def statuses(self) -> dict[str, str]:
        return {d["id"]: d["status"] for d in self.all()}

    def record(self, suggestion: Suggestion, status: str, user: str, role: str) -> dict[str, Any]:
        entry = _entry(suggestion, status, user, role)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(self.path.with_suffix(".lock")):
            kept = [d for d in self.all() if d["id"] != suggestion.id]
            payload = {"version": DECISIONS_VERSION, "decisions": [*kept, entry]}
            atomic_write(self.path, json.dumps(payload, ensure_ascii=False, indent=1))
        return entry

    def accepted(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.all() if d["status"] == "accepted" and d["kind"] == kind]


class PostgresDecisions:
    """The decisions in the shared state: one row per decision id, read on every call, so a decision taken on one
    host holds on every other at their next search or listing."""

    def __init__(self, state: "PostgresState") -> None:
        self.state = state

    def all(self) -> list[dict[str, Any]]:
        with self.state.connection() as con:
            return [json.loads(row[0]) for row in con.execute("SELECT entry FROM decisions ORDER BY seq")]

    def statuses(self) -> dict[str, str]:
        with self.state.connection() as con:
            return {row[0]: row[1] for row in con.execute("SELECT id, status FROM decisions ORDER BY seq")}

    def record(self, suggestion: Suggestion, status: str, user: str, role: str) -> dict[str, Any]:
        entry = _entry(suggestion, status, user, role)
        self.put([entry], replace=True)
        return entry

    def put(self, entries: list[dict[str, Any]], *, replace: bool) -> int:
        """Write entries in order (the newest last); without `replace`, an id already there is left as it is
        (`state migrate`). Returns how many rows were written."""
        conflict = ("DO UPDATE SET kind = excluded.kind, status = excluded.status, entry = excluded.entry, "
                    "seq = nextval('decisions_order')") if replace else "DO NOTHING"
        written = 0
        with self.state.transaction() as con:
            for entry in entries:
                cursor = con.execute(f"INSERT INTO decisions (id, kind, status, entry) VALUES (%s, %s, %s, %s) "
                                     f"ON CONFLICT (id) {conflict}", (entry["id"], entry["kind"], entry["status"],
                                                                     json.dumps(entry, ensure_ascii=False)))
                written += cursor.rowcount
        return written

    def accepted(self, kind: str) -> list[dict[str, Any]]:
        with self.state.connection() as con:
            return [json.loads(row[0]) for row in con.execute(
                "SELECT entry FROM decisions WHERE kind = %s AND status = 'accepted' ORDER BY seq", (kind,))]


def decisions_of(settings: "Settings") -> DecisionStore:
    """The decisions of these settings: the shared state's table, or GOVDATA_HOME/register/decisions.json."""
    state = shared_state(settings.state)
    return PostgresDecisions(state) if state is not None else Decisions(decisions_path(settings.home))


def as_store(decisions: "DecisionStore | Path") -> DecisionStore:
    """A store as given, or a GOVDATA_HOME's file store (callers that name a home)."""
    return Decisions(decisions_path(decisions)) if isinstance(decisions, Path) else decisions


def decisions_path(home: Path) -> Path:
    return home / "register" / "decisions.json"


def apply_to_tables(tables: list[Any], decisions: DecisionStore) -> list[Any]:
    """Accepted column and table decisions on registered tables: flagged columns become sensitive (their sample
    values dropped, as the loader does for sensitive columns), levels only ever get stricter."""
    columns = {d["target"] for d in decisions.accepted("sensitive_column")}
    levels = {d["target"]: d["value"] for d in decisions.accepted("table_level")}
    units = {d["target"]: str(d["value"]) for d in decisions.accepted("table_unit")}
    if not columns and not levels and not units:
        return tables
    for table in tables:
        for column in table.columns:
            if f"{table.name}.{column.name}" in columns and not column.sensitive:
                column.sensitive = True
                column.samples, column.examples, column.range = [], [], []
        if table.name in levels:
            table.access_level = most_restrictive(table.access_level, levels[table.name]) or table.access_level
        if table.name in units and not table.unit:  # a declared unit is never taken back by a decision
            table.unit, _, column = units[table.name].partition(":")
            table.unit_column = column if column in {c.name for c in table.columns} else ""
    return tables


def record_levels(decisions: DecisionStore | Path) -> dict[str, str]:
    """Accepted record levels by record id, for ingest (a record is stored at the stricter of both)."""
    return {d["target"]: d["value"] for d in as_store(decisions).accepted("record_level")}


def restrict_record(store: Any, record_id: str, level: str) -> None:
    """Move a catalog record to a stricter access level in the store now (vectors, filter metadata, record):
    its partition changes, so roles without that level stop finding it from the next search."""
    from core.records import Dataset
    from ingest.items import dataset_item
    from vectorstore.store import DATASETS

    text_and_payload = store.contents.get(DATASETS, [record_id]).get(record_id)
    vectors = store.vectors(DATASETS, [record_id])
    if text_and_payload is None or record_id not in vectors:
        raise GovDataError(f"catalog record {record_id} is not in the store; ingest its catalog again")
    payload = text_and_payload[1]
    known = {k: v for k, v in payload.items() if k in Dataset.model_fields}
    item = dataset_item(Dataset(**{**known, "access_level": level}), str(payload.get("source", "")))
    store.upsert(DATASETS, [record_id], vectors[record_id][None, :], [item.document], [item.metadata], [item.payload])
