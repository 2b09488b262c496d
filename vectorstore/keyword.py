"""Keyword (BM25) indexes of the store's collections, built from the content table and cached on disk.

Tokens are cached per item in the content table, so after an ingest only new items are tokenized; the built
index is saved under GOVDATA_HOME/bm25/ keyed by the collection's content generation, so a CLI call loads
it instead of rebuilding. With a shared content table (issue 34) a large index is rebuilt in the background when
another host changed the table, and the previous one answers meanwhile (`background_above`): a rebuild of 10^6
records takes about a minute, and no search should wait for it. The retriever's last wall re-checks each
result's access level against the record as stored now, so an index a moment old cannot show a record a role
may no longer see. The file is plain arrays and JSON (numpy .npz read with allow_pickle=False): loading
it can never run code, even if someone else could write to the folder.
"""

import json
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vectorstore.bm25 import Bm25Index
from vectorstore.content import Contents
from vectorstore.filters import Categorical, DocAttributes
from vectorstore.tokenize import tokenize

_FORMAT_VERSION = 5  # 5: held items (`hold`)


@dataclass
class KeywordIndex:
    bm25: Bm25Index
    attributes: DocAttributes
    publishers: tuple[str, ...]

    def publishers_at(self, levels: tuple[str, ...]) -> tuple[str, ...]:
        """The publishers of records at these access levels: a role's filter must not name another level's."""
        at = self.attributes.access_level.isin(levels)
        codes = set(self.attributes.publisher.codes[at].tolist())
        return tuple(p for p in self.publishers if self.attributes.publisher.names.get(p) in codes)


def _attributes(payloads: list[dict[str, Any]], ids: list[str]) -> DocAttributes:
    return DocAttributes(
        access_level=Categorical.of([str(p.get("access_level", "")) for p in payloads]),
        publisher=Categorical.of([str(p.get("publisher", "")) for p in payloads]),
        language=Categorical.of([str(p.get("language", "")) for p in payloads]),
        modified_ymd=np.array([int(p.get("modified_ymd", 0) or 0) for p in payloads], dtype=np.int64),
        formats=[frozenset(str(f).lower() for f in p.get("formats", [])) for p in payloads],
        hold=Categorical.of([item_id if p.get("held") else "" for item_id, p in zip(ids, payloads, strict=True)]),
    )


def build_keyword_index(contents: Contents, collection: str) -> KeywordIndex:
    rows = contents.all_rows(collection)
    fresh = {item_id: " ".join(tokenize(text)) for item_id, text, tokens, _ in rows if tokens is None}
    if fresh:
        contents.save_tokens(collection, fresh)
    token_lists = [(fresh[item_id] if tokens is None else tokens).split() for item_id, _, tokens, _ in rows]
    payloads = [payload for *_, payload in rows]
    publishers = tuple(sorted({str(p.get("publisher", "")) for p in payloads if p.get("publisher")}))
    bm25 = Bm25Index.from_tokens([item_id for item_id, *_ in rows], token_lists)
    return KeywordIndex(bm25, _attributes(payloads, bm25.ids), publishers)


class KeywordIndexes:
    """Loads each collection's index once per process, from the disk cache when it is current."""

    def __init__(self, contents: Contents, cache_dir: Path, background_above: int | None = None) -> None:
        self._contents = contents
        self._cache_dir = cache_dir
        self._loaded: dict[str, tuple[int, KeywordIndex]] = {}
        self.background_above = background_above
        self._refreshing: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def get(self, collection: str) -> KeywordIndex:
        generation = self._contents.generation(collection)
        cached = self._loaded.get(collection)
        if cached and cached[0] == generation:
            return cached[1]
        if cached and self.background_above is not None and len(cached[1].bm25.ids) >= self.background_above:
            self._refresh_later(collection, generation)
            return cached[1]
        return self._load(collection, generation)

    def _load(self, collection: str, generation: int) -> KeywordIndex:
        index = self._from_disk(collection, generation) or self._rebuild(collection, generation)
        self._loaded[collection] = (generation, index)
        return index

    def _refresh_later(self, collection: str, generation: int) -> None:
        """One background rebuild per collection at a time; the index in use answers until it is done."""
        with self._lock:
            running = self._refreshing.get(collection)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(target=self._load, args=(collection, generation), daemon=True,
                                      name=f"keyword-index-{collection}")
            self._refreshing[collection] = thread
            thread.start()

    def wait(self) -> None:
        """Until every background rebuild has finished (tests, and a clean shutdown)."""
        for thread in list(self._refreshing.values()):
            thread.join()

    def _path(self, collection: str) -> Path:
        return self._cache_dir / f"{collection}.npz"

    def _from_disk(self, collection: str, generation: int) -> KeywordIndex | None:
        try:
            with np.load(self._path(collection), allow_pickle=False) as stored:
                meta = json.loads(stored["meta"].tobytes().decode("utf-8"))
                if meta["version"] != _FORMAT_VERSION or meta["generation"] != generation:
                    return None
                return _decode(meta, {name: stored[name] for name in stored.files if name != "meta"})
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, UnicodeDecodeError):
            return None

    def _rebuild(self, collection: str, generation: int) -> KeywordIndex:
        index = build_keyword_index(self._contents, collection)
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        temporary = self._path(collection).with_suffix(".tmp")
        meta, arrays = _encode(index, generation)
        members: dict[str, Any] = {"meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8), **arrays}
        with temporary.open("wb") as handle:
            np.savez(handle, **members)
        temporary.replace(self._path(collection))
        (self._cache_dir / f"{collection}.pkl").unlink(missing_ok=True)  # the pickle cache of older versions
        return index


_CATEGORICALS = ("access_level", "publisher", "language", "hold")


def _encode(index: KeywordIndex, generation: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """JSON-able metadata and plain numeric arrays of an index (nothing that needs pickle to load)."""
    weights = index.bm25.weights.tocsc()
    attributes = index.attributes
    vocabulary = sorted(index.bm25.vocabulary, key=lambda term: index.bm25.vocabulary[term])
    meta = {"version": _FORMAT_VERSION, "generation": generation, "ids": index.bm25.ids, "vocabulary": vocabulary,
            "shape": list(weights.shape), "publishers": list(index.publishers),
            "formats": [sorted(f) for f in attributes.formats],
            "names": {name: getattr(attributes, name).names for name in _CATEGORICALS}}
    arrays = {"data": weights.data, "indices": weights.indices, "indptr": weights.indptr, "idf": index.bm25.idf,
              "modified_ymd": attributes.modified_ymd,
              **{f"codes_{name}": getattr(attributes, name).codes for name in _CATEGORICALS}}
    return meta, arrays


def _decode(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> KeywordIndex:
    from scipy import sparse

    weights = sparse.csc_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=tuple(meta["shape"]))
    vocabulary = {term: n for n, term in enumerate(meta["vocabulary"])}
    bm25 = Bm25Index(list(meta["ids"]), vocabulary, weights, arrays["idf"])
    categoricals = {name: Categorical(arrays[f"codes_{name}"], dict(meta["names"][name])) for name in _CATEGORICALS}
    attributes = DocAttributes(modified_ymd=arrays["modified_ymd"],
                               formats=[frozenset(f) for f in meta["formats"]], **categoricals)
    return KeywordIndex(bm25, attributes, tuple(meta["publishers"]))
