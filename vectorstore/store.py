"""The Chroma store: two collections (catalog datasets, document passages) tied to one embedding model.

Vectors are computed by our embedding model and passed in; the collection's embedding function is our
own adapter too, so Chroma never falls back to its default (which downloads a model and fails offline).
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from core.access import ACCESS_LEVELS
from core.errors import GovDataError, StoreMismatchError, first_line
from core.offline import enforce_offline
from vectorstore.content import Contents, ContentStore
from vectorstore.embeddings import GovDataEmbeddings

DATASETS = "datasets"
PASSAGES = "passages"
COLLECTIONS = (DATASETS, PASSAGES)

Metadata = dict[str, str | int | float | bool]


@dataclass(frozen=True)
class ModelInfo:
    """What a store's vectors were made with."""

    model_id: str
    dimension: int


@dataclass(frozen=True)
class Hit:
    item_id: str
    document: str
    score: float
    payload: dict[str, Any]


def _adapter(model: ModelInfo, load: Callable[[], GovDataEmbeddings]) -> Any:
    """A Chroma embedding function that builds the model only if Chroma ever asks for a vector."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class GovDataEmbeddingFunction(EmbeddingFunction[Documents]):
        def __init__(self) -> None:
            self._embeddings: GovDataEmbeddings | None = None

        def __call__(self, input: Documents) -> Embeddings:
            if self._embeddings is None:
                self._embeddings = load()
            return list(self._embeddings.embed_array(list(input)))

        @staticmethod
        def name() -> str:
            return "govdata"

        def get_config(self) -> dict[str, Any]:
            return {"model_id": model.model_id, "dimension": model.dimension}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> "EmbeddingFunction[Documents]":
            raise GovDataError("open the store through govdata, which supplies the embedding model")

        def default_space(self) -> Any:
            return "cosine"

    return GovDataEmbeddingFunction()


def partition_name(collection: str, level: str, held: bool = False) -> str:
    """The Chroma collection holding one access level's items of a logical collection (or its held items)."""
    name = f"{collection}__{level.replace(' ', '_').replace('-', '_')}"
    return f"{name}__held" if held else name


def _partition_of(metadata: Metadata | dict[str, Any]) -> tuple[str, bool]:
    """(access level, held) of an item: which partition it lives in."""
    return str(metadata.get("access_level")), bool(metadata.get("held"))


@dataclass(frozen=True)
class ChromaServer:
    """A Chroma server (`chroma run`): its URL, an optional token header, and the tenant and database to use."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    tenant: str = "default_tenant"
    database: str = "default_database"

    def client(self) -> Any:
        """An HttpClient that has answered a heartbeat; a server that does not is one clear error naming it."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GovDataError(f"GOVDATA_CHROMA__URL {self.url!r}: expected http://HOST:PORT or https://HOST:PORT")
        try:
            client = chromadb.HttpClient(
                host=parts.hostname, port=parts.port or (443 if parts.scheme == "https" else 8000),
                ssl=parts.scheme == "https", headers=self.headers, tenant=self.tenant, database=self.database,
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
            )
            client.heartbeat()
        except Exception as exc:  # noqa: BLE001  (any failure to reach it is the same answer for the user)
            raise GovDataError(f"the Chroma server at {self.url} is not reachable: {first_line(exc, 200)}") from None
        return client


def _embedded_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False,
                                                                             allow_reset=False))


