"""Dates, with one owner: the YYYYMMDD number records are filtered by, and the readings of `since` and `until`
that catalog filters, audit lists and the disclosure report share."""

import re
from datetime import UTC, date, datetime, timedelta

from core.errors import FieldError

_DATE = re.compile(r"^\s*(\d{4})(?:[-/.年]\s*(\d{1,2})[-/.月]\s*(\d{1,2})|(\d{2})(\d{2}))(?!\d)")


def ymd(value: str) -> int:
    """YYYYMMDD of a date for range filters and freshness: ISO (2024-11-14T...), 2024/11/14, 2024.11.14,
    2024年11月14日 or 20241114; 0 when absent or not a real date."""
    found = _DATE.match(value or "")
    if found is None:
        return 0
    year, month, day = found.group(1), found.group(2) or found.group(4), found.group(3) or found.group(5)
    try:
        return int(date(int(year), int(month), int(day)).strftime("%Y%m%d"))
    except ValueError:
        return 0



def ymd_date(value: int) -> date | None:
    """The date of a YYYYMMDD number, None when it is not a real date."""
    try:
        return date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        return None


def parse_since(value: str) -> datetime:
    """The start of a YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] time: the one reading of `since`, for
    catalog filters and audit receipts alike."""
    text = value.strip()
    parts = text.split("-")
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text)  # receipts keep UTC: a zoned time is converted to it
            return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        year, month, day = int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1
        if len(parts) > 3 or len(parts[0]) != 4:
            raise ValueError(text)
        return datetime(year, month, day)
    except (ValueError, IndexError):
        raise FieldError("since", "expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM", repr(value)) from None


def period_end(value: str) -> datetime:
    """The moment just after a YYYY, YYYY-MM or YYYY-MM-DD period (an exact time stays as it is): `until`
    includes the whole year, month or day it names."""
    start = parse_since(value)
    text = value.strip()
    if "T" in text or " " in text:
        return start
    parts = len(text.split("-"))
    if parts == 1:
        return start.replace(year=start.year + 1)
    if parts == 2:
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start + timedelta(days=1)


def since_day(value: str) -> int:
    """YYYYMMDD of `since`, as catalog records store their modified date."""
    start = parse_since(value)
    return start.year * 10000 + start.month * 100 + start.day
