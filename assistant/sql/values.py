"""Value retrieval across languages: a Chinese question meets English values (猫 -> 'cat', 英国 -> 'United Kingdom')
and an English question meets Chinese values, by meaning rather than spelling.

The distinct values of the text columns the role may read unmasked are embedded once per table version (the
bundled multilingual encoder puts 猫 and 'cat' at cosine ~0.94, unrelated pairs under ~0.6), kept in memory and,
given a folder, on disk, so a command-line call does not embed them again. Only the values of the script the
question does not use are embedded: an English question on an English-only table costs nothing.
The question is cut into short pieces (1-4 CJK characters, 1-3 Latin words); a value is a hint when one piece
of the other script is closer to it than `MIN_SIMILARITY` and clearly closer to it than to the next value.
Same-script values are left to the exact-spelling hints, so this never fuzzes an English word into another.
"""

import hashlib
import json
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np

from ingest.tables import RegisteredTable, quote

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
    """Embedded distinct values per (database, table, version, column, script), least recently used dropped
    first; with `folder`, also saved there (named by a hash of that key and the embedding model)."""

    def __init__(self, embed: Embed, folder: Path | None = None, model: str = "") -> None:
        self.embed = embed
        self.folder = folder
        self.model = model
        self._columns: OrderedDict[tuple[str, ...], tuple[list[str], np.ndarray]] = OrderedDict()

    def hints(self, question: str, tables: list[RegisteredTable], readable: Callable[[str, str], bool],
              con: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], list[str]]:
        """{(table, column): values} that a piece of the question of the other script means."""
        pieces = question_pieces(question)
        if not pieces:
            return {}
        vectors = self.embed(pieces)
        scripts = {_is_cjk(p) for p in pieces}  # a CJK piece looks for non-CJK values, and the other way round
        out: dict[tuple[str, str], list[str]] = {}
        for table in tables:
            for column in table.columns:
                if column.type != "VARCHAR" or column.numeric_text or not readable(table.name, column.name):
                    continue
                for cjk_values in (not script for script in scripts):
                    values, embedded = self._values(con, database, table, column.name, cjk_values)
                    found = _matches(pieces, vectors, values, embedded)
                    if found:
                        out[(table.name, column.name)] = list(dict.fromkeys([*out.get((table.name, column.name),
                                                                                        []), *found]))
        return out

    def _values(self, con: duckdb.DuckDBPyConnection, database: str, table: RegisteredTable, column: str,
                cjk: bool) -> tuple[list[str], np.ndarray]:
        key = (database, table.name, table.version, column, "cjk" if cjk else "other")
        if key in self._columns:
            self._columns.move_to_end(key)
            return self._columns[key]
        loaded = self._load(key)
        if loaded is None:
            values = [v for v in distinct_values(con, table.name, column) if _is_cjk(v) == cjk]
            loaded = values, (self.embed(values) if values else np.zeros((0, 0), dtype=np.float32))
            self._save(key, *loaded)
        self._columns[key] = loaded
        if len(self._columns) > _CACHED_COLUMNS:
            self._columns.popitem(last=False)
        return loaded

    def _file(self, key: tuple[str, ...]) -> Path | None:
        if self.folder is None:
            return None
        digest = hashlib.sha256(json.dumps([*key, self.model]).encode()).hexdigest()[:32]
        return self.folder / f"{digest}.npz"

    def _load(self, key: tuple[str, ...]) -> tuple[list[str], np.ndarray] | None:
        path = self._file(key)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as saved:
                return [str(v) for v in saved["values"]], saved["vectors"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # a damaged cache file is rebuilt, not trusted
            return None

    def _save(self, key: tuple[str, ...], values: list[str], vectors: np.ndarray) -> None:
        path = self._file(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".partial.npz")
        np.savez(temporary, values=np.asarray(values, dtype=str), vectors=vectors)
        temporary.replace(path)


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
