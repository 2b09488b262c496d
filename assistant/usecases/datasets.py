"""Use cases over catalogs: dataset search with the role's levels and the user's filters, and the hidden-match
count that depends on the query's words only."""

from datetime import date
from typing import Any

from assistant.audit import content_hash
from assistant.models import DatasetResult
from assistant.policy.roles import allowed_levels
from assistant.register.entries import from_record
from assistant.register.quality import score
from assistant.usecases.desk import Desk, _entry, _require
from vectorstore.bilingual import matched
from vectorstore.filters import SearchFilters
from vectorstore.retriever import Fusion, Ranked
from vectorstore.store import DATASETS


class DatasetUseCases(Desk):

    @_entry("datasets.search")
    def search_datasets(self, query: str, *, k: int, role: str, publisher: str | None = None,
                        format: str | None = None, language: str | None = None, since: str | None = None,
                        fusion: Fusion | None = None, access_level: str | None = None,
                        user: str | None = None) -> list["DatasetResult"]:
        """Hybrid search over catalog records the role may see, with the user's filters inside the search;
        `access_level` narrows to one of the role's levels (a level the role may not see is an error)."""
        settings = {"publisher": publisher, "format": format, "language": language, "since": since,
                    "access_level": access_level, "k": k}
        with self._receipt("datasets.search", role, user, question=query, route="datasets",
                           settings=settings) as receipt:
            _require(query)
            filters = self.filters(role, publisher=publisher, format=format, language=language, since=since,
                                   access_level=access_level)
            ranked = self.retriever.retrieve(query, k=k, filters=filters, collection=DATASETS, fusion=fusion)
            if not self._evident(ranked, fusion):
                ranked, receipt.outcome = [], "nothing matches"
            today, reading = date.today(), self.retriever.reading(query)
            records = [DatasetResult.from_ranked(r, quality_of(r, today), matched(query, reading, r.hit.document))
                       for r in ranked]
            results, _ = self._shown(role, records)
            receipt.datasets = {r.identifier: r.modified for r in records}
            receipt.sources = sorted({r.source for r in records})
            receipt.answer_hash = content_hash([r.identifier for r in records])
        return results

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
    def hidden_matches(self, query: str, *, k: int, role: str) -> int:
        """How many of the top k records for QUERY's words the role may not see: a count, never which. Only the
        words count, never the user's filters: a filter over hidden records' publisher or date would make the
        count an oracle on them (issue 26). Only levels in GOVDATA_RETRIEVAL__DISCLOSE_HIDDEN_LEVELS count."""
        allowed = allowed_levels(role, self.settings.roles_file)
        levels = tuple(lv for lv in self.settings.retrieval.disclose_hidden_levels if lv not in allowed)
        if not levels or not query.strip():
            return 0
        ranked = self.retriever.retrieve(query, k=k, filters=SearchFilters((*allowed, *levels)), collection=DATASETS)
        return sum(r.hit.payload.get("access_level") in levels for r in ranked)


def quality_of(ranked: Ranked, today: date) -> int | None:
    """The register's metadata quality score of a found record (docs/register.md), shown on its card."""
    record = ranked.hit.payload
    return score(from_record(ranked.hit.item_id, record), today).score if record else None


def _top(values: list[str], n: int) -> list[str]:
    """The n values met most often, first met first among equals."""
    counts: dict[str, int] = {}
    for value in values:
        if value.strip():
            counts[value.strip()] = counts.get(value.strip(), 0) + 1
    return [v for v, _ in sorted(counts.items(), key=lambda pair: -pair[1])][:n]
