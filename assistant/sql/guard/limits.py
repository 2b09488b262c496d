"""The row cap: every outer query gets a LIMIT no larger than the cap."""

from sqlglot import exp

from assistant.sql.guard.model import DEFAULT_ROW_CAP, SqlRejected


def clamp_limit(root: exp.Expr, cap: int) -> tuple[exp.Expr, bool]:
    limit = root.args.get("limit")
    if limit is None:
        if isinstance(root, exp.Select | exp.SetOperation):
            return root.limit(cap, copy=False), True
        raise SqlRejected("cannot add a row limit to this query")
    if isinstance(limit, exp.Fetch):
        raise SqlRejected("use LIMIT n instead of FETCH FIRST")
    value = limit.expression
    if not (isinstance(value, exp.Literal) and not value.is_string and str(value.this).isdigit()):
        raise SqlRejected("LIMIT must be a whole number of rows", limit)
    if int(value.this) > cap:
        limit.set("expression", exp.Literal.number(cap))
        return root, True
    return root, False


def limit_of(root: exp.Expr) -> int:
    limit = root.args.get("limit")
    return int(limit.expression.this) if limit is not None else DEFAULT_ROW_CAP
