"""Frictionless datapackage.json: the one reading of a package's metadata (title, publisher, license,
resources and their schema fields), used for its catalog record (one Dataset per package) and when its
resources are approved as SQL tables (`ingest/tables/`)."""

from typing import Any

from core.records import Dataset

from .common import access_level_or_strict, distribution, stable_identifier, text, text_list


def is_datapackage(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("resources"), list)
        and any(isinstance(r, dict) and ("path" in r or "data" in r) for r in data["resources"])
        and ("name" in data or "profile" in data or "title" in data)
    )


def resources(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in data.get("resources", []) if isinstance(r, dict)]


def schema_fields(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The resource's schema fields that have a name."""
    schema = resource.get("schema")
    fields = schema.get("fields", []) if isinstance(schema, dict) else []
    return [f for f in fields if isinstance(f, dict) and f.get("name")] if isinstance(fields, list) else []


def package_publisher(data: dict[str, Any]) -> str:
    return text(data.get("publisher")) or text(data.get("contributors")) or text(data.get("sources"))


def package_license(data: dict[str, Any]) -> str:
    return text(data.get("licenses"))


def _fields(items: list[dict[str, Any]]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for resource in items:
        for fld in schema_fields(resource):
            label = text(fld["name"])
            if fld.get("description"):
                label += f" ({text(fld['description'])})"
            names.setdefault(label, None)
    return tuple(names)


def load_datapackage(data: dict[str, Any], catalog_name: str, default_access: str,
                     warnings: list[str]) -> list[Dataset]:
    listed = resources(data)
    title = text(data.get("title")) or text(data.get("name"))
    identifier = text(data.get("id")) or text(data.get("name"))
    publisher = package_publisher(data)
    return [
        Dataset(
            identifier=identifier or stable_identifier(catalog_name, title),
            generated_identifier=not identifier,
            title=title,
            description=text(data.get("description")),
            keywords=text_list(data.get("keywords")),
            publisher=publisher,
            access_level=access_level_or_strict(data.get("accessLevel"), default_access, warnings, "package"),
            modified=text(data.get("modified")) or text(data.get("last_updated")) or text(data.get("created")),
            distributions=tuple(
                distribution(r.get("format", ""), r.get("path", ""), r.get("title") or r.get("name", ""),
                             r.get("mediatype", ""))
                for r in listed
            ),
            license=package_license(data),
            landing_page=text(data.get("homepage")),
            fields=_fields(listed),
            catalog="datapackage",
        )
    ]
