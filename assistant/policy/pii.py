"""Personal data in free text: detect and mask PRC resident ID numbers, CN and US phone numbers, e-mail
addresses, bank card numbers and US social security numbers.

Each detector is a pattern plus, where the format has one, a validity check (the ID checksum, Luhn, SSN
number ranges), so order numbers and dates that merely look alike stay readable. Masking keeps the kind and
a short tail ("[ID ***1234]") so a person can still tell records apart without seeing the value.

`mask_any` is the one place results are masked: every value type (text, integers, floats, lists, maps,
structs, BLOBs) and every text field of a result object (titles, URLs, keywords, errors), returning new
objects. A column whose name says what it holds (phone, 身份证, e-mail) masks any long digit run in it.
"""

import base64
import binascii
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def resident_id_valid(value: str) -> bool:
    """GB 11643 checksum and a plausible birth date for an 18-character PRC resident ID number."""
    if not re.fullmatch(r"\d{17}[\dXx]", value):
        return False
    year, month, day = int(value[6:10]), int(value[10:12]), int(value[12:14])
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17].upper()


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_valid(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits)


def _ssn_valid(value: str) -> bool:
    area, group, serial = value.split("-")
    return area not in ("000", "666") and not area.startswith("9") and group != "00" and serial != "0000"


@dataclass(frozen=True)
class Detector:
    kind: str
    pattern: re.Pattern[str]
    valid: Callable[[str], bool] = lambda value: True


# Digits only: a letter glued to a number ("13800138000a", "x110105194912310021") does not hide it.
_NOT_DIGIT_BEFORE, _NOT_DIGIT_AFTER = r"(?<!\d)", r"(?!\d)"
DETECTORS: tuple[Detector, ...] = (
    Detector("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
    Detector("id", re.compile(_NOT_DIGIT_BEFORE + r"\d{17}[\dXx]" + _NOT_DIGIT_AFTER), resident_id_valid),
    Detector("card", re.compile(_NOT_DIGIT_BEFORE + r"\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}" + _NOT_DIGIT_AFTER),
             _card_valid),
    Detector("ssn", re.compile(_NOT_DIGIT_BEFORE + r"\d{3}-\d{2}-\d{4}" + _NOT_DIGIT_AFTER), _ssn_valid),
    Detector("phone", re.compile(  # CN mobile: 1[3-9]x, optionally +86, separated 3-4-4
        r"(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}" + _NOT_DIGIT_AFTER)),
    Detector("phone", re.compile(  # CN landline: area code 0xx(x) then 7-8 digits
        r"(?<![\d+])(?:\+?86[ -]?)?\(?0\d{2,3}\)?[ -]\d{7,8}" + _NOT_DIGIT_AFTER)),
    Detector("phone", re.compile(  # US: (212) 555-0100, 212-555-0100, 212.555.0100, +1 212 555 0100
        r"(?<![\d+])(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[.-])\d{3}[.-]\d{4}" + _NOT_DIGIT_AFTER
        + r"|(?<![\d+])\+1[ .-]?\d{3}[ .-]\d{3}[ .-]\d{4}" + _NOT_DIGIT_AFTER)),
)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    value: str


def find_pii(text: str) -> list[Finding]:
    """Non-overlapping findings, earliest first; an earlier detector wins an overlap (e-mail before phone)."""
    findings: list[Finding] = []
    for detector in DETECTORS:
        for match in detector.pattern.finditer(text):
            if not detector.valid(match.group(0)):
                continue
            if any(match.start() < f.end and f.start < match.end() for f in findings):
                continue
            findings.append(Finding(detector.kind, match.start(), match.end(), match.group(0)))
    return sorted(findings, key=lambda f: f.start)


def _masked(finding: Finding) -> str:
    digits = re.sub(r"\D", "", finding.value)
    tail = digits[-4:] if finding.kind in ("card", "phone", "id") and len(digits) >= 8 else ""
    return f"[{finding.kind.upper()} ***{tail}]" if tail else f"[{finding.kind.upper()}]"


def mask_text(text: str) -> tuple[str, int]:
    """The text with every finding replaced, and how many were replaced."""
    findings = find_pii(text)
    if not findings:
        return text, 0
    parts, last = [], 0
    for finding in findings:
        parts.extend([text[last:finding.start], _masked(finding)])
        last = finding.end
    parts.append(text[last:])
    return "".join(parts), len(findings)


# Column names that say the column holds personal data: any run of 7+ digits in it is masked as that kind.
_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("phone", re.compile(r"phone|mobile|cell|(^|_)tel|fax|手机|电话|联系方式|联系电话", re.I)),
    ("id", re.compile(r"ssn|social_?sec|id_?card|id_?no|id_?num|passport|身份证|证件", re.I)),
    ("card", re.compile(r"card_?n|account_?n|iban|银行卡|卡号|账号", re.I)),
)
_DIGIT_RUN = re.compile(r"\d[\d ()+.-]{5,}\d")


def column_hint(name: str) -> str | None:
    """The kind of personal data a column's name says it holds, if any."""
    return next((kind for kind, pattern in _HINTS if pattern.search(name)), None)


