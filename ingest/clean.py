"""The one place text from any source is normalised, at load time, before anything is stored.

Real catalogs carry text that JSON and CSV readers accept but SQLite, Chroma and people do not:

- lone UTF-16 surrogates from JSON escapes (`\\udc92`): the low half U+DC80-U+DCFF is how a broken converter
  (Python's surrogateescape) keeps an undecodable byte, so runs of them are decoded back as UTF-8 when they
  form valid UTF-8, else byte by byte as Windows-1252 (`\\udc92` -> `’`); any other lone surrogate becomes
  U+FFFD; a high + low pair left split becomes the character it encodes;
- NUL and other control characters (tab and line breaks kept), byte-order marks and non-characters inside
  the text: removed;
- line endings: `\\r\\n` and `\\r` become `\\n` (not counted as a repair);
- Unicode NFC, so the same word is stored and searched the same way.

`clean_text` returns the text and whether anything was repaired; `clean_tree` does every string (and key) of
a parsed JSON value and counts the repaired ones.
"""

import re
import unicodedata
from typing import Any

_NEEDS_WORK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\r\ud800-\udfff\ufeff\ufffe\uffff]")
_REMOVED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe\uffff]")
_SURROGATES = re.compile("[\ud800-\udfff]+")
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")


def clean_text(value: str) -> tuple[str, bool]:
    """The text normalised, and True when invalid characters were repaired or removed."""
    if value.isascii() and not _NEEDS_WORK.search(value):
        return value, False
    repaired = False
    if _SURROGATES.search(value):
        value, repaired = _SURROGATES.sub(_repair_surrogates, value), True
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    stripped = _REMOVED.sub("", value)
    repaired = repaired or stripped != value
    if not unicodedata.is_normalized("NFC", stripped):
        stripped = unicodedata.normalize("NFC", stripped)
    return stripped, repaired


def _repair_surrogates(match: re.Match[str]) -> str:
    run, out, index = match.group(0), [], 0
    while index < len(run):
        char = run[index]
        following = run[index + 1] if index + 1 < len(run) else ""
        if "\ud800" <= char <= "\udbff" and "\udc00" <= following <= "\udfff":
            out.append((char + following).encode("utf-16", "surrogatepass").decode("utf-16"))
            index += 2
            continue
        escaped = _ESCAPED_BYTES.match(run, index)
        if escaped:
            out.append(_escaped_bytes(escaped.group(0)))
            index = escaped.end()
            continue
        out.append("\ufffd")
        index += 1
    return "".join(out)


def _escaped_bytes(run: str) -> str:
    """Bytes kept as U+DC80-U+DCFF: valid UTF-8 as such, else each byte as Windows-1252."""
    raw = bytes(ord(c) - 0xDC00 for c in run)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def clean_tree(value: Any) -> tuple[Any, int]:
    """Every string and key of a parsed JSON value cleaned; how many strings needed a repair."""
    if isinstance(value, str):
        text, repaired = clean_text(value)
        return text, int(repaired)
    if isinstance(value, list):
        items = [clean_tree(v) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    if isinstance(value, dict):
        out, total = {}, 0
        for key, item in value.items():
            new_key, key_repaired = clean_text(key) if isinstance(key, str) else (key, False)
            new_item, count = clean_tree(item)
            out[new_key] = new_item
            total += count + key_repaired
        return out, total
    return value, 0
