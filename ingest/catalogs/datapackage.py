"""Frictionless datapackage.json: one Dataset per package, with its schema's field names."""

from typing import Any

from assistant.models import Dataset

from .common import access_level_or_strict, distribution, stable_identifier, text, text_list


def is_datapackage(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("resources"), list)
        and any(isinstance(r, dict) and ("path" in r or "data" in r) for r in data["resources"])
        and ("name" in data or "profile" in data or "title" in data)
    )


def _fields(resources: list[Any]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for resource in resources:
        schema = resource.get("schema") if isinstance(resource, dict) else None
        for fld in (schema or {}).get("fields", []) if isinstance(schema, dict) else []:
            if isinstance(fld, dict) and fld.get("name"):
                label = text(fld["name"])
                if fld.get("description"):
                    label += f" ({text(fld['description'])})"
                names.setdefault(label, None)
    return tuple(names)


def load_datapackage(data: dict[str, Any], catalog_name: str, default_access: str,
                     warnings: list[str]) -> list[Dataset]:
    resources = [r for r in data.get("resources", []) if isinstance(r, dict)]
    title = text(data.get("title")) or text(data.get("name"))
    identifier = text(data.get("id")) or text(data.get("name"))
    publisher = text(data.get("publisher")) or text(data.get("contributors")) or text(data.get("sources"))
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
                for r in resources
            ),
            license=text(data.get("licenses")),
            landing_page=text(data.get("homepage")),
            fields=_fields(resources),
            catalog="datapackage",
        )
    ]
