"""Coercions shared by the catalog loaders: sources write the same field in many shapes."""

import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from core.access import NON_PUBLIC, normalize_access_level
from core.records import Dataset, Distribution

_EXT_FORMAT = re.compile(r"\.([A-Za-z0-9]{2,8})(?:[?#].*)?$")


def text(value: Any) -> str:
    """A field as one line of text: dicts give their name/title, lists are joined."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return text(value.get("name") or value.get("title") or value.get("fn") or "")
    if isinstance(value, list | tuple):
        return "; ".join(t for t in (text(v) for v in value) if t)
    return str(value).strip()


def text_list(value: Any, separators: str = ",;，；、") -> tuple[str, ...]:
    """A field as a tuple of non-empty strings; strings are split on common separators."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts: Iterable[str] = re.split(f"[{re.escape(separators)}]", value)
    elif isinstance(value, list | tuple):
        parts = (text(v) for v in value)
    else:
        parts = [text(value)]
    seen: dict[str, None] = {}
    for part in parts:
        if part.strip():
            seen.setdefault(part.strip(), None)
    return tuple(seen)


def guess_format(fmt: str, media_type: str = "", url: str = "") -> str:
    """A short format name from an explicit format, a media type, or the URL's extension."""
    if fmt:
        return fmt.strip().lower().lstrip(".")
    if media_type:
        return media_type.split(";")[0].split("/")[-1].strip().lower()
    match = _EXT_FORMAT.search(url or "")
    return match.group(1).lower() if match else ""


def distribution(fmt: Any = "", url: Any = "", title: Any = "", media_type: Any = "") -> Distribution:
    url_text = text(url)
    return Distribution(format=guess_format(text(fmt), text(media_type), url_text), url=url_text, title=text(title))


def access_level_or_strict(value: Any, default: str, warnings: list[str], where: str) -> str:
    """The record's access level; an unknown value fails closed to non-public, with a warning."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        return normalize_access_level(value)
    except ValueError as exc:
        warnings.append(f"{where}: {exc}; treated as non-public")
        return NON_PUBLIC


def stable_identifier(catalog_name: str, *parts: str) -> str:
    """An identifier for records that have none: derived from content, so it survives re-ordering."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{catalog_name}:{digest}"


class RecordError(ValueError):
    """One record that cannot become a Dataset; the message is the reason a person reads."""


def load_records(records: Iterable[Any], parse: Callable[[int, dict[str, Any]], Dataset],
                 errors: list[str]) -> list[Dataset]:
    """Each record parsed on its own: one that fails becomes an error line `record N (identifier X): reason`
    (N counts from 1) and the others still load."""
    out = []
    for index, record in enumerate(records):
        try:
            if not isinstance(record, dict):
                raise RecordError(f"a {type(record).__name__} where a record object belongs")
            out.append(parse(index, record))
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError) as exc:
            errors.append(f"record {index + 1} (identifier {_identifier_of(record)}): {_reason(exc)}")
    return out


def _identifier_of(record: Any) -> str:
    if isinstance(record, dict):
        for key in ("identifier", "id", "name", "@id"):
            value = record.get(key)
            if isinstance(value, str | int) and str(value).strip():
                return str(value).strip()[:80]
    return "none"


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))
    text_ = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return text_ if isinstance(exc, RecordError) else f"{type(exc).__name__}: {text_}" if text_ else type(exc).__name__
