"""Method calls: DuckDB reads `x.f(a)` as `f(x, a)`. sqlglot parses it as Dot(x, f(a)), with no Column node
for x, so every column rule would miss it; the guard rewrites each method call as the call it means before any
rule runs, and the rules then see the column like any other. (The engine wall holds without this; this gives
the person a reason instead of an engine error.)"""

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from assistant.sql.guard.model import DIALECT, SqlRejected

_CALL = re.compile(r"^([A-Za-z_][\w]*)\((.*)\)$", re.S)


def calls_from_methods(root: exp.Expr) -> exp.Expr:
    """The tree with every `x.f(args)` written as `f(x, args)`, innermost first (so `x.f().g()` is g(f(x)))."""
    while True:
        method = next((d for d in root.find_all(exp.Dot) if _is_method(d) and not _has_method(d.this)), None)
        if method is None:
            return root
        call = _as_call(method)
        if method is root:
            return call
        method.replace(call)


def _is_method(node: exp.Dot) -> bool:
    return isinstance(node.expression, exp.Func)


def _has_method(node: exp.Expr) -> bool:
    return any(_is_method(d) for d in node.find_all(exp.Dot))


def _as_call(method: exp.Dot) -> exp.Expr:
    receiver = method.this.sql(dialect=DIALECT, comments=False)
    function = method.expression.sql(dialect=DIALECT, comments=False)
    match = _CALL.match(function)
    if not match:
        raise SqlRejected(f"cannot read the method call .{function}; write it as a function call with the value "
                          "as its first argument", method)
    name, arguments = match.groups()
    text = f"{name}({receiver}{', ' + arguments if arguments.strip() else ''})"
    try:
        call = sqlglot.parse_one(text, read=DIALECT)
    except (SqlglotError, ValueError):
        raise SqlRejected(f"cannot read the method call .{name}(); write it as {name}(value, ...)", method) from None
    return _lambda_parameters_kept(call, _parameters_around(method))


def _parameters_around(node: exp.Expr) -> set[str]:
    """The parameter names of the lambdas a node sits in (`x -> x.upper()`): there a bare name is the parameter."""
    names: set[str] = set()
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Lambda):
            names.update(p.name.lower() for p in parent.expressions)
        parent = parent.parent
    return names


def _lambda_parameters_kept(call: exp.Expr, parameters: set[str]) -> exp.Expr:
    """The re-read call with a lambda's parameters as sqlglot reads them inside a lambda (identifiers, not columns)."""
    if not parameters:
        return call
    for column in list(call.find_all(exp.Column)):
        if not column.table and column.name.lower() in parameters:
            replacement = column.this.copy()
            if column is call:
                return replacement
            column.replace(replacement)
    return call
