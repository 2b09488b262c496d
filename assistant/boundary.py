"""What every text entering Services goes through (issue 26): one normalisation and a length bound.

Lone UTF-16 surrogates (JSON's `"\\ud800"`, and the U+DC80-U+DCFF that Python keeps for bytes of a command line
that are not UTF-8) and NUL become U+FFFD, so SQLite, DuckDB, sqlglot, the model and the shells never meet text
they cannot encode; a valid surrogate pair becomes the character it stands for. A text longer than its limit is
refused with one line naming the limit, before any work is spent on it.
"""

import dataclasses
import hashlib
import re
from typing import Any

from core.errors import FieldError
from core.settings import Settings

REPLACEMENT = "\ufffd"
_UNUSABLE = re.compile("[\x00\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
QUESTIONS = ("question", "query")  # the arguments bounded by GOVDATA_INPUT__MAX_QUESTION_CHARS


def clean(text: str) -> str:
    """The text with lone surrogates and NUL replaced by U+FFFD; anything else stays as it is."""
    if not _UNUSABLE.search(text):
        return text
    if _SURROGATE.search(text):
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", REPLACEMENT)


def clean_any(value: Any) -> Any:
    """Every text in a value cleaned: strings, and those inside lists, tuples and dicts (keys too); a new copy
    where something changed, other values as they are."""
    if isinstance(value, str):
        return clean(value)
    if type(value) is list:
        return [clean_any(v) for v in value]
    if type(value) is tuple:
        return tuple(clean_any(v) for v in value)
    if type(value) is dict:
        return {clean_any(k): clean_any(v) for k, v in value.items()}
    return value


def bounded(field: str, text: str, limit: int) -> str:
    """The text, or a FieldError naming the limit when it has more than `limit` characters."""
    if len(text) > limit:
        raise FieldError(field, f"longer than the limit of {limit:,} characters (it has {len(text):,})")
    return text


def limit_of(name: str, settings: Settings) -> int:
    """The longest text an argument called `name` may hold: questions and searches, SQL, or any other field."""
    if name in QUESTIONS:
        return settings.input.max_question_chars
    if name == "sql":
        return settings.sql.max_chars
    return settings.input.max_field_chars


def entering(name: str, value: Any, settings: Settings) -> Any:
    """A use case's argument as it may enter: every text cleaned and bounded (FieldError); of a conversation's
    earlier turns only the latest GOVDATA_INPUT__MAX_HISTORY_TURNS are kept; a filter object's text fields are
    bounded like fields. Paths and numbers pass as they are (a path may name a file whose name is not UTF-8)."""
    if isinstance(value, str):
        return bounded(name, clean(value), limit_of(name, settings))
    if name == "history" and value:
        return _turns(list(value), settings)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        texts = {f.name: entering(f.name, getattr(value, f.name), settings) for f in dataclasses.fields(value)
                 if f.init and isinstance(getattr(value, f.name), str)}
        return dataclasses.replace(value, **texts) if texts else value
    return clean_any(value)


def _turns(turns: list[Any], settings: Settings) -> list[tuple[str, ...]]:
    keep, limit = settings.input.max_history_turns, settings.input.max_history_chars
    latest = turns[len(turns) - keep:] if keep else []
    return [tuple(bounded("history", clean(str(text)), limit) for text in turn) for turn in latest]


def cut(text: str, limit: int) -> str:
    """At most `limit` characters: a longer text keeps its start and ends in `…`."""
    return text if len(text) <= limit else text[:max(limit - 1, 0)] + "…"


def digest(text: str) -> str:
    """sha256 (hex) of a text's UTF-8, the fingerprint a receipt keeps of a question or SQL it cut."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
