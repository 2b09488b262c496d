"""Rules on the raw text, before parsing: size, comments, invisible characters and look-alike letters."""

import unicodedata
from collections.abc import Iterator

from assistant.sql.guard.model import MAX_NESTING, SqlRejected

_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs", "Cn", "Zl", "Zp"})


def check_text(sql: str, max_chars: int) -> None:
    if not sql.strip():
        raise SqlRejected("the query is empty")
    if len(sql) > max_chars:
        raise SqlRejected(f"the query is {len(sql):,} characters; the limit is {max_chars:,}")
    for index, char in enumerate(sql):
        if char in "\t\n\r ":
            continue
        category = unicodedata.category(char)
        if category in _INVISIBLE_CATEGORIES or (category == "Zs"):
            raise SqlRejected(f"invisible or control character U+{ord(char):04X} at position {index}")
    _check_comments_and_lookalikes(sql)


def _check_comments_and_lookalikes(sql: str) -> None:
    """Nested or unterminated block comments, and compatibility look-alikes (fullwidth ；) outside strings."""
    depth = 0
    for index, char, context in _scan(sql):
        if context == "code" and char in "([":
            depth += 1
            if depth > MAX_NESTING:
                raise SqlRejected(f"the query nests brackets more than {MAX_NESTING} deep (at position {index}); "
                                  "simplify it")
        elif context == "code" and char in ")]":
            depth = max(0, depth - 1)
        if context == "nested-comment":
            raise SqlRejected(f"nested block comment at position {index}; comments may not nest")
        if context == "unterminated":
            raise SqlRejected("unterminated string, identifier or comment")
        if context == "code" and unicodedata.normalize("NFKC", char) != char:
            raise SqlRejected(f"look-alike character {char!r} (U+{ord(char):04X}) at position {index}; "
                              "use plain ASCII punctuation and keywords")


def _scan(sql: str) -> Iterator[tuple[int, str, str]]:
    """Each code character with its context; flags nested and unterminated comments/quotes."""
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"":
            end = _quote_end(sql, i, char)
            if end < 0:
                yield i, char, "unterminated"
                return
            i = end + 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            opened = sql.find("/*", i + 2)
            if close < 0:
                yield i, char, "unterminated"
                return
            if 0 <= opened < close:
                yield opened, "/", "nested-comment"
                return
            i = close + 2
        else:
            yield i, char, "code"
            i += 1


def _quote_end(sql: str, start: int, quote: str) -> int:
    i = start + 1
    while True:
        i = sql.find(quote, i)
        if i < 0:
            return -1
        if sql.startswith(quote * 2, i):
            i += 2
            continue
        return i