def mask_value(value: Any, hint: str | None = None) -> tuple[Any, int]:
    """One cell of any type: strings masked; integers and whole floats as their digits; lists, tuples, maps
    and structs element by element; BLOBs (bytes or the runner's base64 text) withheld when they hold
    personal data. `hint` is the column's kind (column_hint)."""
    if isinstance(value, bool) or value is None:
        return value, 0
    if isinstance(value, str):
        if value.startswith(_BASE64):
            return _mask_blob_text(value)
        if _DIGEST.fullmatch(value):  # a sha256 or a chunk_id: its digit runs are no one's number
            return value, 0
        return _mask_hinted(value, hint)
    if isinstance(value, int | float):
        return _mask_number(value, hint)
    if isinstance(value, bytes | bytearray | memoryview):
        return _mask_blob(bytes(value), value)
    if isinstance(value, list | tuple):
        cells = [mask_value(v, hint) for v in value]
        return (type(value)(c for c, _ in cells) if isinstance(value, tuple) else [c for c, _ in cells],
                sum(n for _, n in cells))
    if isinstance(value, dict):
        total, out = 0, {}
        for key, item in value.items():
            new_key, k = mask_value(key, hint) if isinstance(key, str) else (key, 0)
            new_item, v = mask_value(item, column_hint(str(key)) or hint)
            out[new_key] = new_item
            total += k + v
        return out, total
    return value, 0


def _mask_hinted(text: str, hint: str | None) -> tuple[str, int]:
    masked, count = mask_text(text)
    if hint is None:
        return masked, count
    extra = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal extra
        extra += 1
        return _masked(Finding(hint, 0, 0, match.group(0)))

    return _DIGIT_RUN.sub(replace, masked), count + extra


def _mask_number(value: int | float, hint: str | None) -> tuple[Any, int]:
    if isinstance(value, float) and not (value.is_integer() and abs(value) < 1e20):
        return value, 0
    digits = str(abs(int(value)))
    if len(digits) < 7:
        return value, 0
    if hint is not None:  # a phone column stored as BIGINT
        return _mask_hinted(digits, hint)
    # Unhinted numbers are amounts and counts far more often than phones (19,485,393,853 USD is GDP): only
    # formats with a check digit (cards by Luhn, resident IDs by GB 11643) are masked.
    findings = [f for f in find_pii(digits) if f.kind in ("card", "id") and f.value == digits]
    return (_masked(findings[0]), 1) if findings else (value, 0)


_BASE64 = "base64:"
# hex with a letter, as the system writes it: a receipt's sha256, or a passage's chunk_id (24, "-N" for a repeat);
# never a number typed in, and masking one broke the id (a chunk_id's digit run once passed the card check)
_DIGEST = re.compile(r"(?=[0-9]*[a-f])(?:[0-9a-f]{64}|[0-9a-f]{24}(?:-[0-9]+)?)")


def _mask_blob_text(value: str) -> tuple[str, int]:
    try:
        raw = base64.b64decode(value[len(_BASE64):], validate=True)
    except (binascii.Error, ValueError):
        return mask_text(value)
    return _mask_blob(raw, value)


def _mask_blob(raw: bytes, original: Any) -> tuple[Any, int]:
    found = len(find_pii(raw.decode("utf-8", errors="replace"))) or len(find_pii(raw.decode("latin-1")))
    return ("[BLOB with personal data withheld]", found) if found else (original, 0)


def mask_rows(rows: list[list[Any]], columns: list[str] | None = None) -> tuple[list[list[Any]], int]:
    """Rows with personal data masked in every cell (column names as hints), and how many values."""
    hints = [column_hint(c) for c in columns] if columns else []
    total, out = 0, []
    for row in rows:
        new_row = []
        for index, cell in enumerate(row):
            masked, count = mask_value(cell, hints[index] if index < len(hints) else None)
            total += count
            new_row.append(masked)
        out.append(new_row)
    return out, total


def mask_any(value: Any) -> tuple[Any, int]:
    """A new copy of any result (dataclass, pydantic model, list, dict, text) with every text field and
    value masked, and how many values were masked. A `rows` field is masked with its `columns` as hints."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        changes, total = _mask_fields(fields)
        return (dataclasses.replace(value, **changes) if changes else value), total
    if isinstance(value, BaseModel):
        changes, total = _mask_fields(dict(value))
        return (value.model_copy(update=changes) if changes else value), total
    if isinstance(value, list | tuple) and value and not isinstance(value[0], str | int | float | bool):
        items = [mask_any(v) for v in value]
        return type(value)(i for i, _ in items), sum(n for _, n in items)
    return mask_value(value)


def _mask_fields(fields: dict[str, Any]) -> tuple[dict[str, Any], int]:
    changes, total = {}, 0
    for name, item in fields.items():
        if name == "rows" and isinstance(fields.get("columns"), list):
            masked, count = mask_rows(item, [str(c) for c in fields["columns"]])
        else:
            masked, count = mask_any(item)
        if count:
            changes[name] = masked
            total += count
    return changes, total


_TRAILING_NUMBER = re.compile(r"[A-Za-z0-9.@+()\- ]*[0-9@][A-Za-z0-9.@+()\- ]*$")


def mask_draft(draft: str) -> str:
    """A streamed draft with findings masked and a trailing, possibly half-written number or address held
    back (it is shown once complete, masked if it is personal data)."""
    return _TRAILING_NUMBER.sub("", mask_text(draft)[0])


def count_pii(texts: list[str]) -> int:
    return sum(len(find_pii(t)) for t in texts)
