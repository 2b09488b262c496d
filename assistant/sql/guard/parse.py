"""Exactly one statement, parsed with sqlglot in DuckDB's dialect; the regenerated SQL must parse back the same
way; and transpiling guarded SQL for other engines."""

import logging

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError

from assistant.sql.guard.model import DIALECT, SqlRejected
from assistant.sql.guard.statements import _kind
from core.errors import FieldError, first_line


def parse_single(sql: str) -> exp.Expr:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is our rejection, not a log
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None and not _comment_only(s)]
    except (ParseError, TokenError) as exc:
        raise SqlRejected(f"not valid DuckDB SQL: {first_line(exc)}") from None
    if len(statements) != 1:
        raise SqlRejected(f"exactly one statement is allowed; found {len(statements)}")
    root = statements[0]
    while isinstance(root, exp.Subquery) and not root.args.get("alias"):
        root = root.this
    if not isinstance(root, exp.Select | exp.SetOperation):
        raise SqlRejected(f"only a query (SELECT, UNION, WITH ... SELECT) may run; this is {_kind(root)}", root)
    return root


def _comment_only(node: exp.Expr) -> bool:
    """A trailing `; -- note` parses as an empty statement that carries only the comment."""
    return type(node).__name__ == "Semicolon" and not node.args.get("this")


def transpile(sql: str, dialect: str) -> str:
    """The guarded DuckDB SQL in another engine's dialect (e.g. postgres), for running it elsewhere."""
    try:
        return sqlglot.transpile(sql, read=DIALECT, write=dialect)[0]
    except (SqlglotError, ValueError) as exc:
        raise FieldError("dialect", first_line(exc), dialect) from None


def check_round_trip(text: str) -> None:
    """The regenerated SQL must itself parse to exactly one query that regenerates to the same text (guards against
    generator surprises: a name written back unquoted can turn the rest of the text into another query)."""
    try:
        statements = [s for s in sqlglot.parse(text, read=DIALECT) if s is not None]
    except SqlglotError:
        raise SqlRejected("the rewritten query did not parse back; refusing to run it") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Select | exp.SetOperation):
        raise SqlRejected("the rewritten query is not a single query; refusing to run it")
    if statements[0].sql(dialect=DIALECT, comments=False) != text:  # what runs must be what was checked
        raise SqlRejected("the rewritten query does not read back as itself; refusing to run it")
