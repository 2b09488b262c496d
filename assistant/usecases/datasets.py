"""Use cases over catalogs: dataset search with the role's levels and the user's filters, and the hidden-match
count that depends on the query's words only."""

from datetime import date
from typing import TYPE_CHECKING

from assistant.audit import content_hash
from assistant.models import DatasetResult
from assistant.policy.roles import allowed_levels
from assistant.register.entries import from_record
from assistant.register.quality import score
from vectorstore.filters import SearchFilters
from vectorstore.retriever import Fusion, Ranked
from vectorstore.store import DATASETS

if TYPE_CHECKING:
    pass

from assistant.usecases.desk import Desk, _entry, _require


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
            today = date.today()
            records = [DatasetResult.from_ranked(r, quality_of(r, today)) for r in ranked]
            results, _ = self._shown(role, records)
            receipt.datasets = {r.identifier: r.modified for r in records}
            receipt.sources = sorted({r.source for r in records})
            receipt.answer_hash = content_hash([r.identifier for r in records])
        return results

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
