"""Use cases over catalogs: dataset search with the role's levels and the user's filters (a whole list, or a page
for the API and MCP), one record by id, an overview of the catalog, and the hidden-match count that depends on the
query's words only."""

import dataclasses
from collections import Counter
from datetime import date
from typing import Any

from assistant.audit import content_hash
from assistant.models import DatasetResult, Page
from assistant.policy.roles import allowed_levels
from assistant.register.entries import from_record
from assistant.register.quality import score
from assistant.usecases.desk import Desk, _depth, _entry, _require
from core.errors import NotFound
from vectorstore.bilingual import matched
from vectorstore.filters import SearchFilters
from vectorstore.retriever import Fusion, Ranked
from vectorstore.store import DATASETS, PASSAGES

_INTERNAL = ("modified_ymd",)  # the store's filter key, not the catalog's words
_TOP = 50  # publishers and themes listed in an overview; the counts say how many there are in all


class DatasetUseCases(Desk):

    @_entry("datasets.search")
    def search_datasets(self, query: str, *, k: int, role: str, publisher: str | None = None,
                        format: str | None = None, language: str | None = None, since: str | None = None,
                        fusion: Fusion | None = None, access_level: str | None = None,
                        user: str | None = None) -> list["DatasetResult"]:
        """Hybrid search over catalog records the role may see, with the user's filters inside the search;
        `access_level` narrows to one of the role's levels (a level the role may not see is an error)."""
        return self._search_datasets(query, k, 0, None, role, user, fusion,
                                     dict(publisher=publisher, format=format, language=language, since=since,
                                          access_level=access_level)).items

    @_entry("datasets.search")
    def search_datasets_page(self, query: str, *, k: int, offset: int = 0, role: str, publisher: str | None = None,
                             format: str | None = None, language: str | None = None, since: str | None = None,
                             access_level: str | None = None, user: str | None = None) -> Page["DatasetResult"]:
        """One page of a dataset search for the API and MCP: the search ranks at most GOVDATA_API__MAX_RESULTS
        records, `total` says how many it ranked and `next` where the next page starts."""
        return self._search_datasets(query, k, offset, self.settings.api.max_results, role, user, None,
                                     dict(publisher=publisher, format=format, language=language, since=since,
                                          access_level=access_level))

    def _search_datasets(self, query: str, k: int, offset: int, deepest: int | None, role: str, user: str | None,
                         fusion: Fusion | None, wanted: dict[str, str | None]) -> Page["DatasetResult"]:
        settings = {**wanted, "k": k} | ({"offset": offset} if offset else {})
        with self._receipt("datasets.search", role, user, question=query, route="datasets",
                           settings=settings) as receipt:
            _require(query)
            depth = k if deepest is None else _depth(k, offset, deepest)
            filters = self.filters(role, **wanted)
            granted = {} if wanted.get("access_level") else self._granted_records(user, filters.access_levels)
            filters = dataclasses.replace(filters, granted=tuple(granted))
            ranked = self.retriever.retrieve(query, k=depth, filters=filters, collection=DATASETS, fusion=fusion)
            if not self._evident(ranked, fusion):
                ranked, receipt.outcome = [], "nothing matches"
            today, reading = date.today(), self.retriever.reading(query)
            records = [DatasetResult.from_ranked(r, quality_of(r, today), matched(query, reading, r.hit.document))
                       for r in ranked[offset:offset + k]]
            results, _ = self._shown(role, records)
            receipt.datasets = {r.identifier: r.modified for r in records}
            receipt.sources = sorted({r.source for r in records})
            receipt.answer_hash = content_hash([r.identifier for r in records])
            receipt.grants = sorted({granted[r.identifier] for r in records if r.identifier in granted})
        return Page(results, len(ranked), offset, offset + k if len(ranked) > offset + k else None)

    @_entry("datasets.get")
    def dataset_record(self, identifier: str, *, role: str, user: str | None = None) -> dict[str, Any]:
        """The full catalog record of one dataset the role may see (distributions, licence, contact, themes, ...);
        one it may not see is not found, exactly like one that does not exist."""
        with self._receipt("datasets.get", role, user, question=identifier, route="datasets") as receipt:
            levels = allowed_levels(role, self.settings.roles_file)
            stored = self.store.contents.get(DATASETS, [identifier]).get(identifier)
            granted = {} if stored is None or stored[1].get("access_level") in levels else (
                self._granted_records(user, levels))
            if stored is None or (stored[1].get("access_level") not in levels and identifier not in granted):
                raise NotFound("id", "no dataset has this id", identifier)
            receipt.grants = [granted[identifier]] if identifier in granted else []
            record = {key: value for key, value in stored[1].items() if key not in _INTERNAL}
            record["quality"] = score(from_record(identifier, stored[1]), date.today()).score
            shown, _ = self._shown(role, record)
            receipt.datasets = {identifier: str(record.get("modified", ""))}
            receipt.sources = [str(record.get("source", ""))]
            receipt.answer_hash = content_hash(shown)
        return shown

    @_entry("catalog.overview")
    def catalog_overview(self, *, role: str, user: str | None = None) -> dict[str, Any]:
        """What the catalog holds for this role ("what datasets do you have?"): records by publisher, access level,
        theme, catalog kind and language, the range of their update dates, documents and approved tables."""
        with self._receipt("catalog.overview", role, user, route="datasets") as receipt:
            levels = allowed_levels(role, self.settings.roles_file)
            records = [p for p in self.store.contents.payloads(DATASETS) if p.get("access_level") in levels]
            passages = [p for p in self.store.contents.payloads(PASSAGES)
                        if p.get("access_level") in levels and not p.get("held")]
            tables = [t.name for t in self.sql.approved.tables() if t.access_level in levels]
            overview = overview_of(records, levels) | {
                "documents": len({p.get("source") for p in passages}), "passages": len(passages),
                "approved_tables": len(tables)}
            shown, _ = self._shown(role, overview)
            receipt.row_count = len(records)
        return shown

    def _evident(self, ranked: list[Ranked], fusion: Fusion | None) -> bool:
        """Whether the results are evidence of a match (issue 28): with the hybrid search, at least one of them
        holds more of the query's keyword weight than GOVDATA_RETRIEVAL__MIN_COVERAGE (in either reading). Set
        on the dev set: a need no record answers then gets nothing instead of ten unrelated records."""
        floor = self.settings.retrieval.min_coverage
        if (fusion or self.settings.retrieval.fusion) != "weighted" or floor < 0 or not ranked:
            return True
        return max(r.coverage for r in ranked) > floor

    @_entry(None)
    def closest_topics(self, query: str, *, role: str, k: int = 10) -> dict[str, list[str]]:
        """When nothing matches: the publishers and keywords of the records closest to the need, among those the
        role may see, to suggest where to look (never a record above the role's levels)."""
        if not query.strip():
            return {"publishers": [], "keywords": []}
        ranked = self.retriever.retrieve(query, k=k, filters=self.filters(role), collection=DATASETS)
        publishers = [str(r.hit.payload.get("publisher") or "") for r in ranked]
        keywords = [str(w) for r in ranked for w in (r.hit.payload.get("keywords") or [])]
        shown: dict[str, Any] = {"publishers": _top(publishers, 3), "keywords": _top(keywords, 5)}
        return self._visible(role, shown)

    @_entry(None)
    def hidden_matches(self, query: str, *, k: int, role: str, user: str | None = None) -> int:
        """How many of the top k records for QUERY's words the role may not see: a count, never which. Only the
        words count, never the user's filters: a filter over hidden records' publisher or date would make the
        count an oracle on them (issue 26). Only levels in GOVDATA_RETRIEVAL__DISCLOSE_HIDDEN_LEVELS count; records a
        grant opens to the caller are not hidden from them."""
        allowed = allowed_levels(role, self.settings.roles_file)
        levels = tuple(lv for lv in self.settings.retrieval.disclose_hidden_levels if lv not in allowed)
        if not levels or not query.strip():
            return 0
        ranked = self.retriever.retrieve(query, k=k, filters=SearchFilters((*allowed, *levels)), collection=DATASETS)
        hidden = [r for r in ranked if r.hit.payload.get("access_level") in levels]
        granted = self._granted_records(user, allowed) if hidden else {}
        return sum(r.hit.item_id not in granted for r in hidden)


