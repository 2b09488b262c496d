"""`govdata`: the command-line shell. It parses flags, calls `assistant.services.Services` use cases and prints;
it decides nothing about access. main (core commands and the entry point), sql, audit, common (shared options,
error text)."""

from assistant.cli.main import app, main

__all__ = ["app", "main"]
