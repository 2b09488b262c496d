"""DCAT-US (Project Open Data) data.json catalogs, v1.1 objects and v1.0 bare lists."""

from typing import Any

from core.records import Dataset

from .common import (
    RecordError,
    access_level_or_strict,
    distribution,
    load_records,
    stable_identifier,
    text,
    text_list,
)


def is_dcat(data: Any) -> bool:
    """A catalog object with a dataset list, or a bare list of records carrying DCAT-US keys."""
    if isinstance(data, dict):
        datasets = data.get("dataset")
        if isinstance(datasets, dict):  # one record where a list belongs: read it as a list of one
            datasets = [datasets]
        return isinstance(datasets, list) and (
            "conformsTo" in data or "dcat" in str(data.get("@type", "")).lower() or _looks_dcat(datasets)
        )
    return isinstance(data, list) and _looks_dcat(data)


def _looks_dcat(items: list[Any]) -> bool:
    dicts = [item for item in items[:20] if isinstance(item, dict)]
    return bool(dicts) and all("title" in d and ("accessLevel" in d or "identifier" in d) for d in dicts)


def _distributions(record: dict[str, Any]) -> tuple[Any, ...]:
    items = record.get("distribution") or []
    if isinstance(items, dict):
        items = [items]
    return tuple(
        distribution(
            d.get("format", ""), d.get("downloadURL") or d.get("accessURL", ""), d.get("title", ""),
            d.get("mediaType", ""),
        )
        for d in items
        if isinstance(d, dict)
    )


def _contact(point: Any) -> str:
    """DCAT-US contactPoint ({"fn": ..., "hasEmail": "mailto:..."}) as "name <e-mail>"; a bare string as it is."""
    if isinstance(point, list):
        point = next((p for p in point if p), None)
    if isinstance(point, dict):
        name = text(point.get("fn"))
        email = text(point.get("hasEmail")).removeprefix("mailto:")
        return f"{name} <{email}>" if name and email else name or email
    return text(point)


def parse_record(record: dict[str, Any], catalog_name: str, default_access: str, warnings: list[str],
                 where: str) -> Dataset:
    """One DCAT-US dataset object as a Dataset, identifier and title verbatim."""
    title = text(record.get("title"))
    identifier = text(record.get("identifier"))
    publisher = text(record.get("publisher"))
    return Dataset(
        identifier=identifier or stable_identifier(catalog_name, title, publisher),
        generated_identifier=not identifier,
        title=title,
        description=text(record.get("description")),
        keywords=text_list(record.get("keyword")),
        publisher=publisher,
        access_level=access_level_or_strict(record.get("accessLevel"), default_access, warnings, where),
        modified=text(record.get("modified")),
        accrual_periodicity=text(record.get("accrualPeriodicity")),
        distributions=_distributions(record),
        license=text(record.get("license")),
        temporal=text(record.get("temporal")),
        spatial=text(record.get("spatial")),
        landing_page=text(record.get("landingPage")),
        contact=_contact(record.get("contactPoint")),
        themes=text_list(record.get("theme")),
        catalog="dcat-us",
    )


def load_dcat(data: Any, catalog_name: str, default_access: str, warnings: list[str],
              errors: list[str]) -> list[Dataset]:
    records = data["dataset"] if isinstance(data, dict) else data
    if isinstance(records, dict):
        warnings.append("\"dataset\" is an object, not a list; read as one record")
        records = [records]

    def parse(index: int, record: dict[str, Any]) -> Dataset:
        if not text(record.get("title")):
            raise RecordError("no title")
        return parse_record(record, catalog_name, default_access, warnings, f"record {index + 1}")

    return load_records(records, parse, errors)
