"""What the assistant gives back: answers with citations, and search results (the records ingest produces are in
core/records.py)."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

if TYPE_CHECKING:
    from vectorstore.retriever import Ranked

T = TypeVar("T")


class Citation(BaseModel):
    """A retrieved passage an answer relies on; `n` matches the [n] markers in the answer."""

    model_config = ConfigDict(frozen=True)

    n: int
    source: str
    title: str
    chunk_id: str
    quote: str
    article: str = ""
    heading_path: str = ""
    date: str = ""
    url: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        """How a person names the source: title, article (or section) and date; never a file path."""
        where = " ".join(p for p in (self.title, self.article or self.heading_path.split(" > ")[-1]) if p)
        return f"{where} ({self.date})" if self.date else where


class Answer(BaseModel):
    """A grounded answer: every citation points at a passage that was retrieved for this question. Frozen:
    masking and receipts make new copies (`model_copy`), never change an answer another caller holds."""

    model_config = ConfigDict(frozen=True)

    answer: str
    found: bool
    language: str
    citations: list[Citation] = Field(default_factory=list)
    question: str = ""
    standalone_question: str = ""
    closest_sources: list[str] = Field(default_factory=list)
    model: str = ""
    retrieved_chunk_ids: list[str] = Field(default_factory=list)
    receipt_id: int | None = None
    dropped: list[str] = Field(default_factory=list)  # sentences removed: their cited passages do not state them
    best_score: float | None = None  # the best passage's retrieval score (None: nothing retrieved); see min_score


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
    date: str = ""
    url: str = ""

    @classmethod
    def from_ranked(cls, ranked: "Ranked") -> "Passage":
        meta, hit = ranked.hit.payload, ranked.hit
        return cls(
            source=str(meta.get("source", "")), title=str(meta.get("title", "")), chunk_id=hit.item_id,
            text=hit.document, score=round(ranked.score, 6), heading_path=str(meta.get("heading_path", "")),
            article=str(meta.get("article", "")), access_level=str(meta.get("access_level", "")),
            date=str(meta.get("date", "")), url=str(meta.get("url", "")),
        )

    @classmethod
    def from_stored(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> "Passage":
        """A passage read by its id (no search, so no score)."""
        return cls(
            source=str(meta.get("source", "")), title=str(meta.get("title", "")), chunk_id=chunk_id, text=text,
            score=0.0, heading_path=str(meta.get("heading_path", "")), article=str(meta.get("article", "")),
            access_level=str(meta.get("access_level", "")), date=str(meta.get("date", "")),
            url=str(meta.get("url", "")),
        )


@dataclass(frozen=True)
class DatasetResult:
    """A search result for `govdata datasets search`: identifier and title exactly as in the catalog."""

    identifier: str
    title: str
    publisher: str
    access_level: str
    description: str
    url: str
    formats: list[str]
    modified: str
    score: float
    source: str
    keywords: list[str]
    catalog: str
    update_frequency: str = ""  # as the catalog declares it (R/P1M, monthly, 每月)
    quality: int | None = None  # the register's metadata quality score, 0-100 (docs/register.md)
    matched: list[str] = field(default_factory=list)  # why it matched: query words found, "失业 → unemployment"

    @classmethod
    def from_ranked(cls, ranked: "Ranked", quality: int | None = None,
                    matched: list[str] | None = None) -> "DatasetResult":
        """The result of one ranked hit; `quality` (the register's score) and `matched` come from the use case."""
        record = ranked.hit.payload
        return cls(
            identifier=str(record.get("identifier", ranked.hit.item_id)), title=str(record.get("title", "")),
            publisher=str(record.get("publisher", "")), access_level=str(record.get("access_level", "")),
            description=str(record.get("description", "")), url=str(record.get("url", "")),
            formats=list(record.get("formats", [])), modified=str(record.get("modified", "")),
            score=round(ranked.score, 6), source=str(record.get("source", "")),
            keywords=list(record.get("keywords", [])), catalog=str(record.get("catalog", "")),
            update_frequency=str(record.get("accrual_periodicity", "") or ""), quality=quality,
            matched=list(matched or []),
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a ranked list: its items, how many the list holds (a search ranks at most
    GOVDATA_API__MAX_RESULTS), where this page starts, and where the next one does (None: this is the last)."""

    items: list[T]
    total: int
    offset: int
    next: int | None
