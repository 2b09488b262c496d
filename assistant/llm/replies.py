"""JSON replies from a chat model, for every caller that wants one (cited answers, SQL): how to ask for it in
each server's dialect, and how to read it back from text with fences or prose around it."""

import json
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

_EXAMPLE = "govdata_example"
# a language tag on the fence's own line (```postgresql), or `sql` before the code on it, is not the code
_FENCE = re.compile(r"```[ \t]*(?:[\w+-]+[ \t]*\n|(?i:sql)\b)?(.*?)```", re.S)


def response_format(mode: str, schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    """How to ask for JSON: llama.cpp (embedded or its server) takes a schema inside json_object; OpenAI and
    vLLM take json_schema."""
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
    return None


def parse_reply(text: str) -> dict[str, Any] | None:
    """The JSON object in a model reply (tolerating code fences or prose around it)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(text[start : end + 1], strict=False)  # small models put raw newlines in strings
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def code_in_text(text: str) -> str:
    """The code inside a reply's first code fence, without its language tag; the whole reply when it has none."""
    fenced = _FENCE.search(text)
    return fenced.group(1) if fenced else text


def sql_in_text(text: str) -> str:
    """The SQL in a reply written as text, not JSON: inside a code fence if there is one, up to the first
    semicolon (the guard still checks that it is one read-only query)."""
    return first_statement(code_in_text(text))


def first_statement(code: str) -> str:
    """Code up to its first semicolon outside strings and comments, stripped: `-- all; filtered below` in a
    comment, or `'a;b'` in a string, does not cut a query short (the cut could drop its WHERE and still run).
    Code the engine's tokenizer cannot read is cut at its first semicolon; the guard refuses what is left."""
    code = code.strip()
    try:
        tokens = Dialect.get_or_raise("duckdb").tokenize(code)
    except SqlglotError:
        return code.split(";")[0].strip()
    ends = [t.start for t in tokens if t.token_type == TokenType.SEMICOLON]
    return (code[:ends[0]] if ends else code).strip()


def example_reply(text: str) -> AIMessage:
    """A worked example's reply, marked so the embedded model keeps the prompt up to it as a cached prefix."""
    return AIMessage(text, response_metadata={_EXAMPLE: True})


def fixed_prefix_length(messages: Sequence[BaseMessage]) -> int:
    """How many leading messages are the same on every call of a kind: the system prompt and the worked
    examples after it (never the question, the data or a retry)."""
    length = 1 if messages and messages[0].type == "system" else 0
    for n, message in enumerate(messages):
        if message.type == "ai" and message.response_metadata.get(_EXAMPLE):
            length = n + 1
    return length