def quality_of(ranked: Ranked, today: date) -> int | None:
    """The register's metadata quality score of a found record (docs/register.md), shown on its card."""
    record = ranked.hit.payload
    return score(from_record(ranked.hit.item_id, record), today).score if record else None


def overview_of(records: list[dict[str, Any]], levels: tuple[str, ...]) -> dict[str, Any]:
    """Counts over catalog records: the biggest publishers and themes (with how many there are in all), levels,
    catalog kinds, languages, and the first and last update date."""
    publishers = Counter(str(r.get("publisher") or "(none)") for r in records)
    themes = Counter(str(t) for r in records for t in r.get("themes") or ())
    days = sorted(int(r.get("modified_ymd") or 0) for r in records if r.get("modified_ymd"))
    return {
        "datasets": len(records),
        "publishers_total": len(publishers),
        "publishers": [{"publisher": name, "datasets": n} for name, n in publishers.most_common(_TOP)],
        "by_access_level": {level: n for level in levels
                            if (n := sum(r.get("access_level") == level for r in records))},
        "themes_total": len(themes),
        "by_theme": dict(themes.most_common(_TOP)),
        "by_catalog": dict(Counter(str(r.get("catalog") or "") for r in records).most_common()),
        "by_language": dict(Counter(str(r.get("language") or "") for r in records).most_common()),
        "modified": {"earliest": _day(days[0]) if days else None, "latest": _day(days[-1]) if days else None},
    }


def _day(ymd: int) -> str:
    text = f"{ymd:08d}"
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def _top(values: list[str], n: int) -> list[str]:
    """The n values met most often, first met first among equals."""
    counts: dict[str, int] = {}
    for value in values:
        if value.strip():
            counts[value.strip()] = counts.get(value.strip(), 0) + 1
    return [v for v, _ in sorted(counts.items(), key=lambda pair: -pair[1])][:n]
