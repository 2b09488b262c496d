"""The metadata quality score of a register entry: 100 points, and every point lost names its rule.

Each rule is a small function over one `Resource` that returns the points it takes away and why; `score`
runs them in order. The rules, their weights and the reasons for them are in docs/register.md; duplicates
need the whole register and are found by `duplicate_groups`.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from assistant.register.periodicity import read_periodicity
from core.dates import ymd_date


@dataclass(frozen=True)
class Resource:
    """What the register knows about one catalog record or approved table, whatever its catalog called it."""

    id: str
    kind: str  # "catalog record" | "approved table"
    title: str
    description: str = ""
    publisher: str = ""
    access_level: str = ""
    license: str = ""
    formats: tuple[str, ...] = ()
    update_frequency: str = ""
    modified: str = ""
    modified_ymd: int = 0  # YYYYMMDD as the ingest read `modified`; 0 when it could not
    contact: str = ""
    version: str = ""
    source: str = ""
    catalog: str = ""
    urls: tuple[str, ...] = ()
    generated_identifier: bool = False
    source_exists: bool = True
    language: str = ""  # of title and description, as ingest detected it (zh, en, ...)


@dataclass(frozen=True)
class Loss:
    rule: str
    points: int
    reason: str


@dataclass(frozen=True)
class Quality:
    score: int
    losses: tuple[Loss, ...] = field(default_factory=tuple)
    stale: bool = False


MACHINE_READABLE = frozenset({
    "csv", "tsv", "json", "jsonl", "ndjson", "geojson", "topojson", "xml", "rdf", "ttl", "jsonld", "json-ld",
    "xlsx", "xls", "ods", "parquet", "api", "sqlite", "shp", "shapefile", "kml", "kmz", "gpx", "wms", "wfs",
    "netcdf", "nc", "hdf5", "esri rest", "arcgis geoservices rest api", "zip", "gtfs", "txt",
})
_LICENCE_IDS = re.compile(
    r"\b(cc[- ]?(by|0|zero)|creative ?commons|odc[- ]?(by|odbl|pddl)|odbl|pddl|ogl|open government licen[cs]e|"
    r"public domain|us[- ]?pd|mit|apache|gpl|etalab|dl-de)|"
    r"政府資料開放授權|政府数据开放授权|開放授權|开放授权|公眾領域|公共领域",
    re.I)
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORDS = re.compile(r"\w+")


def _chars(text: str) -> int:
    """Length in Latin-word terms: a CJK character carries about as much as a short word (counted as 3)."""
    return len(_CJK.findall(text)) * 3 + len(_CJK.sub("", text).strip())


def required_fields(r: Resource, today: date) -> list[Loss]:
    """Title, description, publisher, last modified and a contact: 5 points each."""
    named = {"title": r.title, "description": r.description, "publisher": r.publisher, "modified": r.modified,
             "contact": r.contact}
    return [Loss("required_fields", 5, f"no {name}") for name, value in named.items() if not value.strip()]


def identifier(r: Resource, today: date) -> list[Loss]:
    """The catalog's own identifier (5): ours is generated from title and publisher, and changes with them."""
    if r.generated_identifier:
        return [Loss("identifier", 5, "the catalog gave no identifier; one was generated from title and publisher")]
    return []


def description_length(r: Resource, today: date) -> list[Loss]:
    """A description a searcher can decide from (10): under 20 characters loses 10, under 80 loses 5."""
    size = _chars(r.description)
    if not r.description.strip():
        return []  # counted once, under required_fields
    if size < 20:
        return [Loss("description_length", 10, f"description is {len(r.description)} characters; too short to "
                                               "decide from")]
    if size < 80:
        return [Loss("description_length", 5, f"description is short ({len(r.description)} characters)")]
    return []


def description_language(r: Resource, today: date) -> list[Loss]:
    """A description that says more than the title (5): a copy of the title, or no words at all, loses 5."""
    text = r.description.strip()
    if not text:
        return []
    if _norm(text) == _norm(r.title):
        return [Loss("description_language", 5, "description only repeats the title")]
    if not _WORDS.search(text):
        return [Loss("description_language", 5, "description has no words")]
    return []


def licence(r: Resource, today: date) -> list[Loss]:
    """A licence (10): none loses 10; one that is neither a URL nor a known licence name loses 5."""
    text = r.license.strip()
    if not text:
        return [Loss("licence", 10, "no licence")]
    if _is_url(text) or _LICENCE_IDS.search(text):
        return []
    return [Loss("licence", 5, f"licence {text[:60]!r} is not a URL or a known licence name")]


