"""The settings' input limits as the REST API's query, path and body fields: bad input is a 422 naming the field."""

from typing import Any

from fastapi import Body, Path, Query

from assistant.shapes import LONGEST_LIST
from core.settings import Settings


class Bounds:
    """The settings' input limits as query and body fields: bad input is a 422 naming the field."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.deepest = settings, settings.api.max_results

    def words(self) -> Any:
        return Query(min_length=1, max_length=self.settings.input.max_question_chars,
                     description="What to look for, in plain words (Chinese or English).")

    def question(self, what: str) -> Any:
        return Body(embed=True, min_length=1, max_length=self.settings.input.max_question_chars, description=what)

    def sql(self) -> Any:
        return Body(embed=True, min_length=1, max_length=self.settings.sql.max_chars,
                    description="One read-only DuckDB SELECT over the approved tables.")

    def filter(self, what: str = "") -> Any:
        return Query(max_length=self.settings.input.max_field_chars, description=what)

    def size(self) -> Any:
        return Query(ge=1, le=self.deepest, description=f"Page size (at most {self.deepest}).")

    def id(self, what: str) -> Any:
        return Path(max_length=self.settings.input.max_field_chars, description=what)

    def offset(self) -> Any:
        """A search's offset: a search ranks at most `deepest` results."""
        return Query(ge=0, le=self.deepest - 1, description="Where the page starts: 0, or the previous page's next.")

    def list_offset(self) -> Any:
        """A whole list's offset (tables, knowledge, grants ...): every item can be reached."""
        return Query(ge=0, le=LONGEST_LIST, description="Where the page starts: 0, or the previous page's next.")
