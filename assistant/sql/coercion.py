"""Type fix-ups for SQL written as if types bent the way SQLite bends them.

Four mistakes a small model makes on real tables, and every engine but SQLite refuses:
- `YEAR(year)` on a column that already holds the year as a number (DuckDB: "No function matches ...
  'year(BIGINT)'"): the number is the year, so the call is dropped.
- arithmetic, SUM/AVG or a comparison with a number on a text column whose values are numbers (`horsepower`
  stored as text: "'avg(VARCHAR)'", "Cannot compare values of type VARCHAR and type INTEGER_LITERAL"): the
  column is read as `TRY_CAST(col AS DOUBLE)`, as the schema shown to the model already advises.
- YEAR(), MONTH(), EXTRACT(... FROM col), strftime() and the like on a text column whose values are dates
  ("'year(VARCHAR)'"): the column is read as `TRY_CAST(col AS TIMESTAMP)`.
- `YEAR(year)` on a text column whose known values are all years ('2014', '2015'; "'year(VARCHAR)'"): the text is
  the year, so the call becomes `TRY_CAST(col AS INTEGER)`.

Like the grouping fix-up, it only runs on a query the engine has refused with one of those messages, only
touches columns the tables say are integers, numbers or dates stored as text, and the result is guarded again.
"""

import re
from collections.abc import Mapping, Sequence

import sqlglot
from sqlglot import exp

from ingest.tables import ColumnInfo, RegisteredTable

TYPE_ERROR = re.compile(r"No function matches the given name and argument types|Could not choose a best candidate "
                        r"function|Cannot compare values of type "
                        r"VARCHAR|Could not convert string"  # DuckDB
                        r"|function \S+\((bigint|integer|text|character varying)[^)]*\) does not exist"
                        r"|operator does not exist: (text|character varying)")  # PostgreSQL
_INTEGER = re.compile(r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|INT\d+)$", re.I)
_NUMBER_CONTEXT = (exp.Avg, exp.Sum, exp.Add, exp.Sub, exp.Mul, exp.Div)
_COMPARISON = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.EQ, exp.NEQ)
_DATE_PART = (exp.Year, exp.Month, exp.Day, exp.Quarter, exp.Week, exp.DayOfWeek, exp.DayOfYear, exp.Extract,
              exp.TimeToStr, exp.DateTrunc, exp.TimestampTrunc)


def column_kinds(tables: Sequence[RegisteredTable]) -> dict[str, str]:
    """Column name -> "integer" | "numeric_text" | "year_text" | "date_text", for names whose kind is the same in
    every table that has them (a name that is a number in one table and a word in another is left alone)."""
    seen: dict[str, set[str]] = {}
    for table in tables:
        for column in table.columns:
            kind = ("integer" if _INTEGER.match(column.type)
                    else ("year_text" if _holds_years(column) else "numeric_text") if column.numeric_text
                    else "date_text" if column.date_text else "other")
            seen.setdefault(column.name.lower(), set()).add(kind)
    return {name: next(iter(kinds)) for name, kinds in seen.items() if len(kinds) == 1 and "other" not in kinds}


def coerce_types(sql: str, kinds: Mapping[str, str]) -> str | None:
    """`sql` with YEAR() dropped around integer columns, numbers-as-text read as numbers where a number is
    needed and dates-as-text read as timestamps inside a date function; None when nothing applies or the text
    does not parse."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    if tree is None:
        return None
    changed = False
    for column in list(tree.find_all(exp.Column)):
        kind = kinds.get(column.name.lower())
        parent = column.parent
        if kind == "integer" and _is_year_of(parent, column):
            assert parent is not None
            parent.replace(column.copy())
            changed = True
        elif kind == "year_text" and _is_year_of(parent, column):
            assert parent is not None
            parent.replace(exp.TryCast(this=column.copy(), to=exp.DataType.build("INTEGER")))
            changed = True
        elif kind in ("numeric_text", "year_text") and _needs_number(column):
            column.replace(exp.TryCast(this=column.copy(), to=exp.DataType.build("DOUBLE")))
            changed = True
        elif kind == "date_text" and _is_date_function(parent):
            column.replace(exp.TryCast(this=column.copy(), to=exp.DataType.build("TIMESTAMP")))
            changed = True
    return tree.sql(dialect="duckdb") if changed else None


def _holds_years(column: ColumnInfo) -> bool:
    """Every value the profile kept (listed values, examples, the range) is a whole number from 1000 to 2999."""
    known = [*column.samples, *column.examples, *column.range]
    return bool(known) and all(re.fullmatch(r"\s*[12]\d{3}\s*", value) for value in known)


def _is_year_of(parent: exp.Expr | None, column: exp.Column) -> bool:
    if isinstance(parent, exp.Year) and parent.this is column:
        return True
    return (isinstance(parent, exp.Extract) and parent.expression is column
            and str(parent.this.name).upper() == "YEAR")


def _is_date_function(parent: exp.Expr | None) -> bool:
    return isinstance(parent, _DATE_PART) or (
        isinstance(parent, exp.Anonymous) and str(parent.this).lower() in ("date_part", "datepart"))


def _needs_number(column: exp.Column) -> bool:
    """The column sits where a number is needed: inside SUM/AVG or arithmetic, or compared with a number."""
    parent = column.parent
    if isinstance(parent, exp.Paren):
        parent = parent.parent
    if not isinstance(parent, _NUMBER_CONTEXT + _COMPARISON):
        return False
    if isinstance(parent, _COMPARISON):
        other = parent.expression if parent.this is column else parent.this
        return isinstance(other, exp.Literal) and other.is_number or isinstance(other, exp.Neg)
    return True
