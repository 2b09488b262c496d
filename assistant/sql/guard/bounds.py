"""Bounds on what one query may ask for: sizes of generated strings and lists, series lengths, IN lists, and
recursive CTEs that stop."""

from sqlglot import exp

from assistant.sql.guard.functions import function_name
from assistant.sql.guard.model import SqlRejected

MAX_IN_LIST = 1000  # values in one IN (...) list
MAX_SIZE_ARGUMENT = 10_000  # the size a repeat/lpad/rpad/list_resize may ask for (the runner's cell size)
MAX_SERIES = 100_000  # elements of one range/generate_series list
_SIZE_FUNCTIONS = {"list_resize": 1, "array_resize": 1}  # name -> position of the size argument


def check_bounds(root: exp.Expr) -> None:
    """What a plan cannot show: values that make large results out of nothing (repeat, lpad, range ...) need a
    constant size within the limit; IN lists are capped; a recursive CTE needs a condition that stops it."""
    for node in root.walk():
        if isinstance(node, exp.In) and len(node.expressions) > MAX_IN_LIST:
            raise SqlRejected(f"an IN list has {len(node.expressions):,} values; the limit is {MAX_IN_LIST:,} "
                              "(use a join against a table instead)", node)
        if isinstance(node, exp.Repeat):
            _size_argument(node, node.args.get("times"), "repeat")
        elif isinstance(node, exp.Pad):
            _size_argument(node, node.args.get("expression"), "lpad" if node.args.get("is_left") else "rpad")
        elif isinstance(node, exp.Anonymous) and function_name(node) in _SIZE_FUNCTIONS:
            arguments = node.expressions
            position = _SIZE_FUNCTIONS[function_name(node)]
            _size_argument(node, arguments[position] if len(arguments) > position else None, function_name(node))
        elif isinstance(node, exp.GenerateSeries):
            _check_series(node)
        elif isinstance(node, exp.CTE) and _is_recursive(node):
            _check_recursion_stops(node)


def _whole_number(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Neg):
        value = _whole_number(node.this)
        return -value if value is not None else None
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit():
        return int(node.this)
    return None


def _size_argument(node: exp.Expr, argument: exp.Expr | None, name: str) -> None:
    size = _whole_number(argument)
    if size is None or size > MAX_SIZE_ARGUMENT:
        raise SqlRejected(f"the size given to {name}() must be a whole number up to {MAX_SIZE_ARGUMENT:,}", node)


def _check_series(node: exp.GenerateSeries) -> None:
    start, end = _whole_number(node.args.get("start")), _whole_number(node.args.get("end"))
    step = _whole_number(node.args.get("step")) if node.args.get("step") is not None else 1
    if start is None or end is None or not step:
        raise SqlRejected("range()/generate_series() needs whole-number constants for its bounds and step", node)
    if abs(end - start) // abs(step) + 1 > MAX_SERIES:
        raise SqlRejected(f"range()/generate_series() would make more than {MAX_SERIES:,} values", node)


def _is_recursive(cte: exp.CTE) -> bool:
    name = cte.alias_or_name.lower()
    return isinstance(cte.this, exp.SetOperation) and any(
        t.name.lower() == name for t in cte.this.expression.find_all(exp.Table))


def _check_recursion_stops(cte: exp.CTE) -> None:
    """The recursive step must compare one of the CTE's own columns in its WHERE (n < 100), or it may never end."""
    step = cte.this.expression
    where = step.args.get("where") if isinstance(step, exp.Select) else None
    own = {c.name.lower() for c in cte.args["alias"].columns} if cte.args.get("alias") and \
        cte.args["alias"].columns else set()
    comparisons = (exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Between, exp.EQ, exp.NEQ)
    stops = where is not None and any(
        isinstance(node, comparisons) and any(not own or c.name.lower() in own for c in node.find_all(exp.Column))
        for node in where.walk())
    if not stops:
        raise SqlRejected(f"recursive query {cte.alias_or_name} has no condition that stops it; add WHERE on its "
                          "recursive column (e.g. WHERE n < 100)", cte)
