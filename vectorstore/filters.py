"""Search filters, applied inside both searches: as a Chroma `where` clause and as a mask over the keyword
index, so a hidden record never takes a top-k slot and never reaches a result."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SearchFilters:
    access_levels: tuple[str, ...]
    publishers: tuple[str, ...] = ()
    format: str | None = None
    language: str | None = None
    modified_from: int | None = None  # YYYYMMDD, inclusive
    modified_to: int | None = None
    released: tuple[str, ...] = ()  # held items a steward released; every other held item is left out
    granted: tuple[str, ...] = ()  # items of other levels the caller may see through a grant (issue 33), by id

    def where(self) -> dict[str, object] | None:
        """The filters other than access level (which selects store partitions) as a Chroma clause."""
        clauses: list[dict[str, object]] = []
        if self.publishers:
            clauses.append({"publisher": {"$in": list(self.publishers)}})
        if self.format:
            clauses.append({f"format_{self.format.lower()}": True})
        if self.language:
            clauses.append({"language": self.language})
        if self.modified_from is not None:
            clauses.append({"modified_ymd": {"$gte": self.modified_from}})
        if self.modified_to is not None:
            clauses.append({"modified_ymd": {"$lte": self.modified_to}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass
class Categorical:
    """A column of strings as small integer codes, so masks are integer comparisons over 100k rows."""

    codes: np.ndarray
    names: dict[str, int]

    @classmethod
    def of(cls, values: list[str]) -> "Categorical":
        names: dict[str, int] = {}
        codes = np.fromiter((names.setdefault(v, len(names)) for v in values), dtype=np.int32, count=len(values))
        return cls(codes, names)

    def isin(self, wanted: tuple[str, ...] | list[str]) -> np.ndarray:
        chosen = [self.names[w] for w in wanted if w in self.names]
        return np.isin(self.codes, np.asarray(chosen, dtype=np.int32))


@dataclass
class DocAttributes:
    """Per-document filter fields of a keyword index, aligned with its ids."""

    access_level: Categorical
    publisher: Categorical
    language: Categorical
    modified_ymd: np.ndarray
    formats: list[frozenset[str]]
    hold: Categorical  # "" for an item that is not held, else its own id (so a release can name it)

    def mask(self, filters: SearchFilters, ids: Sequence[str] | None = None) -> np.ndarray:
        """The items that pass every filter; with the index's `ids`, a granted item of another level passes its
        level (and still every other filter)."""
        levels = self.access_level.isin(filters.access_levels)
        if filters.granted and ids is not None:
            granted = set(filters.granted)
            levels |= np.fromiter((i in granted for i in ids), dtype=bool, count=len(ids))
        allowed = levels & self.hold.isin(("", *filters.released))
        if filters.publishers:
            allowed &= self.publisher.isin(filters.publishers)
        if filters.format:
            wanted = filters.format.lower()
            allowed &= np.fromiter((wanted in f for f in self.formats), dtype=bool, count=len(self.formats))
        if filters.language:
            allowed &= self.language.isin([filters.language])
        if filters.modified_from is not None:
            allowed &= self.modified_ymd >= filters.modified_from
        if filters.modified_to is not None:
            allowed &= self.modified_ymd <= filters.modified_to
        return allowed