class ChromaStore:
    """A persistent Chroma client under one folder (vectors + filter metadata) and a content table beside it
    (texts + full records); refuses stores built with another embedding model.

    Each logical collection is partitioned by access level into its own Chroma collection: a search reads
    only the partitions the role may see. That is the access filter by construction, and it is fast:
    Chroma's local metadata filter cost ~65 ms per query at 30k items (linear in size), an unfiltered HNSW
    query ~3 ms. Items held for review (metadata `held`, instruction-like text) live in a `__held` partition
    of their level that a search never reads; the few a steward released are fetched from it by id.
    """

    def __init__(self, path: Path, model: ModelInfo, load_embeddings: Callable[[], GovDataEmbeddings],
                 server: "ChromaServer | None" = None, contents: Contents | None = None) -> None:
        enforce_offline()
        path.mkdir(parents=True, exist_ok=True)
        self.model = model
        self._client = server.client() if server is not None else _embedded_client(path)
        self._function = _adapter(model, load_embeddings)
        self._refuse_legacy_layout(server.url if server is not None else str(path))
        self._collections = {
            (name, level, held): self._open(partition_name(name, level, held))
            for name in COLLECTIONS for level in ACCESS_LEVELS for held in (False, True)
        }
        self.max_batch = int(self._client.get_max_batch_size())
        self.contents: Contents = contents if contents is not None else ContentStore(path / "contents.sqlite")

    def _refuse_legacy_layout(self, where: str) -> None:
        """Stores from before access-level partitions keep everything in unpartitioned collections; opening
        one would look empty while its manifest says all is ingested, so say so instead."""
        names = {c if isinstance(c, str) else c.name for c in self._client.list_collections()}
        legacy = sorted(names & set(COLLECTIONS))
        if legacy:
            raise StoreMismatchError(
                f"the store at {where} uses an older layout (collections {legacy}); ingest again into a new "
                "GOVDATA_HOME"
            )

    def _open(self, name: str) -> Any:
        from chromadb.errors import NotFoundError

        try:
            collection = self._client.get_collection(name, embedding_function=self._function)
        except NotFoundError:
            return self._client.create_collection(
                name,
                embedding_function=self._function,
                metadata={"embedding_model": self.model.model_id, "embedding_dimension": self.model.dimension},
                configuration={"hnsw": {"space": "cosine"}},
            )
        except ValueError as exc:  # Chroma's own embedding-function conflict check
            raise StoreMismatchError(f"store collection {name!r} cannot be opened: {exc}") from None
        self._check_model(name, collection.metadata or {})
        return collection

    def _check_model(self, name: str, metadata: dict[str, Any]) -> None:
        built_with = ModelInfo(str(metadata.get("embedding_model")), int(metadata.get("embedding_dimension", 0)))
        if built_with != self.model:
            raise StoreMismatchError(
                f"the store's {name!r} collection was built with embedding model {built_with.model_id} "
                f"({built_with.dimension}-d) but the settings select {self.model.model_id} "
                f"({self.model.dimension}-d); use another GOVDATA_HOME or set GOVDATA_EMBEDDING__MODEL"
            )

    def _partitions(self, collection: str, levels: Sequence[str] = ACCESS_LEVELS,
                    held: Sequence[bool] = (False, True)) -> list[Any]:
        return [self._collections[(collection, level, h)] for level in levels for h in held]

    def count(self, collection: str) -> int:
        return sum(int(c.count()) for c in self._partitions(collection))

    def count_where(self, collection: str, where: dict[str, Any]) -> int:
        return sum(len(c.get(where=where, include=[])["ids"]) for c in self._partitions(collection))

    def upsert(self, collection: str, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str],
               metadatas: Sequence[Metadata], payloads: Sequence[dict[str, Any]]) -> None:
        """Vectors and filter metadata into the partition of each item's access level and hold (leaving the old
        one if either changed), texts and records into the content table."""
        previous = self.contents.get(collection, ids)
        moved = [i for i, meta in zip(ids, metadatas, strict=True)
                 if i in previous and _partition_of(previous[i][1]) != _partition_of(meta)]
        if moved:
            self._delete_vectors(collection, moved)
        for (name, level, held), partition in self._collections.items():
            if name != collection:
                continue
            rows = [n for n, meta in enumerate(metadatas) if _partition_of(meta) == (level, held)]
            for start in range(0, len(rows), self.max_batch):
                chunk = rows[start : start + self.max_batch]
                partition.upsert(
                    ids=[ids[n] for n in chunk], embeddings=vectors[chunk], metadatas=[metadatas[n] for n in chunk],
                )
        unknown = {str(meta["access_level"]) for meta in metadatas} - set(ACCESS_LEVELS)
        if unknown:
            raise GovDataError(f"items with unknown access level(s) {sorted(unknown)} cannot be stored")
        self.contents.upsert(collection, ids, documents, payloads)

    def _delete_vectors(self, collection: str, ids: Sequence[str]) -> None:
        for partition in self._partitions(collection):
            for start in range(0, len(ids), self.max_batch):
                partition.delete(ids=list(ids[start : start + self.max_batch]))

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        self._delete_vectors(collection, ids)
        self.contents.delete(collection, ids)

    def vectors(self, collection: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for partition in self._partitions(collection):
            got = partition.get(ids=list(ids), include=["embeddings"])
            out.update({i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)})
        return out

    def query(self, collection: str, vector: Sequence[float], k: int, levels: Sequence[str],
              where: dict[str, Any] | None = None, with_contents: bool = True,
              released: Sequence[str] = (), granted: Sequence[str] = ()) -> list[Hit]:
        """Nearest items by cosine similarity (score = 1 - distance) among the given access levels only: each
        allowed partition is searched (with any further filters) and the results merged. Held items are never
        searched; those in `released` (a steward's list, a few) are scored directly from their partition, and so
        are the items of other levels in `granted` (those a grant opens to the caller, issue 33).
        Without contents, hits carry ids and scores only (the retriever fetches texts for the final top k)."""
        results: list[tuple[str, float]] = []
        for partition in self._partitions(collection, levels, held=(False,)):
            if partition.count() == 0:
                continue
            got = partition.query(query_embeddings=[list(vector)], n_results=k, where=where or None,
                                  include=["distances"])
            results += [(item_id, 1.0 - float(distance)) for item_id, distance in
                        zip(got["ids"][0], got["distances"][0], strict=True)]
        if released:
            results += self._released(collection, vector, levels, where, released)
        others = [level for level in ACCESS_LEVELS if level not in levels]
        if granted and others:
            results += self._scored(vector, self._partitions(collection, others, held=(False,)), where, granted)
        results.sort(key=lambda r: -r[1])
        top = results[:k]
        contents = self.contents.get(collection, [r[0] for r in top]) if with_contents else {}
        return list(_hits(top, contents))


    def _released(self, collection: str, vector: Sequence[float], levels: Sequence[str],
                  where: dict[str, Any] | None, released: Sequence[str]) -> list[tuple[str, float]]:
        """Cosine similarity of the released held items at these levels that pass the filters."""
        return self._scored(vector, self._partitions(collection, levels, held=(True,)), where, released)

    @staticmethod
    def _scored(vector: Sequence[float], partitions: list[Any], where: dict[str, Any] | None,
                ids: Sequence[str]) -> list[tuple[str, float]]:
        """Cosine similarity of the items with these ids in these partitions that pass the filters."""
        query = np.asarray(vector, dtype=np.float32)
        query = query / (float(np.linalg.norm(query)) or 1.0)
        out: list[tuple[str, float]] = []
        for partition in partitions:
            got = partition.get(ids=list(ids), where=where or None, include=["embeddings"])
            for item_id, embedding in zip(got["ids"], got["embeddings"], strict=True):
                found = np.asarray(embedding, dtype=np.float32)
                out.append((item_id, float(found @ query) / (float(np.linalg.norm(found)) or 1.0)))
        return out


def _hits(rows: list[tuple[str, float]], contents: dict[str, tuple[str, dict[str, Any]]]) -> Iterator[Hit]:
    for item_id, score in rows:
        text, payload = contents.get(item_id, ("", {}))
        yield Hit(item_id=item_id, document=text, score=round(score, 6), payload=payload)
