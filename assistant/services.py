"""Services: the one door every shell (CLI, web app, API, MCP, evaluations) goes through. Each use case checks the
role's action, calls the core, masks what leaves and leaves a receipt; the use cases live one module per family
in `assistant/usecases/`, and this class joins them (the parts are built by `assistant/factories.py`)."""

from assistant.usecases.audit import AuditUseCases
from assistant.usecases.datasets import DatasetUseCases
from assistant.usecases.desk import ENTRIES
from assistant.usecases.documents import DocumentUseCases
from assistant.usecases.grants import GrantUseCases
from assistant.usecases.ingest import CATALOG_KINDS, IngestUseCases
from assistant.usecases.knowledge import KnowledgeUseCases
from assistant.usecases.register import RegisterUseCases
from assistant.usecases.sql import SqlUseCases
from assistant.usecases.state import StateUseCases
from assistant.usecases.tokens import TokenUseCases
from assistant.usecases.users import UserUseCases

__all__ = ["CATALOG_KINDS", "ENTRIES", "Services"]


class Services(DocumentUseCases, DatasetUseCases, AuditUseCases, SqlUseCases, RegisterUseCases, IngestUseCases,
               TokenUseCases, KnowledgeUseCases, GrantUseCases, UserUseCases, StateUseCases):
    """Every use case, lazily built parts for one settings object: the embedding model loads only when needed."""
