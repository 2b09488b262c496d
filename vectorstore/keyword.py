"""Keyword (BM25) indexes of the store's collections, built from the content table and cached on disk.

Tokens are cached per item in the content table, so after an ingest only new items are tokenized; the built
index is pickled under GOVDATA_HOME/bm25/ keyed by the collection's content generation, so a CLI call loads
it instead of rebuilding.
"""

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vectorstore.bm25 import Bm25Index
from vectorstore.content import ContentStore
from vectorstore.filters import Categorical, DocAttributes
from vectorstore.tokenize import tokenize

_FORMAT_VERSION = 3


@dataclass
class KeywordIndex:
    bm25: Bm25Index
    attributes: DocAttributes
    publishers: tuple[str, ...]


def _attributes(payloads: list[dict[str, Any]]) -> DocAttributes:
    return DocAttributes(
        access_level=Categorical.of([str(p.get("access_level", "")) for p in payloads]),
        publisher=Categorical.of([str(p.get("publisher", "")) for p in payloads]),
        language=Categorical.of([str(p.get("language", "")) for p in payloads]),
        modified_ymd=np.array([int(p.get("modified_ymd", 0) or 0) for p in payloads], dtype=np.int64),
        formats=[frozenset(str(f).lower() for f in p.get("formats", [])) for p in payloads],
    )


def build_keyword_index(contents: ContentStore, collection: str) -> KeywordIndex:
    rows = contents.all_rows(collection)
    fresh = {item_id: " ".join(tokenize(text)) for item_id, text, tokens, _ in rows if tokens is None}
    if fresh:
        contents.save_tokens(collection, fresh)
    token_lists = [(fresh[item_id] if tokens is None else tokens).split() for item_id, _, tokens, _ in rows]
    payloads = [payload for *_, payload in rows]
    publishers = tuple(sorted({str(p.get("publisher", "")) for p in payloads if p.get("publisher")}))
    bm25 = Bm25Index.from_tokens([item_id for item_id, *_ in rows], token_lists)
    return KeywordIndex(bm25, _attributes(payloads), publishers)


class KeywordIndexes:
    """Loads each collection's index once per process, from the disk cache when it is current."""

    def __init__(self, contents: ContentStore, cache_dir: Path) -> None:
        self._contents = contents
        self._cache_dir = cache_dir
        self._loaded: dict[str, tuple[int, KeywordIndex]] = {}

    def get(self, collection: str) -> KeywordIndex:
        generation = self._contents.generation(collection)
        cached = self._loaded.get(collection)
        if cached and cached[0] == generation:
            return cached[1]
        index = self._from_disk(collection, generation) or self._rebuild(collection, generation)
        self._loaded[collection] = (generation, index)
        return index

    def _path(self, collection: str) -> Path:
        return self._cache_dir / f"{collection}.pkl"

    def _from_disk(self, collection: str, generation: int) -> KeywordIndex | None:
        path = self._path(collection)
        try:
            with path.open("rb") as handle:
                version, stored_generation, index = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
            return None
        if version != _FORMAT_VERSION or stored_generation != generation:
            return None
        return index if isinstance(index, KeywordIndex) else None

    def _rebuild(self, collection: str, generation: int) -> KeywordIndex:
        index = build_keyword_index(self._contents, collection)
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        temporary = self._path(collection).with_suffix(".tmp")
        with temporary.open("wb") as handle:
            pickle.dump((_FORMAT_VERSION, generation, index), handle, protocol=pickle.HIGHEST_PROTOCOL)
        temporary.replace(self._path(collection))
        return index
