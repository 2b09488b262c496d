"""Column pruning for wide tables: show the model the columns a question is about, not all 47.

A small model reading a 47-column table (NYC 311) spends its attention on `x_coordinate_state_plane` and
`:@computed_region_efsh_h5xi`, and picks `city` where the question meant `borough`. CHESS-style pruning keeps,
for a table wider than the limit, the columns whose names, descriptions and sample values are closest to the
question, plus every column that joins (keys are how tables meet) and every column a value hint points at.
Kept columns stay in the table's own order. Nothing is pruned from a table at or under the limit, so narrow
schemas (and their cached prompt prefix) are unchanged.
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

import numpy as np

from ingest.tables import ColumnInfo, RegisteredTable

Relevance = Callable[[str, list[str]], np.ndarray]


def column_document(column: ColumnInfo) -> str:
    """What a column is, in words: name, source name, description, unit and a few values."""
    values = " ".join((column.samples or column.examples)[:5])
    return " ".join(p for p in (column.name.replace("_", " "), column.label, column.description, column.unit,
                                values) if p)


def prune_columns(question: str, tables: Sequence[RegisteredTable], limit: int, relevance: Relevance,
                  hinted: Collection[tuple[str, str]] = ()) -> list[RegisteredTable]:
    """Each table wider than `limit` cut to its `limit` most relevant columns (joins and hinted columns kept
    on top of those); narrower tables as they are. `limit` 0 keeps every column."""
    if limit <= 0:
        return list(tables)
    referenced = {target.lower() for t in tables for c in t.columns for target in c.joins}
    return [_pruned(question, t, limit, relevance, hinted, referenced) if len(t.columns) > limit else t
            for t in tables]


def _pruned(question: str, table: RegisteredTable, limit: int, relevance: Relevance,
            hinted: Collection[tuple[str, str]], referenced: set[str]) -> RegisteredTable:
    keep = {c.name for c in table.columns if c.joins or (table.name, c.name) in hinted
            or f"{table.name}.{c.name}".lower() in referenced}
    scores = relevance(question, [column_document(c) for c in table.columns])
    for index in np.argsort(-scores, kind="stable")[:limit]:
        keep.add(table.columns[int(index)].name)
    return replace(table, columns=[c for c in table.columns if c.name in keep])
