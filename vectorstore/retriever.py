"""Hybrid retrieval: dense (Chroma) and keyword (BM25) candidates, filtered inside both searches, fused.

Fusion is measured, not assumed (docs/retrieval.md): reciprocal-rank fusion gives a keyword list full weight
even when it only matched noise, which hurt Chinese queries over English records; the default "weighted"
fusion adds a keyword bonus to the cosine similarity: weight x coverage^2, where coverage is the share of the
query's keyword weight (idf) a record contains. It is absolute, not relative to the best keyword hit, so a
record that shares one common word with the query gets almost nothing, and a full match is lifted.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from vectorstore.bilingual import Gloss, glossary
from vectorstore.embeddings import GovDataEmbeddings
from vectorstore.filters import SearchFilters
from vectorstore.keyword import KeywordIndexes
from vectorstore.store import PASSAGES, ChromaStore, Hit
from vectorstore.tokenize import has_cjk, simplified

Fusion = Literal["weighted", "rrf", "dense", "bm25"]
FUSIONS: tuple[str, ...] = ("weighted", "rrf", "dense", "bm25")
RRF_K = 60
_NAMED_CHARS = 4  # a Chinese title shorter than this (法, 条例) is a word, not a name
_CODE = re.compile(r"[A-Z]{1,4}-\d{2}-\d{2,3}\b")  # a memo's number leading its title: M-13-13
_NAMED_MARGIN = 0.15  # a named law's passage moves ahead only when it is about as strong as the best
_LAW_ENDINGS = ("法", "条例", "规定", "办法", "细则", "决定", "规则", "规划", "意见", "通知", "准则", "标准")


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
        readings = self.readings(query, both_ways=collection == PASSAGES) if index is not None else []
        keyword: list[tuple[str, float]] = []
        if index is not None:
            mask = index.attributes.mask(filters, index.bm25.ids)
            keyword = _merged(index.bm25.search(query, pool, mask),
                              *(index.bm25.search(" ".join(w for g in groups for w in g.written), pool, mask)
                                for groups in readings))
        seen = {hit.item_id for hit in dense}
        extra = [item_id for item_id, _ in keyword if item_id not in seen]
        vectors = self.store.vectors(collection, extra) if extra else {}
        cosines = {item_id: float(v @ vector) for item_id, v in vectors.items()}
        coverage: dict[str, float] = {}
        if mode == "weighted" and index is not None:
            ids = [hit.item_id for hit in dense] + extra
            coverage = index.bm25.coverage(query, ids)
            for groups in readings:  # the query read in the other language: a record covers what it meets in
                read = index.bm25.group_coverage([g.written for g in groups], ids)  # its best reading
                coverage = {i: max(coverage.get(i, 0.0), read.get(i, 0.0)) for i in ids}
        ranked = _fuse(mode, dense, keyword, cosines, coverage, self.keyword_weight)
        return [r for r in self._complete(ranked[:k], collection)
                if not _held(r.hit, filters.released) and _at_levels(r.hit, filters.access_levels, filters.granted)]

    def reading(self, query: str) -> list[Gloss]:
        """A Chinese query read in English word by word (vectorstore/bilingual.py), when `translate` is on."""
        found = glossary() if self.translate else None
        return found.reading(query) if found is not None else []

    def readings(self, query: str, both_ways: bool = False) -> list[list[Gloss]]:
        """The query's readings in the other language, each scored on its own: its Chinese words in English and,
        with `both_ways`, its English words in Chinese. Passages are read both ways (issue 29: English questions
        about Chinese laws); dataset search is not, since its "nothing matches" rule counts any word met, and
        Chinese readings of English needs met Taiwan records' words (tune part: needs no record answers caught
        0.39 -> 0.14). A Chinese question's own English words (Open Data, M-13-13) are not read in Chinese: they
        name English documents, and reading them lifted Chinese laws over those (tune zh-en: law among 0.83 ->
        0.58)."""
        found = glossary() if self.translate else None
        if found is None:
            return []
        both = [found.reading(query), found.chinese_reading(query) if both_ways and not has_cjk(query) else []]
        return [groups for groups in both if any(g.written for g in groups)]

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


def named_first(question: str, ranked: Sequence[Ranked], k: int) -> list[Ranked]:
    """Passages of a law the question names by its title (数据安全法 for 中华人民共和国数据安全法; a memo number such as
    M-13-13) ahead of the rest (issue 29: "the right law first"); unchanged when it names none. Bounded, since a
    title is whatever a document's author wrote: a title counts only when it reads as a law's (ends in 法, 条例,
    规定, ...) and the question holds it whole, or by its leading memo number; only passages within
    `_NAMED_MARGIN` of the best score move; at most half of the k slots go to them, so the best passage stays."""
    asked = simplified(question).lower()
    top = max((r.score for r in ranked), default=0.0)
    named = [r for r in ranked if r.score >= top - _NAMED_MARGIN and _is_named(str(r.hit.payload.get("title", "")),
                                                                               asked)][: max(1, k // 2)]
    return [*named, *(r for r in ranked if r not in named)] if named else list(ranked)


def _is_named(title: str, asked: str) -> bool:
    short = re.sub(r"[(（][^)）]*[)）]|[《》【】]", "", simplified(title)).strip()
    short = short.removeprefix("中华人民共和国").strip().lower()
    if len(re.findall(r"[\u3400-\u9fff]", short)) >= _NAMED_CHARS and short.endswith(_LAW_ENDINGS):
        return short in asked
    code = _CODE.match(title.strip())
    return code is not None and re.search(rf"(?<![a-z0-9-]){re.escape(code.group(0).lower())}(?![a-z0-9-])",
                                          asked) is not None


def distinct(ranked: Sequence[Ranked], k: int) -> list[Ranked]:
    """The best k of ranked passages with one of each text: a law ingested from two folders (or a page copied
    into two guides) would otherwise take two of the model's few passage slots with the same words (issue 29:
    52 of 124 dev questions lost a slot so)."""
    kept: list[Ranked] = []
    seen: set[str] = set()
    for r in ranked:
        text = " ".join((r.hit.document or "").split())
        if text and text in seen:
            continue
        seen.add(text)
        kept.append(r)
        if len(kept) == k:
            break
    return kept


def _merged(*lists: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Keyword lists as one, each document at its best score, best first."""
    best: dict[str, float] = {}
    for item_id, score in [pair for found in lists for pair in found]:
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
