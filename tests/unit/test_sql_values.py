"""Cross-language value hints: which pieces of a question are tried, which values count as named, which columns
are searched, and that values are embedded once per table version. The bundled encoder itself is in e2e."""

import hashlib
from pathlib import Path

import duckdb
import numpy as np

from assistant.sql.values import ValueIndex, distinct_values, question_pieces
from ingest.tables import ColumnInfo, RegisteredTable

# words that mean the same thing share a direction; everything else gets its own pseudo-random one
SAME = {"猫": "cat", "狗": "dog", "英国": "United Kingdom", "建筑": "building", "北京": "Beijing"}


class FakeEncoder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.stack([self._vector(SAME.get(t, t)) for t in texts])

    @staticmethod
    def _vector(text: str) -> np.ndarray:
        seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        vector = np.random.default_rng(seed).normal(size=64).astype(np.float32)
        return vector / np.linalg.norm(vector)


def table(tmp_path: Path, version: str = "v1") -> tuple[duckdb.DuckDBPyConnection, RegisteredTable]:
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    con.execute("CREATE OR REPLACE TABLE pets (kind VARCHAR, owner VARCHAR, code VARCHAR, city VARCHAR)")
    con.execute("INSERT INTO pets VALUES ('cat', 'Ann', '12', '北京'), ('dog', 'Bob', '13', 'London'), "
                "('hamster', 'Cy', '14', 'London')")
    columns = [ColumnInfo("kind", "VARCHAR"), ColumnInfo("owner", "VARCHAR"),
               ColumnInfo("code", "VARCHAR", numeric_text=True), ColumnInfo("city", "VARCHAR")]
    return con, RegisteredTable("pets", "Pets", "", "x", "csv", "public", version, 3, columns)


def everything(table: str, column: str) -> bool:
    return True


def test_pieces_are_short_chinese_runs_and_latin_phrases_without_function_words() -> None:
    pieces = question_pieces("有猫的学生 in the United Kingdom?")
    assert {"猫", "有猫", "学生", "有猫的学"} <= set(pieces) and "有猫的学生" not in pieces  # 1-4 characters
    assert {"United", "Kingdom", "United Kingdom"} <= set(pieces)
    assert not {"in", "the", "in the United", "the United"} & set(pieces)


def test_a_chinese_word_names_an_english_value_and_an_english_word_a_chinese_one(tmp_path: Path) -> None:
    con, pets = table(tmp_path)
    index = ValueIndex(FakeEncoder())
    assert index.hints("有猫又有狗的学生是谁？", [pets], everything, con, "db") == {("pets", "kind"): ["cat", "dog"]}
    assert index.hints("Which pets live in Beijing?", [pets], everything, con, "db") == {("pets", "city"): ["北京"]}


def test_same_script_matches_are_left_to_exact_spelling(tmp_path: Path) -> None:
    con, pets = table(tmp_path)
    assert ValueIndex(FakeEncoder()).hints("pets in London", [pets], everything, con, "db") == {}


def test_masked_denied_and_numeric_columns_are_never_searched(tmp_path: Path) -> None:
    con, pets = table(tmp_path)
    encoder = FakeEncoder()
    ValueIndex(encoder).hints("猫", [pets], lambda t, c: c != "kind", con, "db")
    embedded = {value for call in encoder.calls[1:] for value in call}
    assert "cat" not in embedded and "12" not in embedded and {"Ann", "London"} <= embedded


def test_values_are_embedded_once_per_table_version(tmp_path: Path) -> None:
    con, pets = table(tmp_path)
    encoder = FakeEncoder()
    index = ValueIndex(encoder)
    index.hints("猫", [pets], everything, con, "db")
    index.hints("狗", [pets], everything, con, "db")
    assert len(encoder.calls) == 1 + 3 + 1  # pieces, 3 columns' values, pieces again
    _, changed = table(tmp_path, version="v2")
    index.hints("狗", [changed], everything, con, "db")
    assert len(encoder.calls) == 5 + 1 + 3


def test_columns_with_too_many_distinct_values_are_not_indexed(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 'name ' || i AS n FROM range(3000) r(i)")
    assert distinct_values(con, "t", "n") == []
    con.execute("CREATE TABLE s AS SELECT * FROM (VALUES ('  a '), ('a'), (NULL), ('')) v(n)")
    assert distinct_values(con, "s", "n") == ["a"]


def test_an_english_question_embeds_only_chinese_values(tmp_path: Path) -> None:
    con, pets = table(tmp_path)
    encoder = FakeEncoder()
    ValueIndex(encoder).hints("Which pets live in Beijing?", [pets], everything, con, "db")
    assert [value for call in encoder.calls[1:] for value in call] == ["北京"]


def test_embedded_values_are_kept_on_disk_for_the_next_process(tmp_path: Path) -> None:
    con, pets = table(tmp_path)
    first = FakeEncoder()
    assert ValueIndex(first, tmp_path / "values", "m1").hints("狗", [pets], everything, con, "db")
    assert len(first.calls) == 4
    again = FakeEncoder()
    assert ValueIndex(again, tmp_path / "values", "m1").hints("狗", [pets], everything, con, "db") == {
        ("pets", "kind"): ["dog"]}
    assert again.calls == [["狗"]]  # only the question's pieces
    other_model = FakeEncoder()
    ValueIndex(other_model, tmp_path / "values", "m2").hints("狗", [pets], everything, con, "db")
    assert len(other_model.calls) == 4  # vectors of another model are never reused
    for n, saved in enumerate((tmp_path / "values").iterdir()):
        saved.write_bytes(b"damaged" if n % 2 else saved.read_bytes()[:40])  # garbage, or a cut-off zip
    damaged = FakeEncoder()
    assert ValueIndex(damaged, tmp_path / "values", "m1").hints("狗", [pets], everything, con, "db")
    assert len(damaged.calls) == 4  # rebuilt, not trusted
