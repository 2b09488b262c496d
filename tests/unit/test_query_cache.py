"""Query vectors are remembered: the same text is embedded once."""

from collections.abc import Sequence

import numpy as np

from vectorstore import embeddings
from vectorstore.embeddings import _ArrayEmbeddings


class Counting(_ArrayEmbeddings):
    model_id, dimension = "counting", 2

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def test_the_same_query_is_embedded_once_and_callers_get_their_own_list() -> None:
    model = Counting()
    first = model.embed_query("air quality")
    first.append(99.0)  # a caller changing its list changes nothing remembered
    assert model.embed_query("air quality") == [11.0, 1.0]
    assert model.calls == [["air quality"]]
    model.embed_query("其他")
    assert model.calls[-1] == ["其他"]


def test_only_the_most_recent_queries_are_kept(monkeypatch: object) -> None:
    monkeypatch.setattr(embeddings, "QUERY_CACHE", 2)  # type: ignore[attr-defined]
    model = Counting()
    for text in ("a", "b", "c", "a"):
        model.embed_query(text)
    assert model.calls == [["a"], ["b"], ["c"], ["a"]]  # "a" had been dropped when "c" came
