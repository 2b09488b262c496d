"""Column pruning keeps what a question is about, every join key and every hinted column, in table order."""

import numpy as np

from assistant.sql.generate import _overlap_scores
from assistant.sql.pruning import column_document, prune_columns
from ingest.tables import ColumnInfo, RegisteredTable


def table(name: str, columns: list[ColumnInfo]) -> RegisteredTable:
    return RegisteredTable(name, name, "", "", "csv", "public", "v1", 10, columns)


WIDE = table("requests", [ColumnInfo("unique_key", "BIGINT"), ColumnInfo("agency_id", "BIGINT", joins=["agencies.id"]),
                          *(ColumnInfo(f"extra_{n}", "VARCHAR") for n in range(30)),
                          ColumnInfo("borough", "VARCHAR", samples=["BRONX", "QUEENS"]),
                          ColumnInfo("complaint_type", "VARCHAR", description="what the complaint is about")])
NARROW = table("agencies", [ColumnInfo("id", "BIGINT"), ColumnInfo("name", "VARCHAR")])


def overlap(question: str, documents: list[str]) -> np.ndarray:
    return _overlap_scores(question, documents)


def test_a_wide_table_keeps_the_relevant_columns_keys_and_hints_in_order() -> None:
    pruned, narrow = prune_columns("Which complaint type is most common in each borough?", [WIDE, NARROW], 2,
                                   overlap, {("requests", "extra_7")})
    # the two most relevant, the join key and the hinted column, in the table's own order
    assert [c.name for c in pruned.columns] == ["agency_id", "extra_7", "borough", "complaint_type"]
    assert narrow is NARROW  # a table at or under the limit is untouched


def test_a_column_other_tables_join_to_is_kept() -> None:
    wide_target = table("agencies", [ColumnInfo("id", "BIGINT"), *(ColumnInfo(f"x{n}", "VARCHAR") for n in range(9))])
    _, agencies = prune_columns("anything", [WIDE, wide_target], 2, overlap)
    assert "id" in [c.name for c in agencies.columns]


def test_limit_zero_keeps_everything_and_documents_say_what_a_column_is() -> None:
    assert prune_columns("q", [WIDE], 0, overlap) == [WIDE]
    assert column_document(WIDE.columns[-2]) == "borough BRONX QUEENS"
