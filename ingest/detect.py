"""Decide what a file is by its content (JSON shape, CSV header), not only by its name."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import IngestError
from ingest.catalogs.ckan import packages_of
from ingest.catalogs.datapackage import is_datapackage
from ingest.catalogs.dcat import is_dcat
from ingest.documents.readers import DOCUMENT_SUFFIXES, decode_text

CATALOG_SUFFIXES = (".json", ".csv", ".tsv")
SUPPORTED_SUFFIXES = CATALOG_SUFFIXES + DOCUMENT_SUFFIXES


@dataclass(frozen=True)
class Detected:
    kind: str  # dcat | ckan | datapackage | tabular-json | tabular-csv | document
    payload: Any = None


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def parse_json(data: bytes, path: Path) -> Any:
    try:
        return json.loads(decode_text(data, path))
    except json.JSONDecodeError as exc:
        raise IngestError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None


def detect(path: Path, data: bytes) -> Detected:
    """The loader a file needs; raise IngestError for empty or unrecognised content."""
    if not data.strip():
        raise IngestError(path, "empty file")
    suffix = path.suffix.lower()
    if suffix in DOCUMENT_SUFFIXES:
        return Detected("document")
    if suffix in (".csv", ".tsv"):
        return Detected("tabular-csv", decode_text(data, path))
    payload = parse_json(data, path)
    if is_dcat(payload):
        return Detected("dcat", payload)
    if is_datapackage(payload):
        return Detected("datapackage", payload)
    packages = packages_of(payload)
    if packages is not None:
        return Detected("ckan", packages)
    if isinstance(payload, list) and payload and all(isinstance(item, dict) for item in payload):
        return Detected("tabular-json", payload)
    raise IngestError(
        path, "JSON is not a recognised catalog (DCAT-US data.json, CKAN API JSON, datapackage.json "
              "or a list of records)"
    )
