"""`govdata`: the command-line shell. It parses flags, calls `assistant.services.Services` use cases and prints;
it decides nothing about access. main (core commands and the entry point), sql, eval, audit, register, tokens,
knowledge, grants, users, state (their commands, registered on main's app here), common (shared options, error text)."""

from assistant.cli import audit, eval, grants, knowledge, register, sql, state, tokens, users
from assistant.cli.main import app, datasets_app, main

sql.register(app, datasets_app)
eval.register(app)
audit.register(app)
register.register(app)
tokens.register(app)
knowledge.register(app)
grants.register(app)
users.register(app)
state.register(app)

__all__ = ["app", "main"]
