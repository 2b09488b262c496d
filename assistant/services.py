"""Factories that build the store, pipeline and searches from Settings; the CLI and UI are shells over these."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import GovDataError
from assistant.roles import access_filter
from ingest.manifest import Manifest
from ingest.pipeline import IngestSummary, Pipeline
from vectorstore.embeddings import GovDataEmbeddings, build_embeddings
from vectorstore.store import DATASETS, PASSAGES, ChromaStore, ModelInfo

CATALOG_KINDS = ("dcat-us", "ckan", "tabular", "datapackage")
_BUNDLED_DIMENSIONS = {"use-multilingual-v3": 512, "all-minilm-l6-v2": 384}


def _local_model_dimension(path: Path) -> int:
    """Output size of a sentence-transformers folder, read from its config files (no model load)."""
    for candidate in sorted(path.glob("*_Dense/config.json"), reverse=True):
        return int(json.loads(candidate.read_text())["out_features"])
    pooling = path / "1_Pooling" / "config.json"
    if pooling.is_file():
        return int(json.loads(pooling.read_text())["word_embedding_dimension"])
    config = path / "config.json"
    if config.is_file():
        return int(json.loads(config.read_text())["hidden_size"])
    raise GovDataError(f"cannot tell the embedding size of {path}: no 1_Pooling/config.json or config.json")


def model_info(settings: Settings) -> ModelInfo:
    """The embedding model the settings select, without loading it."""
    model = settings.embedding.model
    if model in _BUNDLED_DIMENSIONS:
        return ModelInfo(model, _BUNDLED_DIMENSIONS[model])
    if settings.embedding.path is None:
        raise GovDataError("GOVDATA_EMBEDDING__PATH must name a local model folder for model=sentence-transformers")
    path = settings.embedding.path.expanduser().resolve()
    return ModelInfo(f"sentence-transformers:{path.name}", _local_model_dimension(path))


class Services:
    """Lazily built parts for one settings object: the embedding model loads only when needed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._embeddings: GovDataEmbeddings | None = None
        self._store: ChromaStore | None = None

    @property
    def embeddings(self) -> GovDataEmbeddings:
        if self._embeddings is None:
            self._embeddings = build_embeddings(self.settings.embedding)
        return self._embeddings

    @property
    def store(self) -> ChromaStore:
        if self._store is None:
            self._store = ChromaStore(self.settings.chroma_path, model_info(self.settings), lambda: self.embeddings)
        return self._store

    def ingest(self, paths: list[Path], *, access_level: str | None = None, prune: bool = False,
               progress: Any = None) -> IngestSummary:
        manifest = Manifest(self.settings.manifest_path)
        try:
            pipeline = Pipeline(self.settings, self.store, lambda: self.embeddings, manifest)
            return pipeline.run(paths, access_level=access_level, prune=prune, progress=progress)
        finally:
            manifest.close()

    def status(self) -> dict[str, Any]:
        manifest = Manifest(self.settings.manifest_path)
        try:
            documents = manifest.count_sources("document")
            sources = len(manifest.sources())
        finally:
            manifest.close()
        return {
            "datasets": self.store.count(DATASETS),
            "datasets_by_catalog": {
                kind: n for kind in CATALOG_KINDS if (n := self.store.count_where(DATASETS, {"catalog": kind}))
            },
            "documents": documents,
            "chunks": self.store.count(PASSAGES),
            "embedding_model": self.store.model.model_id,
            "embedding_dimension": self.store.model.dimension,
            "sources": sources,
            "home": str(self.settings.home.resolve()),
        }

    def search_passages(self, query: str, *, k: int, role: str) -> list["Passage"]:
        """Plain dense search over document passages, access-filtered inside the search."""
        if not query.strip():
            raise GovDataError("QUERY must not be empty")
        vector = self.embeddings.embed_query(query)
        hits = self.store.query(PASSAGES, vector, k, access_filter(role, self.settings.roles_file))
        return [Passage.from_hit(hit) for hit in hits]


@dataclass(frozen=True)
class Passage:
    """A search result for `govdata docs search`."""

    source: str
    title: str
    chunk_id: str
    text: str
    score: float
    heading_path: str
    article: str
    access_level: str

    @classmethod
    def from_hit(cls, hit: Any) -> "Passage":
        meta = hit.payload
        return cls(
            source=str(meta.get("source", "")), title=str(meta.get("title", "")), chunk_id=hit.item_id,
            text=hit.document, score=hit.score, heading_path=str(meta.get("heading_path", "")),
            article=str(meta.get("article", "")), access_level=str(meta.get("access_level", "")),
        )
