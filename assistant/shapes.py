"""The JSON every shell prints for a use case's result: the CLI's `--json`, the REST API and the MCP tools share
these functions, so a result has one shape wherever it is read (issue 31). Lists that the API and MCP page are
wrapped by `page` (items, how many there are, where the next page starts); the CLI prints the items alone."""

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from assistant.models import Answer, DatasetResult, Page, Passage

T = TypeVar("T")


def passage(found: Passage) -> dict[str, Any]:
    return dataclasses.asdict(found)


def dataset(found: DatasetResult) -> dict[str, Any]:
    return dataclasses.asdict(found)


def answer(found: Answer) -> dict[str, Any]:
    return found.model_dump()


def table(table: Any) -> dict[str, Any]:
    """An approved table (`sql tables`, `datasets add`): its description and columns with units and notes."""
    return {
        "name": table.name, "title": table.title, "access_level": table.access_level, "version": table.version,
        "row_count": table.row_count, "source": table.source, "format": table.format,
        "columns": [dataclasses.asdict(c) for c in table.columns],
    }


def table_in(context: Any) -> Callable[[Any], dict[str, Any]]:
    """`table` for `sql tables`: each table also says through which grants the caller may query it (issue 33)."""
    grants = getattr(context, "grants", {}) or {}
    return lambda found: table(found) | {"grants": list(grants.get(found.name, ()))}


def sql_answer(found: Any) -> dict[str, Any]:
    return dict(found.as_dict())


def verdict(found: Any) -> dict[str, Any]:
    return dict(found.as_dict())


def sql_result(found: Any) -> dict[str, Any]:
    return dataclasses.asdict(found)


def entry(found: Any) -> dict[str, Any]:
    return dict(found.to_json())


def page(found: Page[T], shape: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """A page of a list: `results`, `total` (how many the list holds), `offset`, and `next` (the offset of the
    next page, or null on the last)."""
    return {"results": [shape(item) for item in found.items], "total": found.total, "offset": found.offset,
            "next": found.next}


LONGEST_LIST = 10**9  # the largest offset into a list held whole (tables, knowledge, grants): every item reachable


def window(items: Sequence[T], offset: int, limit: int) -> Page[T]:
    """One page of a list that is whole in memory (the register, the tables)."""
    end = offset + limit
    return Page(list(items[offset:end]), len(items), offset, end if len(items) > end else None)
