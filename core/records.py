"""The records ingest produces and the store keeps: catalog records (Dataset, Distribution) and passages of
documents (Chunk)."""

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
    contact: str = Field(default="", description="Owner or contact point: a name and/or an e-mail address.")
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
    url: str = ""
    date: str = ""
