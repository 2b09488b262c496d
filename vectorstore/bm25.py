"""A BM25 index over one collection's texts, as a sparse matrix, with filters applied before ranking.

Scores are the Okapi BM25 sum over query terms (k1=1.2, b=0.75). The matrix holds each document's per-term
weight, so a query is one sparse column slice and a sum; a mask of allowed documents is applied before the
top-k is taken, so filtering never loses recall.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from vectorstore.tokenize import tokenize

K1 = 1.2
B = 0.75


@dataclass
class Bm25Index:
    ids: list[str]
    vocabulary: dict[str, int]
    weights: sparse.csc_matrix  # documents x terms
    idf: np.ndarray

    def __post_init__(self) -> None:
        self._rows = {item_id: row for row, item_id in enumerate(self.ids)}
        self._by_row = self.weights.tocsr()  # row slices for coverage; the CSC form serves column slices

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> "Bm25Index":
        return cls.from_tokens(ids, [tokenize(text) for text in texts])

    @classmethod
    def from_tokens(cls, ids: Sequence[str], token_lists: Sequence[Sequence[str]]) -> "Bm25Index":
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        counts: list[int] = []
        lengths: list[int] = []
        for row, tokens in enumerate(token_lists):
            lengths.append(len(tokens))
            bag: dict[int, int] = {}
            for token in tokens:
                index = vocabulary.setdefault(token, len(vocabulary))
                bag[index] = bag.get(index, 0) + 1
            rows.extend([row] * len(bag))
            cols.extend(bag)
            counts.extend(bag.values())
        n_docs = len(token_lists)
        tf = np.asarray(counts, dtype=np.float32)
        doc_len = np.asarray(lengths, dtype=np.float32)
        avg = float(doc_len.mean()) if n_docs else 1.0
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(vocabulary)).astype(np.float32)
        idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        norm = K1 * (1 - B + B * doc_len[np.asarray(rows, dtype=np.int64)] / max(avg, 1e-6)) if rows else tf
        values = idf[np.asarray(cols, dtype=np.int64)] * tf * (K1 + 1) / (tf + norm) if rows else tf
        matrix = sparse.csc_matrix((values, (rows, cols)), shape=(n_docs, len(vocabulary)), dtype=np.float32)
        return cls(list(ids), vocabulary, matrix, idf)

    def scores(self, query: str) -> np.ndarray:
        terms = sorted({self.vocabulary[t] for t in tokenize(query) if t in self.vocabulary})
        if not terms or not self.ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self.weights[:, terms].sum(axis=1)).ravel()

    def coverage(self, query: str, ids: Sequence[str]) -> dict[str, float]:
        """Share of the query's keyword weight (idf) that each document contains: 1.0 when every query term
        occurs in it. Unlike a BM25 score it does not depend on what else matched, so a weak match stays weak.
        Query words no record has count at the highest idf: they are misses, not noise to ignore."""
        tokens = set(tokenize(query))
        terms = sorted({self.vocabulary[t] for t in tokens if t in self.vocabulary})
        unknown = len([t for t in tokens if t not in self.vocabulary])
        ceiling = float(self.idf.max()) if len(self.idf) else 0.0
        total = float(self.idf[terms].sum()) + unknown * ceiling
        rows = [self._rows[i] for i in ids if i in self._rows]
        out = dict.fromkeys(ids, 0.0)
        if not terms or not rows or total <= 0:
            return out
        present = (self._by_row[rows][:, terms] > 0).toarray().astype(np.float32)
        shares = present @ self.idf[terms].astype(np.float32) / total
        out.update({self.ids[row]: float(share) for row, share in zip(rows, shares, strict=True)})
        return out

    def group_coverage(self, groups: Sequence[Sequence[str]], ids: Sequence[str]) -> dict[str, float]:
        """Coverage of a query read word by word in another language (issue 28): each group is the words one
        query word may be written as; a document covers the group when it holds any of them. Groups weigh their
        words' mean idf; a group no document holds is a miss at the highest idf, like an unknown word."""
        out = dict.fromkeys(ids, 0.0)
        rows = [self._rows[i] for i in ids if i in self._rows]
        ceiling = float(self.idf.max()) if len(self.idf) else 0.0
        known = [[self.vocabulary[w] for w in group if w in self.vocabulary] for group in groups]
        weights = np.asarray([float(self.idf[terms].mean()) if terms else ceiling for terms in known], np.float32)
        total = float(weights.sum())
        if not rows or total <= 0 or not any(known):
            return out
        by_row = self._by_row[rows]
        covered = np.zeros((len(rows), len(known)), dtype=np.float32)
        for column, terms in enumerate(known):
            if terms:
                covered[:, column] = (by_row[:, terms].sum(axis=1).A.ravel() > 0).astype(np.float32)
        shares = covered @ weights / total
        out.update({self.ids[row]: float(share) for row, share in zip(rows, shares, strict=True)})
        return out

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k (id, score) with score > 0 among allowed documents (a boolean mask), best first."""
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        if not len(scores):
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(top, key=lambda i: -scores[i])
        return [(self.ids[i], float(scores[i])) for i in ranked if scores[i] > 0 and math.isfinite(scores[i])]
