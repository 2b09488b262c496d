"""Personal data in free text: detect and mask PRC resident ID numbers, CN and US phone numbers, e-mail
addresses, bank card numbers and US social security numbers.

Each detector is a pattern plus, where the format has one, a validity check (the ID checksum, Luhn, SSN
number ranges), so order numbers and dates that merely look alike stay readable. Masking keeps the kind and
a short tail ("[ID ***1234]") so a person can still tell records apart without seeing the value.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


_NOT_DIGIT_BEFORE, _NOT_DIGIT_AFTER = r"(?<![\dA-Za-z])", r"(?![\dA-Za-z])"
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


def mask_value(value: Any) -> tuple[Any, int]:
    """A table cell: strings are masked, numbers that are card/ID-like are masked as text; others pass."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= 13:
        masked, count = mask_text(str(value))
        return (masked, count) if count else (value, 0)
    return value, 0


def mask_rows(rows: list[list[Any]]) -> tuple[list[list[Any]], int]:
    """Rows with personal data masked in every cell, and the number of values masked."""
    total, out = 0, []
    for row in rows:
        new_row = []
        for cell in row:
            masked, count = mask_value(cell)
            total += count
            new_row.append(masked)
        out.append(new_row)
    return out, total


_TRAILING_NUMBER = re.compile(r"[A-Za-z0-9.@+()\- ]*[0-9@][A-Za-z0-9.@+()\- ]*$")


def mask_draft(draft: str) -> str:
    """A streamed draft with findings masked and a trailing, possibly half-written number or address held
    back (it is shown once complete, masked if it is personal data)."""
    return _TRAILING_NUMBER.sub("", mask_text(draft)[0])


def count_pii(texts: list[str]) -> int:
    return sum(len(find_pii(t)) for t in texts)


def mask_answer(answer: Any) -> int:
    """Mask the answer text and every citation's quoted passage in place; returns how many values."""
    answer.answer, total = mask_text(answer.answer)
    for citation in answer.citations:
        citation.quote, count = mask_text(citation.quote)
        total += count
    return total
