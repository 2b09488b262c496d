"""Use cases of ingest: loading sources into the store (a steward's record decisions passed in) and the
store's status."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.manifest import Manifest
from ingest.pipeline import IngestSummary
from vectorstore.store import DATASETS, PASSAGES

if TYPE_CHECKING:
    pass

from assistant.usecases.desk import Desk

CATALOG_KINDS = ("dcat-us", "ckan", "tabular", "datapackage")



class IngestUseCases(Desk):

    def ingest(self, paths: list[Path], *, access_level: str | None = None, prune: bool = False,
               progress: Any = None) -> IngestSummary:
        """Load sources into the store (a steward's accepted record levels passed in, never imported by ingest)."""
        return self._ingest(paths, access_level=access_level, prune=prune, progress=progress)

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
