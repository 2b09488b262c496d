"""What one SQL question is taught (issue 32): of the knowledge in use that the caller's role may read, the terms
the question mentions (in either language, like the value hints), the verified pairs most like it and the notes
of the tables shown, within a budget of prompt tokens.

A role reads an item only when it could have written it: every table in its approval, SQL the guard allows it
with nothing masked or withheld (`examples.reads_only_readable`), and no word naming a column it may not read
or a table of another access level. Otherwise the item never reaches its prompt or its answer.
"""

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.excerpts import estimate_tokens
from assistant.sql.examples import reads_only_readable
from assistant.sql.guard import Approval, SqlGuard
from assistant.sql.knowledge import KnowledgeItem, checked_sql
from assistant.sql.values import MIN_SIMILARITY, question_pieces
from ingest.injection import defuse
from ingest.tables import RegisteredTable

Embed = Callable[[list[str]], np.ndarray]
Relevance = Callable[[str, list[str]], np.ndarray]
_CJK = re.compile(r"[\u3400-\u9fff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SHORT_DEFINITION = 40  # a definition this short is also looked for in the question ("registered population")


@dataclass(frozen=True)
class Lesson:
    """The knowledge shown for one question, in the order the prompt shows it."""

    terms: list[KnowledgeItem] = field(default_factory=list)
    pairs: list[KnowledgeItem] = field(default_factory=list)
    notes: list[KnowledgeItem] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in (*self.terms, *self.pairs, *self.notes) if i.id]

    def render(self) -> str:
        """The text that goes under the schema: pairs as verified examples, then terms, then notes."""
        out = "".join(_pair(p) for p in self.pairs)
        if self.terms:
            out += "\nTerms as this office uses them:\n" + "".join(_term(t) for t in self.terms)
        if self.notes:
            out += "\nNotes on the tables:\n" + "".join(_note(n) for n in self.notes)
        return out


def hidden_names(approval: Approval, tables: list[RegisteredTable], every: list[RegisteredTable]) -> set[str]:
    """The names an item's words may not use for this role: its masked and denied columns (name and source
    label), and the tables it may not query at all."""
    names: set[str] = set()
    for table in every:
        access = approval.table(table.name)
        if access is None:
            names.add(table.name.lower())
            continue
        unreadable = access.masked | access.denied
        for column in (c for c in table.columns if c.name in unreadable):
            names.update(n.lower() for n in (column.name, column.label) if n)
    return names


def names_any(text: str, names: set[str]) -> bool:
    """Whether the text names one of `names` as a word (snake_case read as words too) or, in Chinese, anywhere."""
    low = text.lower()
    for name in names:
        if _CJK.search(name):
            if name in low:
                return True
            continue
        words = r"[_\s]+".join(re.escape(w) for w in re.split(r"[_\s]+", name) if w)
        if words and re.search(rf"(?<![a-z0-9_]){words}(?![a-z0-9_])", low):
            return True
    return False


def readable(items: Sequence[KnowledgeItem], approval: Approval, guard: SqlGuard,
             hidden: set[str]) -> list[KnowledgeItem]:
    """The items this approval may be shown (see the module's docstring)."""
    out = []
    for item in items:
        if not all(approval.table(name) for name in item.tables):
            continue
        if names_any(" ".join((item.question, item.term, item.text, item.sql)), hidden):
            continue
        sql = checked_sql(item)
        if item.kind == "term" and item.sql and not sql:
            continue  # an expression with no table to read it from is never shown
        if sql and not _reads_only_readable(sql, approval, guard):
            continue
        out.append(item)
    return out


_VERDICTS: OrderedDict[tuple[str, str], bool] = OrderedDict()
_VERDICTS_KEPT = 20_000
_VERDICTS_LOCK = threading.Lock()


