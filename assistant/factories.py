"""Factories: the parts a `Services` uses, built from Settings (store, retriever, SQL service, query gate).

Nothing here checks a role or writes a receipt; that is `Services`' job. Each factory is called once per
`Services`, lazily, so the embedding model and the chat model load only when a use case needs them.
"""

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel

from core.errors import GovDataError
from core.settings import Settings
from vectorstore.embeddings import GovDataEmbeddings
from vectorstore.keyword import KeywordIndexes
from vectorstore.retriever import Retriever
from vectorstore.store import ChromaServer, ChromaStore, ModelInfo

if TYPE_CHECKING:
    from assistant.gate import Gate
    from assistant.sql.service import SqlService

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


def chroma_server(settings: Settings) -> ChromaServer | None:
    """The Chroma server the settings name (token read from its environment variable), or None: embedded."""
    chroma = settings.chroma
    if not chroma.url:
        return None
    headers = {}
    if chroma.token_env:
        token = os.environ.get(chroma.token_env)
        if not token:
            raise GovDataError(f"GOVDATA_CHROMA__TOKEN_ENV names {chroma.token_env}, which is not set")
        headers[chroma.header] = f"Bearer {token}" if chroma.header.lower() == "authorization" else token
    return ChromaServer(chroma.url, headers, chroma.tenant, chroma.database)


BACKGROUND_REBUILD = 50_000  # shared content table: a keyword index this large is rebuilt in the background


def build_store(settings: Settings, embeddings: Callable[[], GovDataEmbeddings]) -> ChromaStore:
    """The vector store: embedded under GOVDATA_HOME, or the Chroma server GOVDATA_CHROMA__URL names; its content
    table in the shared state when there is one (issue 34)."""
    from core.state import shared_state
    from vectorstore.content import PostgresContents

    state = shared_state(settings.state)
    contents = PostgresContents(state) if state is not None else None
    return ChromaStore(settings.chroma_path, model_info(settings), embeddings, chroma_server(settings), contents)


def build_retriever(settings: Settings, store: ChromaStore, embeddings: GovDataEmbeddings) -> Retriever:
    """Hybrid search (vectors + BM25, fused) over the store, tuned by GOVDATA_RETRIEVAL__*."""
    keywords = KeywordIndexes(store.contents, settings.home / "bm25",
                              background_above=BACKGROUND_REBUILD if settings.state.shared else None)
    retrieval = settings.retrieval
    return Retriever(store, embeddings, keywords, retrieval.fusion, retrieval.keyword_weight, retrieval.candidates,
                     retrieval.translate)


def build_sql_service(settings: Settings, chat_model: Callable[[], BaseChatModel],
                      embeddings: Callable[[], GovDataEmbeddings], ingest: Callable[..., Any]) -> "SqlService":
    """Approved tables, the SQL guard and runner, and question -> SQL."""
    from assistant.sql.service import SqlService

    def embed(texts: list[str]) -> Any:
        return embeddings().embed_array(texts)

    return SqlService(settings, chat_model, embed, ingest)


def build_model_gate(settings: Settings) -> "Gate":
    """The caps on model work (answers, SQL writing) running at once, per user and in total."""
    from assistant.gate import Gate

    llm = settings.llm
    return Gate(llm.workers(), llm.workers(), llm.max_concurrent_per_user, llm.queue_wait_s,
                noun=("model answer", "model answers"))


def build_gate(settings: Settings) -> "Gate":
    """The caps on concurrent and per-minute queries (one gate per Services, shared by every web session)."""
    from assistant.gate import Gate

    limits = settings.sql
    return Gate(limits.max_concurrent, limits.max_concurrent_per_role, limits.max_concurrent_per_user,
                     limits.queue_wait_s, limits.max_queries_per_user_per_minute)