def formats(r: Resource, today: date) -> list[Loss]:
    """Distributions in machine-readable formats (15): none at all loses 15, only PDF/HTML/images loses 10."""
    if not r.formats:
        return [Loss("formats", 15, "no distribution formats listed")]
    readable = [f for f in r.formats if _format(f) in MACHINE_READABLE]
    if not readable:
        return [Loss("formats", 10, f"no machine-readable format (only {', '.join(r.formats[:4])})")]
    return []


def freshness(r: Resource, today: date) -> list[Loss]:
    """Updated as often as declared (15): older than twice the declared period (at least 3 days) is stale and
    loses 15; no declared frequency, or one that cannot be read, loses 5; last modified unreadable loses 5."""
    modified = ymd_date(r.modified_ymd) if r.modified_ymd else None
    if r.modified.strip() and modified is None:
        return [Loss("freshness", 5, f"last modified {r.modified[:40]!r} is not a date")]
    period = read_periodicity(r.update_frequency)
    if not period.known:
        return [Loss("freshness", 5, f"unknown update frequency {r.update_frequency[:40]!r}")]
    if not r.update_frequency.strip():
        return [Loss("freshness", 5, "no update frequency declared")]
    if period.days is None or modified is None:
        return []  # declared irregular / as needed; or no date at all (counted under required_fields)
    age = (today - modified).days
    allowed = max(2 * period.days, 3.0)
    if age > allowed:
        return [Loss("freshness", 15, f"declared {r.update_frequency.strip()!r} but last modified "
                                      f"{modified.isoformat()}, {age:,} days ago")]
    return []


def references(r: Resource, today: date) -> list[Loss]:
    """References that lead somewhere (5): a malformed link, or an approved table whose source file is gone."""
    if not r.source_exists:
        return [Loss("references", 5, f"source {r.source} no longer exists")]
    bad = [u for u in r.urls if u.strip() and not _is_url(u.strip())]
    if bad:
        return [Loss("references", 5, f"malformed link {bad[0][:80]!r}")]
    return []


RULES: tuple[Callable[[Resource, date], list[Loss]], ...] = (
    required_fields, identifier, description_length, description_language, licence, formats, freshness, references)
WEIGHTS = {"required_fields": 25, "identifier": 5, "description_length": 10, "description_language": 5,
           "licence": 10, "formats": 15, "freshness": 15, "duplicates": 10, "references": 5}


def score(r: Resource, today: date, duplicates: Iterable[str] = ()) -> Quality:
    """100 minus the points each rule takes; `duplicates` are the ids of other entries with its title or URL."""
    losses = [loss for rule in RULES for loss in rule(r, today)]
    others = sorted(duplicates)
    if others:
        losses.append(Loss("duplicates", 10, f"same title or link as {', '.join(others[:3])}"
                                             + (f" and {len(others) - 3} more" if len(others) > 3 else "")))
    stale = any(loss.rule == "freshness" and loss.points == 15 for loss in losses)
    return Quality(max(0, 100 - sum(loss.points for loss in losses)), tuple(losses), stale)


def duplicate_groups(resources: Iterable[Resource]) -> dict[str, set[str]]:
    """For each entry, the other catalog records with the same normalised title (and publisher-blind) in another
    catalog source, or the same link. Approved tables are not compared: their catalog record is their twin."""
    by_key: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in resources:
        if r.kind != "catalog record":
            continue
        if (title := _norm(r.title)) and len(title) >= 6:
            by_key[f"t:{title}"].add((r.id, r.source))
        for url in r.urls:
            if _is_url(url.strip()):
                by_key[f"u:{url.strip().rstrip('/').lower()}"].add((r.id, r.source))
    out: dict[str, set[str]] = defaultdict(set)
    for key, members in by_key.items():
        if len(members) < 2:
            continue
        title_key = key.startswith("t:")
        for member_id, member_source in members:
            for other_id, other_source in members:
                if other_id != member_id and (not title_key or other_source != member_source):
                    out[member_id].add(other_id)
    return out


def _norm(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def _format(value: str) -> str:
    text = value.strip().lower()
    if "/" in text:  # a media type: text/csv, application/vnd.ms-excel
        text = text.rsplit("/", 1)[1]
    text = text.lstrip(".").replace("vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
    return {"vnd.ms-excel": "xls", "x-shapefile": "shp", "geo+json": "geojson", "ld+json": "jsonld"}.get(text, text)


def _is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in text
