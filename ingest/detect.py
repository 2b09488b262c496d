"""Decide what a file is by its content (JSON shape, CSV header), not only by its name."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import IngestError
from ingest.catalogs.ckan import packages_of
from ingest.catalogs.datapackage import is_datapackage
from ingest.catalogs.dcat import is_dcat
from ingest.clean import clean_text, clean_tree
from ingest.documents.readers import DOCUMENT_SUFFIXES, decode_text

CATALOG_SUFFIXES = (".json", ".csv", ".tsv")
SUPPORTED_SUFFIXES = CATALOG_SUFFIXES + DOCUMENT_SUFFIXES


@dataclass(frozen=True)
class Detected:
    kind: str  # dcat | ckan | datapackage | tabular-json | tabular-csv | document
    payload: Any = None
    repaired: int = 0  # text values (JSON strings, CSV lines) whose invalid characters were repaired


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def parse_json(data: bytes, path: Path) -> tuple[Any, int]:
    """The parsed value with every string cleaned (ingest/clean.py), and how many strings were repaired."""
    text = decode_text(data, path)
    if text.lstrip()[:1] == "<":
        kind = "an HTML page" if "<html" in text[:2000].lower() or "<!doctype" in text[:200].lower() else "XML"
        raise IngestError(path, f"this .json file holds {kind}, not JSON (a portal's error or login page saved "
                                "in its place?)")
    try:
        return clean_tree(json.loads(text))
    except json.JSONDecodeError as exc:
        raise IngestError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except RecursionError:
        raise IngestError(path, "JSON nested too deeply to read (a catalog is a few levels deep)") from None


def detect(path: Path, data: bytes) -> Detected:
    """The loader a file needs; raise IngestError for empty or unrecognised content."""
    if not data.strip():
        raise IngestError(path, "empty file")
    suffix = path.suffix.lower()
    if suffix in DOCUMENT_SUFFIXES:
        return Detected("document")
    if suffix in (".csv", ".tsv"):
        return Detected("tabular-csv", *_clean_lines(decode_text(data, path)))
    payload, repaired = parse_json(data, path)
    if is_dcat(payload):
        return Detected("dcat", payload, repaired)
    if is_datapackage(payload):
        return Detected("datapackage", payload, repaired)
    packages = packages_of(payload)
    if packages is not None:
        return Detected("ckan", packages, repaired)
    if isinstance(payload, list) and payload and all(isinstance(item, dict) for item in payload):
        return Detected("tabular-json", payload, repaired)
    raise IngestError(
        path, "JSON is not a recognised catalog (DCAT-US data.json, CKAN API JSON, datapackage.json "
              "or a list of records)"
    )


def _clean_lines(text: str) -> tuple[str, int]:
    """CSV text cleaned before it is parsed; how many lines needed a repair."""
    cleaned, repaired = clean_text(text)
    if not repaired:
        return cleaned, 0
    return cleaned, sum(clean_text(line)[1] for line in text.replace("\r\n", "\n").split("\n"))
