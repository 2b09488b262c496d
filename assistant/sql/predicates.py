"""A grant's row predicate (issue 33): the filter that selects the rows a grantee may read.

It becomes the `WHERE` of the grantee's relation in the engine wall (assistant/sql/walls.py; a view's `WHERE` on
PostgreSQL), so it must be plain: comparisons, IN lists, BETWEEN, LIKE/ILIKE, IS NULL, AND/OR/NOT and literals
(typed ones too: DATE '2026-01-01') over the table's own columns; no subquery, no function, no parameter, one
expression. It is parsed in DuckDB's dialect and stored as sqlglot regenerates it (quoted column names, no
comments), so the text that runs is the text that was checked.
"""

import logging

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from assistant.sql.guard.model import DIALECT, unknown_type
from core.errors import FieldError, first_line

MAX_PREDICATE_CHARS = 2000
MAX_DEPTH = 20
_ALLOWED: tuple[type[exp.Expr], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT,
    exp.LTE, exp.And, exp.Or, exp.Not, exp.Paren, exp.In, exp.Between, exp.Like, exp.ILike, exp.Is, exp.Neg,
    exp.Cast, exp.DataType,
)


def checked_predicate(text: str, columns: list[str] | None) -> str:
    """The predicate as it will run (DuckDB SQL, column names spelt as the table spells them), or FieldError("rows")
    naming the first thing it may not hold (an unknown column, with the table's columns). With `columns` None the
    names are not looked up at all (a request, by someone who may not see the table: whether a column exists is
    not theirs to learn; the approval checks them)."""
    source = text.strip()
    if not source:
        raise FieldError("rows", "the predicate is empty")
    if len(source) > MAX_PREDICATE_CHARS:
        raise FieldError("rows", f"the predicate is over {MAX_PREDICATE_CHARS} characters")
    _check_depth(source)
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        checked = _checked(_parsed(source), columns)
    except (SqlglotError, ValueError) as exc:
        raise FieldError("rows", f"not a DuckDB predicate: {first_line(exc)}") from None
    except RecursionError:
        raise FieldError("rows", "the predicate is nested too deeply") from None
    if _read_back(checked, columns) != checked:  # what is stored must read back as itself, or what runs was
        raise FieldError("rows", "the predicate does not read back as written; write it plainly")  # never checked
    return checked


def _read_back(checked: str, columns: list[str] | None) -> str:
    """The checked text parsed and checked again ("" when it does not parse or check)."""
    try:
        return _checked(_parsed(checked), columns)
    except (SqlglotError, ValueError, RecursionError, FieldError):
        return ""


def _parsed(text: str) -> list[exp.Expr]:
    return [p for p in sqlglot.parse(text, read=DIALECT) if p is not None]


def both(first: str, second: str) -> str:
    """Rows both predicates select, as one predicate: joined as trees, so neither can close the other's brackets."""
    parts = [sqlglot.parse_one(checked_predicate(text, None), read=DIALECT) for text in (first, second)]
    joined = exp.and_(*(part if isinstance(part, exp.Paren) else exp.paren(part) for part in parts))
    return joined.sql(dialect=DIALECT, comments=False)


def _check_depth(source: str) -> None:
    """A fixed nesting bound counted on the tokens, before any parser recursion: brackets at most MAX_DEPTH deep,
    and at most MAX_DEPTH prefix operators (NOT, -) in a row."""
    try:
        tokens = sqlglot.tokenize(source, read=DIALECT)
    except (SqlglotError, ValueError) as exc:
        raise FieldError("rows", f"not a DuckDB predicate: {first_line(exc)}") from None
    depth = deepest = run = longest = 0
    for token in tokens:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        run = run + 1 if token.token_type in (TokenType.NOT, TokenType.DASH) else 0
        longest = max(longest, run)
    if deepest > MAX_DEPTH or longest > MAX_DEPTH:
        raise FieldError("rows", f"the predicate is nested too deeply (more than {MAX_DEPTH} levels)")


def _checked(parsed: list[exp.Expr], columns: list[str] | None) -> str:
    if len(parsed) != 1:
        raise FieldError("rows", "expected one expression (no ';')")
    root = parsed[0]
    if root.find(exp.Query, exp.Subquery, exp.Exists) is not None:  # the clearest reason first, wherever it sits
        raise FieldError("rows", "a predicate may not hold a subquery")
    by_lower = None if columns is None else {c.lower(): c for c in columns}
    for node in root.walk():
        _check_node(node, by_lower)
    for column in list(root.find_all(exp.Column)):
        column.replace(exp.column(column.name if by_lower is None else by_lower[column.name.lower()], quoted=True))
    return root.sql(dialect=DIALECT, comments=False)


def _check_node(node: exp.Expr, columns: dict[str, str] | None) -> None:
    if isinstance(node, exp.Query | exp.Subquery | exp.Exists):
        raise FieldError("rows", "a predicate may not hold a subquery")
    if isinstance(node, exp.Placeholder):
        raise FieldError("rows", "a predicate may not hold a parameter")
    if isinstance(node, exp.Func) and not isinstance(node, _ALLOWED):
        raise FieldError("rows", f"a predicate may not call a function ({node.sql(dialect=DIALECT)[:60]}); use "
                                 "comparisons, IN, BETWEEN, LIKE, IS NULL, AND, OR, NOT and literals")
    if not isinstance(node, _ALLOWED):
        raise FieldError("rows", f"a predicate may not hold {node.key.upper()} "
                                 f"({node.sql(dialect=DIALECT)[:60]})")
    if unknown_type(node):
        raise FieldError("rows", f"cast to a built-in type only ({node.sql(dialect=DIALECT)[:60]})")
    if isinstance(node, exp.Cast) and not isinstance(node.this, exp.Literal):
        raise FieldError("rows", "only a literal may be cast (DATE '2026-01-01')")
    if isinstance(node, exp.In) and (node.args.get("query") or node.args.get("unnest") or node.args.get("field")):
        raise FieldError("rows", "IN takes a list of literals")
    if isinstance(node, exp.Column):
        if node.table or node.args.get("db") or node.args.get("catalog"):
            raise FieldError("rows", f"name columns without a table ({node.sql(dialect=DIALECT)})")
        if columns is not None and node.name.lower() not in columns:
            raise FieldError("rows", f"the table has no column {node.name!r}; its columns: "
                                     f"{', '.join(columns.values())}")
