"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates, filtered inside both searches, fused.

Fusion is measured, not assumed (docs/retrieval.md): reciprocal-rank fusion gives a keyword list full weight
even when it only matched noise, which hurt Chinese queries over English records; the default "weighted"
fusion adds a keyword bonus to the cosine similarity: weight x coverage^2, where coverage is the share of the
query's keyword weight (idf) a record contains. It is absolute, not relative to the best keyword hit, so a
record that shares one common word with the query gets almost nothing, and a full match is lifted.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from vectorstore.bilingual import Gloss, glossary
from vectorstore.embeddings import GovDataEmbeddings
from vectorstore.filters import SearchFilters
from vectorstore.keyword import KeywordIndexes
from vectorstore.store import ChromaStore, Hit

Fusion = Literal["weighted", "rrf", "dense", "bm25"]
FUSIONS: tuple[str, ...] = ("weighted", "rrf", "dense", "bm25")
RRF_K = 60


@dataclass(frozen=True)
class Ranked:
    hit: Hit
    dense: float
    keyword: float
    score: float
    coverage: float = 0.0  # share of the query's keyword weight the record holds (either reading); weighted fusion


class Retriever:
    """`retrieve(query, k=, filters=, collection=)`: the one retriever, over the local or a server Chroma."""

    def __init__(self, store: ChromaStore, embeddings: GovDataEmbeddings, keywords: KeywordIndexes,
                 fusion: Fusion = "weighted", keyword_weight: float = 0.3, candidates: int = 50,
                 translate: bool = True) -> None:
        self.store = store
        self.translate = translate
        self.embeddings = embeddings
        self.keywords = keywords
        self.fusion = fusion
        self.keyword_weight = keyword_weight
        self.candidates = candidates

    def retrieve(self, query: str, *, k: int, filters: SearchFilters, collection: str,
                 fusion: Fusion | None = None) -> list[Ranked]:
        mode = fusion or self.fusion
        pool = max(self.candidates, k * 3)
        vector = np.asarray(self.embeddings.embed_query(query), dtype=np.float32)
        dense = [] if mode == "bm25" else self.store.query(collection, vector.tolist(), pool, filters.access_levels,
                                                           filters.where(), with_contents=False,
                                                           released=filters.released, granted=filters.granted)
        index = self.keywords.get(collection) if mode != "dense" else None
        groups = self.reading(query) if index is not None else []
        keyword = _merged(index.bm25.search(query, pool, mask := index.attributes.mask(filters, index.bm25.ids)),
                          index.bm25.search(" ".join(w for g in groups for w in g.english), pool, mask)
                          if groups else []
                          ) if index else []
        seen = {hit.item_id for hit in dense}
        extra = [item_id for item_id, _ in keyword if item_id not in seen]
        vectors = self.store.vectors(collection, extra) if extra else {}
        cosines = {item_id: float(v @ vector) for item_id, v in vectors.items()}
        coverage: dict[str, float] = {}
        if mode == "weighted" and index is not None:
            ids = [hit.item_id for hit in dense] + extra
            coverage = index.bm25.coverage(query, ids)
            if groups:  # the query read in English: a record covers what it meets in either reading
                read = index.bm25.group_coverage([g.english for g in groups], ids)
                coverage = {i: max(coverage.get(i, 0.0), read.get(i, 0.0)) for i in ids}
        ranked = _fuse(mode, dense, keyword, cosines, coverage, self.keyword_weight)
        return [r for r in self._complete(ranked[:k], collection)
                if not _held(r.hit, filters.released) and _at_levels(r.hit, filters.access_levels, filters.granted)]

    def reading(self, query: str) -> list[Gloss]:
        """A Chinese query read in English word by word (vectorstore/bilingual.py), when `translate` is on."""
        if not self.translate:
            return []
        found = glossary()
        return found.reading(query) if found is not None else []

    def _complete(self, ranked: list[Ranked], collection: str) -> list[Ranked]:
        """The candidates that made the cut get their text and record (fetched for k items, not the pool)."""
        missing = [r.hit.item_id for r in ranked if not r.hit.payload]
        if not missing:
            return ranked
        contents = self.store.contents.get(collection, missing)
        out = []
        for r in ranked:
            if r.hit.item_id in contents:
                text, payload = contents[r.hit.item_id]
                r = replace(r, hit=replace(r.hit, document=text, payload=payload))
            out.append(r)
        return out


def _merged(first: list[tuple[str, float]], second: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Two keyword lists as one, each document at its better score, best first."""
    best: dict[str, float] = {}
    for item_id, score in [*first, *second]:
        best[item_id] = max(score, best.get(item_id, 0.0))
    return sorted(best.items(), key=lambda pair: -pair[1])


def _at_levels(hit: Hit, levels: Sequence[str], granted: Sequence[str] = ()) -> bool:
    """The record as stored now is at one of the role's levels, or one a grant opens to the caller by id (issue
    33): the last wall behind both searches' filters, for a keyword index a moment older than the content table
    (shared state: one rebuilding in the background)."""
    level = hit.payload.get("access_level")
    return level is None or level in levels or hit.item_id in granted


def _held(hit: Hit, released: Sequence[str]) -> bool:
    """A held item no steward released: both searches leave it out; this is the last wall if one did not."""
    return bool(hit.payload.get("held")) and hit.item_id not in released


def _fuse(mode: str, dense: Sequence[Hit], keyword: Sequence[tuple[str, float]], cosines: dict[str, float],
          coverage: dict[str, float], weight: float) -> list[Ranked]:
    by_id: dict[str, dict[str, Any]] = {}
    for rank, hit in enumerate(dense):
        by_id[hit.item_id] = {"hit": hit, "dense": hit.score, "dense_rank": rank, "keyword": 0.0}
    best = max((score for _, score in keyword), default=0.0)
    for rank, (item_id, score) in enumerate(keyword):
        entry = by_id.setdefault(item_id, {"hit": Hit(item_id, "", 0.0, {}), "dense": cosines.get(item_id)})
        entry["keyword"], entry["keyword_rank"] = score, rank
    ranked = []
    for item_id, entry in by_id.items():
        entry["coverage"] = coverage.get(item_id, 0.0)
        ranked.append(Ranked(entry["hit"], entry["dense"] or 0.0, entry["keyword"], _score(mode, entry, best, weight),
                             entry["coverage"]))
    return sorted(ranked, key=lambda r: -r.score)


def _score(mode: str, entry: dict[str, Any], best_keyword: float, weight: float) -> float:
    if mode == "bm25":
        return float(entry["keyword"])
    if mode == "dense":
        return float(entry["dense"] or 0.0)
    if mode == "rrf":
        return sum(1.0 / (RRF_K + 1 + entry[key]) for key in ("dense_rank", "keyword_rank") if key in entry)
    return float((entry["dense"] or 0.0) + weight * entry["coverage"] ** 2)
