"""The one CSV writer (issue 26): every CSV the assistant hands out is opened in spreadsheets, where a cell
starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula, so a question planted as
`=HYPERLINK(...)` would run on the steward's machine. OWASP's rule: such a text cell gets a leading `'`.

Numbers (int, float, Decimal, numpy's) are written as they are, so -3 stays a number. Any other value is written
as its text and neutralised by that text, so "-3" from a text column becomes '-3: the rule cannot tell a
negative number from `-2+3+cmd|...`, and quoting a value is safer than guessing. `tests/unit/test_csvsafe.py`
fails when a CSV is written anywhere else.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from numbers import Number
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """VALUE as a spreadsheet reads it as data: numbers and None unchanged, text that starts a formula quoted."""
    if value is None or isinstance(value, Number):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A header and rows as CSV text (lines end in \\n), every cell through `safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return out.getvalue()


def records_to_csv(fields: Sequence[str], records: Iterable[Mapping[str, Any]]) -> str:
    """Mappings as CSV with FIELDS as the columns (other keys left out, missing ones empty)."""
    return to_csv(fields, ([record.get(name) for name in fields] for record in records))