def _reads_only_readable(sql: str, approval: Approval, guard: SqlGuard) -> bool:
    """`examples.reads_only_readable`, remembered per SQL and approval: a guard check costs a few ms, and every
    question reads every item, so an office with hundreds of items would wait seconds for them otherwise."""
    key = (sql, _approval_key(approval))
    with _VERDICTS_LOCK:
        if key in _VERDICTS:
            _VERDICTS.move_to_end(key)
            return _VERDICTS[key]
    verdict = reads_only_readable(sql, approval, guard)
    with _VERDICTS_LOCK:
        _VERDICTS[key] = verdict
        while len(_VERDICTS) > _VERDICTS_KEPT:
            _VERDICTS.popitem(last=False)
    return verdict


def _approval_key(approval: Approval) -> str:
    """Everything about an approval a verdict depends on: each table's columns and types, masked and denied."""
    return json.dumps(sorted((t.name, sorted(t.columns.items()), sorted(t.masked), sorted(t.denied))
                             for t in approval.tables.values()), ensure_ascii=False)


def choose(question: str, items: Sequence[KnowledgeItem], visible: set[str], shown: set[str], relevance: Relevance,
           embed: Embed | None, pairs: int, budget: int) -> Lesson:
    """The lesson for one question: mentioned terms, then the `pairs` most similar pairs, then the notes of the
    shown tables, each only if it still fits `budget` tokens (0 teaches nothing)."""
    usable = [i for i in items if set(i.tables) <= visible]
    if budget <= 0 or not usable:
        return Lesson()
    left = float(budget)

    def fits(text: str) -> bool:
        nonlocal left
        cost = estimate_tokens(text)
        if cost > left:
            return False
        left -= cost
        return True

    terms = [t for t in mentioned(question, [i for i in usable if i.kind == "term"], embed) if fits(_term(t))]
    candidates = [i for i in usable if i.kind == "pair"]
    ranked: list[KnowledgeItem] = []
    if candidates and pairs > 0:
        scores = relevance(question, [p.question for p in candidates])
        ranked = [candidates[n] for n in np.argsort(-scores, kind="stable")[:pairs]]
    chosen = [p for p in ranked if fits(_pair(p))]
    notes = [n for n in usable if n.kind == "note" and set(n.tables) & shown and fits(_note(n))]
    return Lesson(terms, chosen, notes)


def mentioned(question: str, terms: list[KnowledgeItem], embed: Embed | None) -> list[KnowledgeItem]:
    """The terms a question uses: spelled out (the term, or a short definition, case-insensitively), or, with an
    embedder, named in the other language (户籍人口 <-> registered population) as closely as a value hint."""
    low = question.lower()
    found = {t.id for t in terms if t.term.lower() in low or (
        len(t.text) <= _SHORT_DEFINITION and t.text and t.text.lower() in low)}
    rest = [t for t in terms if t.id not in found]
    pieces = question_pieces(question)
    if embed is not None and rest and pieces:
        vectors = embed([*pieces, *(t.term for t in rest)])
        scores = vectors[len(pieces):] @ vectors[: len(pieces)].T  # terms x pieces
        found |= {t.id for t, row in zip(rest, scores, strict=True) if float(row.max()) >= MIN_SIMILARITY}
    return [t for t in terms if t.id in found]


def _line(text: str) -> str:
    """Taught text stays on its own line, and cannot open a chat turn of its own (as `generate._one_line`)."""
    return defuse(_CONTROL.sub(" ", text)).strip()


def _pair(item: KnowledgeItem) -> str:
    note = f"Note: {_line(item.text)}\n" if item.text else ""
    return f"\nVerified example:\nQuestion: {_line(item.question)}\nSQL: {_line(item.sql)}\n{note}"


def _term(item: KnowledgeItem) -> str:
    where = f" (in SQL on {', '.join(item.tables)}: {_line(item.sql)})" if item.sql else ""
    return f"- {_line(item.term)}: {_line(item.text)}{where}\n"


def _note(item: KnowledgeItem) -> str:
    return f"- {', '.join(item.tables)}: {_line(item.text)}\n"
