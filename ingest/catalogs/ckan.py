"""CKAN API JSON: package_search and package_show responses, or bare package lists."""

from typing import Any

from core.access import NON_PUBLIC
from core.records import Dataset

from .common import RecordError, access_level_or_strict, distribution, load_records, text, text_list


def _is_package(item: Any) -> bool:
    return isinstance(item, dict) and "name" in item and ("resources" in item or "notes" in item)


def packages_of(data: Any) -> list[dict[str, Any]] | None:
    """The package dicts of a CKAN response, or None when this is not CKAN JSON."""
    result = data.get("result") if isinstance(data, dict) and "result" in data else data
    if isinstance(result, dict) and isinstance(result.get("results"), list):
        result = result["results"]
    if isinstance(result, dict) and _is_package(result):
        return [result]
    if isinstance(result, list) and result and all(_is_package(item) for item in result[:20]):
        return list(result)
    return None


def _extras(package: dict[str, Any]) -> dict[str, Any]:
    extras = package.get("extras") or []
    if isinstance(extras, dict):
        return extras
    return {str(e.get("key")): e.get("value") for e in extras if isinstance(e, dict)}


def _contact(package: dict[str, Any]) -> str:
    """The maintainer, else the author, as "name <e-mail>" (either part may be missing)."""
    for who in ("maintainer", "author"):
        name, email = text(package.get(who)), text(package.get(f"{who}_email"))
        if name or email:
            return f"{name} <{email}>" if name and email else name or email
    return ""


def parse_package(package: dict[str, Any], options: dict[str, Any], default_access: str,
                  warnings: list[str], where: str) -> Dataset:
    extras = _extras(package)
    level = access_level_or_strict(extras.get("accessLevel"), default_access, warnings, where)
    if package.get("private") is True:
        level = NON_PUBLIC
    base_url = str(options.get("base_url", "")).rstrip("/")
    name = text(package.get("name"))
    organization = package.get("organization") or {}
    return Dataset(
        identifier=text(extras.get("identifier")) or text(package.get("id")) or name,
        title=text(package.get("title")) or name,
        description=text(package.get("notes")),
        keywords=tuple(text(t) for t in package.get("tags") or [] if text(t)),
        publisher=text(organization.get("title") if isinstance(organization, dict) else organization)
        or text(package.get("author")) or text(options.get("publisher")),
        access_level=level,
        modified=text(extras.get("modified")) or text(package.get("metadata_modified")),
        accrual_periodicity=text(extras.get("accrualPeriodicity")),
        distributions=tuple(
            distribution(r.get("format", ""), r.get("url", ""), r.get("name", ""), r.get("mimetype", ""))
            for r in package.get("resources") or []
            if isinstance(r, dict)
        ),
        license=text(package.get("license_title")) or text(package.get("license_id")),
        temporal=text(extras.get("temporal")),
        spatial=text(extras.get("spatial")),
        landing_page=text(package.get("url")) or (f"{base_url}/dataset/{name}" if base_url and name else ""),
        contact=_contact(package),
        themes=text_list([g.get("title") or g.get("name") for g in package.get("groups") or []
                          if isinstance(g, dict)]),
        catalog="ckan",
    )


def load_ckan(packages: list[dict[str, Any]], options: dict[str, Any], default_access: str,
              warnings: list[str], errors: list[str]) -> list[Dataset]:
    def parse(index: int, package: dict[str, Any]) -> Dataset:
        if not (text(package.get("title")) or text(package.get("name"))):
            raise RecordError("no title or name")
        return parse_package(package, options, default_access, warnings, f"record {index + 1}")

    return load_records(packages, parse, errors)
