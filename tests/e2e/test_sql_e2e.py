"""SQL over approved tables on the real stack: the CLI, real DuckDB, real Chroma + USE for dataset search,
and the bundled Qwen GGUF in llama.cpp writing the SQL."""

import json
from pathlib import Path

import pytest

from .conftest import FIXTURES, govdata

pytestmark = pytest.mark.e2e
SQL = FIXTURES / "sql"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sql-home")
    added = govdata(home, "datasets", "add", str(SQL / "permits.csv"), "--describe", str(SQL / "permits.describe.json"),
                    "--access-level", "restricted public", "--json")
    assert added.code == 0, added.stderr
    assert added.json()["tables"][0]["name"] == "permits"  # type: ignore[index]
    assert govdata(home, "datasets", "add", str(SQL / "datapackage" / "datapackage.json")).code == 0
    again = govdata(home, "datasets", "add", str(SQL / "datapackage" / "datapackage.json"), "--json")
    assert again.json()["unchanged"] is True  # type: ignore[index]
    return home


def identifiers(home: Path, query: str, role: str) -> list[str]:
    result = govdata(home, "datasets", "search", query, "--role", role, "--json")
    assert result.code == 0, result.stderr
    return [r["identifier"] for r in result.json()]  # type: ignore[union-attr, index]


def test_approved_tables_are_found_by_dataset_search_within_the_role(home: Path) -> None:
    assert identifiers(home, "annual PM2.5 air quality by city", "citizen")[0] == "govdata-sql:city_air"
    assert "govdata-sql:permits" not in identifiers(home, "permits issued, fees", "citizen")
    assert identifiers(home, "permits issued, fees", "civil_servant")[0] == "govdata-sql:permits"


def test_check_and_run_enforce_roles_masking_and_read_only(home: Path) -> None:
    denied = govdata(home, "sql", "check", "SELECT kind FROM permits", "--json")
    assert denied.code == 0 and denied.json() == {  # type: ignore[comparison-overlap]
        "allowed": False, "reason": "table 'permits' is not an approved table for this role",
        "sql": "SELECT kind FROM permits", "withheld": []}  # issue 17 added withheld
    allowed = govdata(home, "sql", "check", "SELECT kind FROM permits", "--role", "civil_servant", "--json").json()
    assert allowed["allowed"] is True and allowed["sql"].endswith("LIMIT 1000")  # type: ignore[index]

    masked = govdata(home, "sql", "run", "SELECT applicant_name, fee FROM permits ORDER BY permit_id LIMIT 2",
                     "--role", "civil_servant", "--json").json()
    assert masked["rows"] == [["***", 1200.5], ["***", 300.0]]  # type: ignore[index]
    assert masked["masked_columns"] == ["applicant_name"]  # type: ignore[index]
    plain = govdata(home, "sql", "run", "SELECT applicant_name FROM permits ORDER BY permit_id LIMIT 1",
                    "--role", "data_steward", "--json").json()
    assert plain["rows"] == [["Wang Fang"]]  # type: ignore[index]

    dropped = govdata(home, "sql", "run", "DROP TABLE permits", "--role", "data_steward")
    assert dropped.code == 1 and dropped.stderr.startswith("error: rejected: ")
    count = govdata(home, "sql", "run", "SELECT count(*) AS n FROM permits", "--role", "data_steward", "--json")
    assert count.json()["rows"] == [[5]]  # type: ignore[index]


def test_sql_ask_with_the_bundled_model(home: Path) -> None:
    result = govdata(home, "sql", "ask", "What was the average PM2.5 in Beijing over all years?",
                     "--dataset", "city_air", "--json")
    assert result.code == 0, result.stderr
    answer = result.json()
    assert set(answer) >= {"sql", "explanation", "columns", "rows", "row_count", "truncated",  # type: ignore[arg-type]
                           "dataset_versions"}
    assert answer["rows"] == [[87.7]] and answer["truncated"] is False  # type: ignore[index]
    assert list(answer["dataset_versions"]) == ["city_air"] and answer["explanation"]  # type: ignore[index]


def test_eval_sql_on_an_adhoc_sqlite_database_english_and_chinese(home: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    lines = [{"id": "en", "question": "How many pets are there?", "db": str(SQL / "pets_1.sqlite")},
             {"id": "zh", "question": "一共有多少只宠物？", "db": str(SQL / "pets_1.sqlite")},
             {"id": "bad", "question": "How many?", "db": str(tmp_path / "missing.sqlite")}]
    questions.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
    out = tmp_path / "out.jsonl"
    result = govdata(home, "eval", "sql", str(questions), "--out", str(out))
    assert result.code == 0, result.stderr
    answers = {a["id"]: a for a in map(json.loads, out.read_text().splitlines())}
    assert answers["en"]["rows"] == [[3]] and answers["en"]["error"] is None
    assert answers["zh"]["rows"] == [[3]] and any("\u4e00" <= ch <= "\u9fff" for ch in answers["zh"]["explanation"])
    assert answers["bad"]["error"].startswith("--db") and answers["bad"]["rows"] == []
    assert set(answers["en"]) >= {"id", "sql", "columns", "rows", "error", "candidates", "confidence", "uncertain"}


def test_eval_guard_cli(home: Path, tmp_path: Path) -> None:
    db = str(SQL / "pets_1.sqlite")
    lines = [{"id": 1, "db": db, "sql": "SELECT count(*) FROM pets"},
             {"id": 2, "db": db, "sql": "SELECT 1; DROP TABLE pets"},
             {"id": 3, "db": db, "sql": "SELECT lname FROM student", "denied_columns": ["student.lname"]},
             {"id": 4, "db": db, "sql": "SELECT petid FROM has_pet", "approved_tables": ["pets"]}]
    file = tmp_path / "guard.jsonl"
    file.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    out = tmp_path / "verdicts.jsonl"
    assert govdata(home, "eval", "guard", str(file), "--out", str(out)).code == 0
    verdicts = [json.loads(line) for line in out.read_text().splitlines()]
    assert [v["allowed"] for v in verdicts] == [True, False, False, False]
    assert "lname is not available" in verdicts[2]["reason"] and "not an approved table" in verdicts[3]["reason"]


def test_execution_guided_candidates_with_the_bundled_model(home: Path) -> None:
    """Issue 12: three candidates from one prompt on the real llama.cpp model, grouped by result; the agreement
    comes back as `confidence`, and the chosen answer is still right."""
    result = govdata(home, "sql", "ask", "How many pets are there?", "--db", str(SQL / "pets_1.sqlite"), "--json",
                     env={"GOVDATA_SQL__CANDIDATES": "3",
                          "GOVDATA_SQL__CANDIDATE_BUDGET_S": "600"})  # the vote is tested, not the speed
    assert result.code == 0, result.stderr
    answer = result.json()
    assert answer["rows"] == [[3]] and answer["candidates"] == 3  # type: ignore[index]
    votes = 1 + sum(a["votes"] for a in answer["alternatives"])  # type: ignore[index]
    assert 0 < answer["confidence"] <= 1 and votes <= 3  # type: ignore[index, operator]
    assert answer["uncertain"] == (answer["confidence"] < 0.6)  # type: ignore[index, operator]
