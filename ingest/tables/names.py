"""Plain SQL names for tables and columns loaded from files, and quoting."""

import re

import duckdb

_NAME_CHARS = re.compile(r"[^0-9a-z_\u3400-\u9fff]+")


def snake_name(text: str) -> str:
    """A plain identifier for a table or column: lower snake case, CJK kept, never starting with a digit."""
    name = _NAME_CHARS.sub("_", text.strip().lower()).strip("_") or "column"
    return f"c_{name}" if name[0].isdigit() else name


def unique_names(labels: list[str], reserved: frozenset[str] = frozenset()) -> list[str]:
    """Snake-case names, suffixed where two labels collide or a name is a reserved SQL word (is -> is_)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        base = snake_name(label)
        base = f"{base}_" if base in reserved else base
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return out


def reserved_words(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    rows = con.execute("SELECT keyword_name FROM duckdb_keywords() "
                       "WHERE keyword_category IN ('reserved', 'type_function')").fetchall()
    return frozenset(str(r[0]).lower() for r in rows)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
