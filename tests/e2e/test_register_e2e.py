"""The steward's day, end to end through the real CLI (issue 16): ingest a catalog and approve a table, export the
register, accept grading suggestions, see a citizen lose the column and the record at once, and publish a
disclosure report in which small counts are suppressed and no user appears."""

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import FIXTURES, govdata

pytestmark = pytest.mark.e2e
REGISTER = FIXTURES / "register"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("register")
    for name in ("applicants.csv", "social_catalog.csv"):
        shutil.copy(REGISTER / name, root / name)
    home = root / "home"
    ingested = govdata(home, "ingest", str(root / "social_catalog.csv"))
    assert ingested.code == 0, ingested.stderr
    added = govdata(home, "datasets", "add", str(root / "applicants.csv"), "--access-level", "public")
    assert added.code == 0, added.stderr
    return home


def test_register_export_lists_records_and_tables_with_scores_and_reasons(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "register.json"
    done = govdata(home, "register", "export", "--format", "json", "--out", str(out))
    assert done.code == 0, done.stderr
    entries = {e["title"]: e for e in json.loads(out.read_text(encoding="utf-8"))}
    assert {e["kind"] for e in entries.values()} == {"catalog record", "approved table"}
    park = entries["公园开放时间"]
    assert park["update_every_days"] == 91 and park["contact"] == "园林局信息中心" and park["score"] == 95
    assert [r["rule"] for r in park["reasons"]] == ["identifier"]
    table = entries["applicants"]
    assert table["kind"] == "approved table" and table["version"] and table["formats"] == ["csv"]
    listed = govdata(home, "register", "list", "--kind", "approved table", "--json")
    assert [e["id"] for e in listed.json()] == ["applicants"]  # type: ignore[union-attr]
    refused = govdata(home, "register", "list", "--role", "citizen")
    assert refused.code == 1 and "may not read the public data resource register" in refused.stderr


def test_accepting_grades_withholds_the_column_and_the_record_then_disclosure_reports_use(
        home: Path, tmp_path: Path) -> None:
    before = govdata(home, "sql", "run", "SELECT holder FROM applicants LIMIT 1", "--role", "citizen", "--json")
    assert before.code == 0 and before.json()["row_count"] == 1  # type: ignore[index]
    suggestions = govdata(home, "register", "grade", "applicants", "--json").json()
    holder = next(s for s in suggestions if s["target"] == "applicants.holder")  # type: ignore[union-attr]
    assert holder["evidence"]["kind"] == "id" and holder["evidence"]["share"] == 1.0
    accepted = govdata(home, "register", "grade", "applicants", "--accept", holder["id"])
    assert accepted.code == 0 and accepted.stdout.startswith(f"accepted: {holder['id']}"), accepted.stderr
    after = govdata(home, "sql", "run", "SELECT holder FROM applicants LIMIT 1", "--role", "citizen")
    assert after.code == 1 and "holder is not available" in after.stderr

    found = govdata(home, "datasets", "search", "低保对象名单", "--role", "citizen", "--json").json()
    record = next(r for r in found if r["title"] == "低保对象名单")  # type: ignore[union-attr]
    [level] = govdata(home, "register", "grade", record["identifier"], "--json").json()  # type: ignore[misc]
    assert level["kind"] == "record_level" and level["evidence"]["phrase"] == "个人信息"
    assert govdata(home, "register", "grade", record["identifier"], "--accept", level["id"]).code == 0
    hidden = govdata(home, "datasets", "search", "低保对象名单", "--role", "citizen", "--json").json()
    assert "低保对象名单" not in {r["title"] for r in hidden}  # type: ignore[union-attr]
    shown = govdata(home, "datasets", "search", "低保对象名单", "--role", "civil_servant", "--json").json()
    assert "低保对象名单" in {r["title"] for r in shown}  # type: ignore[union-attr]

    for role in ("citizen",) * 6 + ("civil_servant",) * 6:
        assert govdata(home, "sql", "run", "SELECT count(*) FROM applicants", "--role", role).code == 0
    assert govdata(home, "sql", "run", "SELECT district FROM applicants LIMIT 1", "--role", "data_steward").code == 0
    report_file = tmp_path / "report.json"
    done = govdata(home, "disclose", "--out", str(report_file))
    assert done.code == 0, done.stderr
    report = json.loads(report_file.read_text(encoding="utf-8"))
    applicants = next(d for d in report["datasets"] if d["dataset"] == "applicants")
    # citizen: six counts and the one before the decision; the steward's one read is hidden, and the next
    # smallest with it, or 14 - 7 - 6 would give it away
    assert applicants["by_role"] == {"citizen": 7, "civil_servant": "suppressed", "data_steward": "<5"}
    assert applicants["uses"] == 14
    page = tmp_path / "report.html"
    assert govdata(home, "disclose", "--out", str(page)).code == 0
    text = page.read_text(encoding="utf-8")
    assert "applicants" in text and "<svg" in text and "SELECT" not in text
    receipts = govdata(home, "audit", "list", "--action", "register.grade", "--json").json()
    assert [r["outcome"].split(":")[0] for r in receipts] == ["accepted", "accepted"]  # type: ignore[union-attr]


def test_bad_names_ids_and_output_files_are_one_line(home: Path, tmp_path: Path) -> None:
    for args, message in ((("register", "grade", "nosuch"), "no approved table or catalog record has this name"),
                          (("register", "grade", "applicants", "--accept", "g123"), "no suggestion with this id"),
                          (("register", "show", "nosuch"), "no register entry has this id"),
                          (("disclose", "--out", str(tmp_path / "r.pdf")), "must end in .html, .csv or .json")):
        done = govdata(home, *args)
        assert done.code == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
