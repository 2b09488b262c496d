"""The Chroma store: two collections (catalog datasets, document passages) tied to one embedding model.

Vectors are computed by our embedding model and passed in; the collection's embedding function is our
own adapter too, so Chroma never falls back to its default (which downloads a model and fails offline).
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import GovDataError, StoreMismatchError
from assistant.offline import enforce_offline
from vectorstore.content import ContentStore
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
    metadata: Metadata
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


class ChromaStore:
    """A persistent Chroma client under one folder (vectors + filter metadata) and a content table beside it
    (texts + full records); refuses stores built with another embedding model."""

    def __init__(self, path: Path, model: ModelInfo, load_embeddings: Callable[[], GovDataEmbeddings]) -> None:
        enforce_offline()
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        self.model = model
        self._client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        self._function = _adapter(model, load_embeddings)
        self._collections = {name: self._open(name) for name in COLLECTIONS}
        self.max_batch = int(self._client.get_max_batch_size())
        self.contents = ContentStore(path / "contents.sqlite")

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

    def count(self, collection: str) -> int:
        return int(self._collections[collection].count())

    def count_where(self, collection: str, where: dict[str, Any]) -> int:
        return len(self._collections[collection].get(where=where, include=[])["ids"])

    def upsert(self, collection: str, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str],
               metadatas: Sequence[Metadata], payloads: Sequence[dict[str, Any]]) -> None:
        """Vectors and filter metadata into Chroma, texts and records into the content table."""
        for start in range(0, len(ids), self.max_batch):
            end = start + self.max_batch
            self._collections[collection].upsert(
                ids=list(ids[start:end]), embeddings=vectors[start:end], metadatas=list(metadatas[start:end]),
            )
        self.contents.upsert(collection, ids, documents, payloads)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), self.max_batch):
            self._collections[collection].delete(ids=list(ids[start : start + self.max_batch]))
        self.contents.delete(collection, ids)

    def existing_ids(self, collection: str, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), self.max_batch):
            got = self._collections[collection].get(ids=list(ids[start : start + self.max_batch]), include=[])
            found.update(got["ids"])
        return found

    def vectors(self, collection: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        got = self._collections[collection].get(ids=list(ids), include=["embeddings"])
        return {item_id: np.asarray(vector, dtype=np.float32) for item_id, vector in zip(got["ids"], got["embeddings"],
                                                                                         strict=True)}

    def query(self, collection: str, vector: Sequence[float], k: int,
              where: dict[str, Any] | None = None) -> list[Hit]:
        """Nearest items by cosine similarity (score = 1 - distance), filtered inside the search."""
        result = self._collections[collection].query(
            query_embeddings=[list(vector)], n_results=k, where=where or None, include=["metadatas", "distances"],
        )
        contents = self.contents.get(collection, result["ids"][0])
        return list(_hits(result, contents))


def _hits(result: Any, contents: dict[str, tuple[str, dict[str, Any]]]) -> Iterator[Hit]:
    for index, item_id in enumerate(result["ids"][0]):
        text, payload = contents.get(item_id, ("", {}))
        yield Hit(
            item_id=item_id,
            document=text,
            metadata=dict(result["metadatas"][0][index] or {}),
            score=round(1.0 - float(result["distances"][0][index]), 6),
            payload=payload,
        )
