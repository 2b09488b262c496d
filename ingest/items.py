"""Turn a source file into store items: one per dataset record, one per document passage."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.access import most_restrictive
from core.dates import ymd
from core.errors import IngestError
from core.records import Chunk, Dataset
from core.settings import Settings
from ingest.catalogs.ckan import load_ckan
from ingest.catalogs.datapackage import load_datapackage
from ingest.catalogs.dcat import load_dcat
from ingest.catalogs.tabular import load_tabular, rows_from_csv, rows_from_json
from ingest.detect import detect
from ingest.documents.chunking import chunk_text
from ingest.documents.readers import read_document
from ingest.injection import RULES_VERSION, Finding, find_instruction
from ingest.options import SourceOptions
from ingest.textutil import detect_language
from vectorstore.store import DATASETS, PASSAGES, Metadata

# Bump when loaders or chunkers change what they produce, so unchanged files are re-read once; the detector's
# rules version is part of it, so a new rule reaches documents ingested before it.
LOADER_VERSION = f"7/{RULES_VERSION}"  # 7: a first heading "## X" titles a document "X", not "# X"
HELD_REVIEW = "instruction-like text"
MAX_DESCRIPTION = 100_000  # characters of one record's description kept (a 5 MB description is cut)


@dataclass(frozen=True)
class Item:
    collection: str
    item_id: str
    embed_text: str
    document: str
    metadata: Metadata
    content_hash: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadedSource:
    kind: str  # "catalog" | "document"
    title: str
    items: list[Item]
    warnings: list[str] = field(default_factory=list)
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)  # records that could not be loaded (the rest did)
    repaired: int = 0  # text values whose invalid characters were repaired
    held: int = 0  # passages held for a steward's review (instruction-like text)


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def dataset_item(dataset: Dataset, source: str) -> Item:
    """Chroma gets only what searches filter on (short values keep its writes fast); the full record, with
    its source and derived fields, goes to the content table."""
    language = detect_language(dataset.title + dataset.description)
    record = {**dataset.model_dump(mode="json"), "source": source, "url": dataset.url, "formats": dataset.formats,
              "language": language, "modified_ymd": ymd(dataset.modified)}
    metadata: Metadata = {
        "access_level": dataset.access_level, "publisher": dataset.publisher, "catalog": dataset.catalog,
        "language": language, "modified_ymd": ymd(dataset.modified),
    }
    for fmt in dataset.formats:
        metadata[f"format_{fmt}"] = True
    return Item(DATASETS, dataset.identifier, dataset.embedding_text(), dataset.embedding_text(), metadata,
                _hash(json.dumps(record, sort_keys=True, ensure_ascii=False), str(sorted(metadata.items()))),
                record)


def screen(text: str, title: str = "", heading_path: Iterable[str] = ()) -> Finding | None:
    """Instruction-like text in a passage, its headings (read as markdown headings again: the chunker took their
    `#` away) or its document's title; all of them reach the model or the search."""
    return find_instruction(text) or find_instruction("\n".join((title, *(f"## {h}" for h in heading_path))))


def chunk_item(chunk: Chunk, held: Finding | None = None) -> Item:
    """A passage as a store item; a HELD one carries `held` in its filter metadata (searches leave it out until a
    steward releases it) and the rule and words that held it in its record, for the register."""
    context = " > ".join(p for p in (chunk.title, *chunk.heading_path) if p)
    metadata: Metadata = {"access_level": chunk.access_level, "language": chunk.language, "source": chunk.source}
    payload: dict[str, Any] = {
        "source": chunk.source, "title": chunk.title, "heading_path": " > ".join(chunk.heading_path),
        "article": chunk.article, "chapter": chunk.chapter, "language": chunk.language,
        "access_level": chunk.access_level, "position": chunk.position, "url": chunk.url, "date": chunk.date,
    }
    if held is not None:  # only then: a clean passage keeps its content hash (no re-embedding on upgrade)
        metadata["held"] = True
        payload |= {"held": True, "review": HELD_REVIEW, "held_rule": held.rule, "held_match": held.match[:200]}
    embed_text = f"{context}\n{chunk.text}"
    return Item(PASSAGES, chunk.chunk_id, embed_text, chunk.text, metadata,
                _hash(embed_text, json.dumps(payload, sort_keys=True, ensure_ascii=False)), payload)


def _unique(items: Iterable[Item]) -> tuple[list[Item], int]:
    """Drop repeated ids within one file (the last record wins); return how many were dropped."""
    by_id: dict[str, Item] = {}
    total = 0
    for item in items:
        by_id[item.item_id] = item
        total += 1
    return list(by_id.values()), total - len(by_id)


