"""Value retrieval across languages: a Chinese question meets English values (猫 -> 'cat', 英国 -> 'United Kingdom')
and an English question meets Chinese values, by meaning rather than spelling.

The distinct values of the text columns the role may read unmasked are embedded once per table version (the
bundled multilingual encoder puts 猫 and 'cat' at cosine ~0.94, unrelated pairs under ~0.6) and kept in memory.
The question is cut into short pieces (1-4 CJK characters, 1-3 Latin words); a value is a hint when one piece
of the other script is closer to it than `MIN_SIMILARITY` and clearly closer to it than to the next value.
Same-script values are left to the exact-spelling hints, so this never fuzzes an English word into another.
"""

import re
from collections import OrderedDict
from collections.abc import Callable

import duckdb
import numpy as np

from assistant.sql.registry import RegisteredTable
from assistant.sql.tables import quote

Embed = Callable[[list[str]], np.ndarray]

MIN_SIMILARITY = 0.78  # cosine of a piece and a value of the other script: 猫/'cat' 0.94, 宠物/'dog' 0.59
MIN_MARGIN = 0.08  # over the piece's second-best value, so 英国 names 'United Kingdom', not also 'USA'
MAX_VALUES_PER_COLUMN = 2000  # columns with more distinct values (names, free text) are not indexed
MAX_VALUE_CHARS = 60
MAX_HINTS_PER_COLUMN = 3
_CACHED_COLUMNS = 512
_CJK = re.compile(r"[\u3400-\u9fff]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")
_STOP = frozenset("""a an and are as at be by do does for from has have how in is it its many much of on or show
that the their them there these this those to was were what when where which who whom whose why with all each
every list give find number name names count total average""".split())


class ValueIndex:
    """Embedded distinct values per (database, table, version, column), least recently used dropped first."""

    def __init__(self, embed: Embed) -> None:
        self.embed = embed
        self._columns: OrderedDict[tuple[str, str, str, str], tuple[list[str], np.ndarray]] = OrderedDict()

    def hints(self, question: str, tables: list[RegisteredTable], readable: Callable[[str, str], bool],
              con: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], list[str]]:
        """{(table, column): values} that a piece of the question of the other script means."""
        pieces = question_pieces(question)
        if not pieces:
            return {}
        vectors = self.embed(pieces)
        out: dict[tuple[str, str], list[str]] = {}
        for table in tables:
            for column in table.columns:
                if column.type != "VARCHAR" or column.numeric_text or not readable(table.name, column.name):
                    continue
                values, embedded = self._values(con, database, table, column.name)
                found = _matches(pieces, vectors, values, embedded)
                if found:
                    out[(table.name, column.name)] = found
        return out

    def _values(self, con: duckdb.DuckDBPyConnection, database: str, table: RegisteredTable,
                column: str) -> tuple[list[str], np.ndarray]:
        key = (database, table.name, table.version, column)
        if key in self._columns:
            self._columns.move_to_end(key)
            return self._columns[key]
        values = distinct_values(con, table.name, column)
        embedded = self.embed(values) if values else np.zeros((0, 0), dtype=np.float32)
        self._columns[key] = (values, embedded)
        if len(self._columns) > _CACHED_COLUMNS:
            self._columns.popitem(last=False)
        return values, embedded


def distinct_values(con: duckdb.DuckDBPyConnection, table: str, column: str) -> list[str]:
    """The column's distinct short values, or none when it has more than MAX_VALUES_PER_COLUMN of them."""
    name = quote(column)
    try:
        rows = con.execute(
            f"SELECT DISTINCT trim({name}) FROM {quote(table)} WHERE {name} IS NOT NULL AND length(trim({name})) "
            f"BETWEEN 1 AND {MAX_VALUE_CHARS} LIMIT {MAX_VALUES_PER_COLUMN + 1}"
        ).fetchall()
    except duckdb.Error:
        return []
    if len(rows) > MAX_VALUES_PER_COLUMN:
        return []
    return sorted(str(r[0]) for r in rows)


def question_pieces(question: str) -> list[str]:
    """Short pieces that may name a value: every 1-4 character run of Chinese, every 1-3 Latin word phrase
    without function words."""
    pieces: set[str] = set()
    for run in _CJK_RUN.findall(question):
        pieces.update(run[i : i + n] for n in range(1, 5) for i in range(len(run) - n + 1))
    words = [w for w in _LATIN_WORD.findall(question)]
    for size in (1, 2, 3):
        for i in range(len(words) - size + 1):
            phrase = words[i : i + size]
            if phrase[0].lower() not in _STOP and phrase[-1].lower() not in _STOP:
                pieces.add(" ".join(phrase))
    return sorted(pieces)


def _matches(pieces: list[str], vectors: np.ndarray, values: list[str], embedded: np.ndarray) -> list[str]:
    if not values:
        return []
    scores = vectors @ embedded.T  # pieces x values
    found: dict[str, float] = {}
    for i, piece in enumerate(pieces):
        order = np.argsort(-scores[i])
        best = int(order[0])
        second = float(scores[i, order[1]]) if len(order) > 1 else 0.0
        top = float(scores[i, best])
        if top >= MIN_SIMILARITY and top - second >= MIN_MARGIN and _is_cjk(piece) != _is_cjk(values[best]):
            found[values[best]] = max(top, found.get(values[best], 0.0))
    ranked = sorted(found, key=lambda v: (-round(found[v], 3), v))
    return ranked[:MAX_HINTS_PER_COLUMN]


def _is_cjk(text: str) -> bool:
    return _CJK.search(text) is not None
