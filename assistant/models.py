"""Typed records that flow from ingest to the store and back to users."""

from pydantic import BaseModel, ConfigDict, Field


class Distribution(BaseModel):
    """One way to get a dataset: a format and a URL."""

    model_config = ConfigDict(frozen=True)

    format: str = ""
    url: str = ""
    title: str = ""


class Dataset(BaseModel):
    """A catalog record, with the source's identifier and title kept verbatim."""

    model_config = ConfigDict(frozen=True)

    identifier: str
    title: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    publisher: str = ""
    access_level: str = "public"
    modified: str = ""
    accrual_periodicity: str = ""
    distributions: tuple[Distribution, ...] = ()
    license: str = ""
    temporal: str = ""
    spatial: str = ""
    landing_page: str = ""
    themes: tuple[str, ...] = ()
    fields: tuple[str, ...] = Field(default=(), description="Main columns, where the catalog lists them.")
    catalog: str = Field(default="", description="Catalog kind: dcat-us, ckan, tabular, datapackage.")
    generated_identifier: bool = False

    @property
    def formats(self) -> list[str]:
        seen: dict[str, None] = {}
        for dist in self.distributions:
            if dist.format:
                seen.setdefault(dist.format.lower(), None)
        return list(seen)

    @property
    def url(self) -> str:
        if self.landing_page:
            return self.landing_page
        return next((d.url for d in self.distributions if d.url), "")

    def embedding_text(self) -> str:
        """What the vector of this record is made from: the words a searcher would use."""
        parts = [self.title, self.description]
        if self.keywords:
            parts.append("; ".join(self.keywords))
        if self.themes:
            parts.append("; ".join(self.themes))
        if self.fields:
            parts.append("; ".join(self.fields))
        if self.publisher:
            parts.append(self.publisher)
        return "\n".join(p for p in parts if p)


class Chunk(BaseModel):
    """A passage of a document, with where it came from."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    source: str
    title: str
    text: str
    heading_path: tuple[str, ...] = ()
    article: str = ""
    chapter: str = ""
    language: str = "en"
    access_level: str = "public"
    position: int = 0


class Citation(BaseModel):
    """A retrieved passage an answer relies on; `n` matches the [n] markers in the answer."""

    n: int
    source: str
    title: str
    chunk_id: str
    quote: str
    article: str = ""
    heading_path: str = ""


class Answer(BaseModel):
    """A grounded answer: every citation points at a passage that was retrieved for this question."""

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