def _load_datasets(path: Path, data: bytes, options: SourceOptions, settings: Settings, warnings: list[str],
                   errors: list[str], record_levels: Mapping[str, str] | None = None
                   ) -> tuple[list[Dataset] | None, int]:
    detected = detect(path, data)
    default = options.access_level or settings.ingest.default_access_level
    catalog_options = options.catalog
    name = path.stem
    if detected.kind == "document":
        return None, 0
    if detected.kind == "dcat":
        datasets = load_dcat(detected.payload, name, default, warnings, errors)
    elif detected.kind == "ckan":
        datasets = load_ckan(detected.payload, catalog_options, default, warnings, errors)
    elif detected.kind == "datapackage":
        datasets = load_datapackage(detected.payload, name, default, warnings)
    else:
        header, rows = (rows_from_csv(detected.payload, catalog_options, str(path), warnings)
                        if detected.kind == "tabular-csv" else rows_from_json(detected.payload, str(path)))
        datasets = load_tabular(header, rows, name, catalog_options, default, warnings, str(path), errors)
    if options.access_level:  # a folder/CLI level can only make records stricter, never looser
        datasets = [d.model_copy(update={"access_level": most_restrictive(d.access_level, options.access_level)})
                    for d in datasets]
    graded = record_levels or {}  # a steward's accepted grading decisions: stricter again, never looser
    if graded:
        datasets = [d.model_copy(update={"access_level": most_restrictive(d.access_level, graded[d.identifier])
                                         or d.access_level}) if d.identifier in graded else d for d in datasets]
    return [_capped(d, warnings) for d in datasets], detected.repaired


def _capped(dataset: Dataset, warnings: list[str]) -> Dataset:
    if len(dataset.description) <= MAX_DESCRIPTION:
        return dataset
    warnings.append(f"record {dataset.identifier}: description of {len(dataset.description):,} characters cut "
                    f"to {MAX_DESCRIPTION:,}")
    return dataset.model_copy(update={"description": dataset.description[:MAX_DESCRIPTION]})


def _chunks(path: Path, data: bytes, options: SourceOptions,
            settings: Settings) -> tuple[str, list[Chunk], bool]:
    document = read_document(data, path)
    source = str(path)
    level = options.access_level or settings.ingest.default_access_level
    language = options.language or detect_language(document.text[:5000])
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    for position, passage in enumerate(chunk_text(document.text, settings.chunk.max_tokens)):
        base = _hash(source, passage.article, " > ".join(passage.heading_path), passage.text)[:24]
        seen[base] = seen.get(base, 0) + 1
        chunk_id = base if seen[base] == 1 else f"{base}-{seen[base]}"
        chunks.append(Chunk(
            chunk_id=chunk_id, source=source, title=document.title, text=passage.text,
            heading_path=passage.heading_path, article=passage.article, chapter=passage.chapter,
            language=language, access_level=level, position=position, url=document.url, date=document.date,
        ))
    return document.title, chunks, document.repaired


def load_source(path: Path, data: bytes, options: SourceOptions, settings: Settings,
                record_levels: Mapping[str, str] | None = None) -> LoadedSource:
    """Read, parse and chunk one file entirely in memory; raises IngestError before anything is written.
    `record_levels` are a steward's accepted levels by record id (a decision reaches ingest as an argument)."""
    warnings: list[str] = []
    errors: list[str] = []
    datasets, repaired = _load_datasets(path, data, options, settings, warnings, errors, record_levels)
    if datasets is not None:
        if not datasets and errors:  # nothing loaded: the file fails as a whole, its last version stays
            raise IngestError(path, f"no record could be loaded ({len(errors)} failed; first: {errors[0]})")
        items, duplicates = _unique(dataset_item(d, str(path)) for d in datasets)
        return LoadedSource("catalog", path.stem, items, warnings, duplicates, errors, repaired)
    title, chunks, document_repaired = _chunks(path, data, options, settings)
    if not chunks:
        raise IngestError(path, "document has no text to index")
    items, duplicates = _unique(chunk_item(c, screen(c.text, c.title, c.heading_path)) for c in chunks)
    held = sum(1 for item in items if item.payload.get("held"))
    if held:
        warnings.append(f"held for review: {held} passage(s) with {HELD_REVIEW}")
    return LoadedSource("document", title, items, warnings, duplicates, repaired=int(document_repaired), held=held)
