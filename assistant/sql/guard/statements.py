"""Only a query: statement kinds and tree nodes that write, define, attach, set or otherwise leave SELECT."""

from sqlglot import exp

from assistant.sql.guard.functions import _check_function
from assistant.sql.guard.model import SqlRejected, unknown_type

# Statement kinds that must not appear anywhere in the tree, with the words a person reads.
_FORBIDDEN_NODES: tuple[tuple[str, str], ...] = (
    ("Insert", "INSERT"), ("Update", "UPDATE"), ("Delete", "DELETE"), ("Merge", "MERGE"),
    ("Create", "CREATE"), ("Drop", "DROP"), ("Alter", "ALTER"), ("AlterColumn", "ALTER"),
    ("TruncateTable", "TRUNCATE"), ("Copy", "COPY"), ("Attach", "ATTACH"), ("Detach", "DETACH"),
    ("Install", "INSTALL"), ("Pragma", "PRAGMA"), ("Set", "SET"), ("Use", "USE"), ("Transaction", "BEGIN"),
    ("Commit", "COMMIT"), ("Rollback", "ROLLBACK"), ("Show", "SHOW"), ("Describe", "DESCRIBE"),
    ("Summarize", "SUMMARIZE"), ("Export", "EXPORT"), ("Grant", "GRANT"), ("Revoke", "REVOKE"),
    ("Kill", "KILL"), ("Analyze", "ANALYZE"), ("Refresh", "REFRESH"), ("Cache", "CACHE"),
    ("Uncache", "UNCACHE"), ("Comment", "COMMENT ON"), ("Command", "a statement sqlglot cannot parse"),
    ("Into", "SELECT INTO"), ("Lock", "FOR UPDATE/SHARE"), ("Placeholder", "a parameter placeholder"),
    ("Parameter", "a parameter"), ("SessionParameter", "a session parameter"), ("Returning", "RETURNING"),
    ("Columns", "COLUMNS(...)"), ("TableColumn", "a whole-row reference (name the columns)"),
    ("PositionalColumn", "a positional column reference (#n); name the column"),
    ("DDL", "a DDL statement"), ("DML", "a data-modifying statement"),
)


_FORBIDDEN: tuple[tuple[type[exp.Expr], str], ...] = tuple(
    (getattr(exp, name), words) for name, words in _FORBIDDEN_NODES if hasattr(exp, name)
)


def _kind(node: exp.Expr) -> str:
    for cls, words in _FORBIDDEN:
        if isinstance(node, cls):
            return words
    return f"not one (it parses as {node.key.upper()})"


def check_nodes(root: exp.Expr) -> None:
    for node in root.walk():
        for cls, words in _FORBIDDEN:
            if isinstance(node, cls):
                raise SqlRejected(_forbidden_reason(words), node)
        if isinstance(node, exp.Func):
            _check_function(node)
        if isinstance(node, exp.Limit | exp.Offset) and node.args.get("limit_options"):
            raise SqlRejected("LIMIT/OFFSET must be a whole number of rows", node)
        if unknown_type(node):
            raise SqlRejected("a type the checker does not know is not allowed; use a built-in one such as INTEGER, "
                              "BIGINT, DOUBLE, VARCHAR, DATE or TIMESTAMP", node)


def _forbidden_reason(words: str) -> str:
    if words.isupper() or words.startswith(("a DDL", "a data-modifying", "a statement")):
        return f"{words} is not allowed: only read-only queries may run"
    return f"{words} is not allowed"
