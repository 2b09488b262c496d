"""The audit log: chained receipts, tamper detection, concurrent writers."""

import csv
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.audit import GENESIS, AuditLog, Receipt, content_hash, entry_hash
from assistant.cli.common import error_text
from core.errors import GovDataError


def _log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "audit")
    for i in range(n):
        log.append(Receipt("ask", f"user{i % 2}", "citizen", f"question {i}", route="docs",
                           chunk_ids=[f"c{i}"], answer_hash=content_hash(i)))
    return log


def _tamper(log: AuditLog, *statements: tuple[str, tuple]) -> None:
    """Bypass the append-only triggers the way an attacker with file access would."""
    with sqlite3.connect(log.database) as connection:
        connection.execute("DROP TRIGGER receipts_no_update")
        connection.execute("DROP TRIGGER receipts_no_delete")
        for sql, params in statements:
            connection.execute(sql, params)


def test_append_chains_each_entry_to_the_previous(tmp_path: Path) -> None:
    log = _log(tmp_path, 3)
    first, second, third = sorted(log.recent(), key=lambda r: r.id)
    assert (first.id, first.prev_hash) == (1, GENESIS)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    body = json.dumps(second.body(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert second.hash == entry_hash(2, first.hash, body)
    result = log.verify()
    assert result.ok and result.entries == 3 and result.head_id == 3 and result.head_hash == third.hash


def test_receipt_fields_round_trip(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    written = log.append(Receipt("sql.run", "ana", "civil_servant", sql="SELECT 1", datasets={"gdp": "abc"},
                                 row_count=1, settings={"row_cap": 5}, raw_values=True, interface="ui"))
    read = log.get(written.id)
    assert read.as_dict() == written.as_dict()
    assert read.time.endswith("+00:00") and read.datasets == {"gdp": "abc"} and read.raw_values is True


def test_unknown_action_and_missing_receipt_are_errors(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit")
    with pytest.raises(GovDataError, match="unknown action"):
        log.append(Receipt("drop", "u", "citizen"))
    with pytest.raises(GovDataError, match="no receipt 7"):
        log.get(7)


def test_empty_log_verifies(tmp_path: Path) -> None:
    result = AuditLog(tmp_path / "audit").verify()
    assert result.ok and result.entries == 0


def test_sql_updates_and_deletes_are_refused_by_triggers(tmp_path: Path) -> None:
    log = _log(tmp_path, 2)
    with sqlite3.connect(log.database) as connection:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE receipts SET user = 'x' WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM receipts WHERE id = 2")
    assert log.verify().ok


def test_edited_entry_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    body = json.loads(log._rows("WHERE id = 3")[0][1])
    body["question"] = "something else"
    _tamper(log, ("UPDATE receipts SET body = ? WHERE id = 3", (json.dumps(body),)))
    result = log.verify()
    assert not result.ok and result.first_bad_id == 3 and "edited" in result.problem


def test_edited_user_column_alone_does_not_hide_in_the_body(tmp_path: Path) -> None:
    """The user and time columns are copies for filtering; the hashed body is what `show` reads."""
    log = _log(tmp_path)
    _tamper(log, ("UPDATE receipts SET user = 'mallory' WHERE id = 2", ()))
    assert log.get(2).user == "user1"


def test_rehashed_edit_breaks_the_next_link(tmp_path: Path) -> None:
    """An attacker who recomputes the edited entry's hash still breaks the entry after it."""
    log = _log(tmp_path)
    row = log._rows("WHERE id = 2")[0]
    body = json.loads(row[1])
    body["question"] = "forged"
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    _tamper(log, ("UPDATE receipts SET body = ?, hash = ? WHERE id = 2", (text, entry_hash(2, row[2], text))))
    result = log.verify()
    assert not result.ok and result.first_bad_id == 3 and "does not follow" in result.problem


def test_deleted_entry_is_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    _tamper(log, ("DELETE FROM receipts WHERE id = 2", ()))
    result = log.verify()
    assert not result.ok and result.first_bad_id == 3 and "entry 2 is missing" in result.problem


def test_reordered_entries_are_named(tmp_path: Path) -> None:
    log = _log(tmp_path)
    two, three = log._rows("WHERE id = 2")[0], log._rows("WHERE id = 3")[0]
    _tamper(log,
            ("UPDATE receipts SET body = ?, prev_hash = ?, hash = ? WHERE id = 2", (three[1], three[2], three[3])),
            ("UPDATE receipts SET body = ?, prev_hash = ?, hash = ? WHERE id = 3", (two[1], two[2], two[3])))
    result = log.verify()
    assert not result.ok and result.first_bad_id == 2


def test_truncated_tail_is_caught_by_the_head(tmp_path: Path) -> None:
    log = _log(tmp_path)
    _tamper(log, ("DELETE FROM receipts WHERE id >= 4", ()))
    result = log.verify()
    assert not result.ok and result.first_bad_id == 4 and "removed" in result.problem


def test_truncate_everything_but_keep_head_is_caught(tmp_path: Path) -> None:
    log = _log(tmp_path)
    _tamper(log, ("DELETE FROM receipts", ()))
    assert not log.verify().ok


def test_missing_head_file_is_reported(tmp_path: Path) -> None:
    log = _log(tmp_path, 2)
    log.head_file.unlink()
    result = log.verify()
    assert not result.ok and "head file is missing" in result.problem


def test_recent_filters_by_user_since_and_action(tmp_path: Path) -> None:
    log = _log(tmp_path, 4)
    log.append(Receipt("sql.run", "user0", "civil_servant", sql="SELECT 1"))
    assert [r.id for r in log.recent(user="user1")] == [4, 2]
    assert [r.id for r in log.recent(action="sql.run")] == [5]
    assert log.recent(since="2999-01-01") == []
    assert len(log.recent(since="2000-01-01", limit=2)) == 2


def test_export_jsonl_and_csv(tmp_path: Path) -> None:
    log = _log(tmp_path, 2)
    lines = log.export("jsonl").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2]
    rows = list(csv.DictReader(io.StringIO(log.export("csv"))))
    assert list(rows[0])[:5] == ["id", "time", "action", "user", "role"]
    assert [r["id"] for r in rows] == ["1", "2"] and json.loads(rows[0]["chunk_ids"]) == ["c0"]
    with pytest.raises(GovDataError, match="format xml") as raised:
        log.export("xml")
    assert error_text(raised.value).startswith("--format xml")






# ---- issue 18: the insider with write access to the files (each edit made by another process) ----

_ATTACKER = """
import json, sqlite3, sys
database, head, statements = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with sqlite3.connect(database) as connection:
    connection.execute("DROP TRIGGER IF EXISTS receipts_no_update")
    connection.execute("DROP TRIGGER IF EXISTS receipts_no_delete")
    for sql in statements:
        connection.execute(sql)
    if head != "-":  # rewrite the head file to match what is left, as a careful attacker would
        last = connection.execute("SELECT id, hash FROM receipts ORDER BY id DESC LIMIT 1").fetchone()
        open(head, "w").write(json.dumps({"id": last[0], "hash": last[1]}))
"""


def _attack(log: AuditLog, *statements: str, rewrite_head: bool = False) -> None:
    subprocess.run([sys.executable, "-c", _ATTACKER, str(log.database),
                    str(log.head_file) if rewrite_head else "-", json.dumps(statements)], check=True)


@pytest.mark.parametrize(("column", "value"), [("user", "mallory"), ("time", "2000-01-01T00:00:00.000+00:00"),
                                               ("action", "sql.run")])
def test_an_edited_indexed_column_is_named_and_filters_read_the_hash(tmp_path: Path, column: str,
                                                                     value: str) -> None:
    log = _log(tmp_path)
    _attack(log, f"UPDATE receipts SET {column} = '{value}' WHERE id = 2")
    result = log.verify()
    assert not result.ok and result.first_bad_id == 2 and f"its {column} column differs" in result.problem
    assert [r.id for r in log.recent(user="user1")] == [4, 2]  # still found by what was hashed
    assert log.recent(user="mallory") == [] and log.recent(action="sql.run") == []
    assert log.recent(since="2000-01-01", limit=100) != [] and 2 in [r.id for r in log.recent(limit=100)]


def test_truncation_with_a_rewritten_head_needs_an_outside_witness(tmp_path: Path) -> None:
    """Without a witness this passes (docs/security.md says so); each witness catches it on its own."""
    key = b"k" * 32
    witness = tmp_path / "elsewhere" / "witness.jsonl"
    log = AuditLog(tmp_path / "audit", key=key, witness_file=witness)
    for i in range(5):
        log.append(Receipt("ask", "u", "citizen", f"q{i}"))
    recorded = log.head()
    _attack(log, "DELETE FROM receipts WHERE id >= 4", rewrite_head=True)
    assert AuditLog(log.folder).verify().ok  # the limit: nothing outside the folder, nothing to compare
    signed = AuditLog(log.folder, key=key).verify()
    assert not signed.ok and "signature does not match" in signed.problem
    witnessed = AuditLog(log.folder, witness_file=witness).verify()
    assert not witnessed.ok and witnessed.first_bad_id == 4 and "entry 4 is missing" in witnessed.problem
    expected = AuditLog(log.folder).verify(f"{recorded['id']}:{recorded['hash']}")
    assert not expected.ok and "entry 5 with hash" in expected.problem


def test_deleting_both_files_is_caught_by_the_witness_or_an_expected_head(tmp_path: Path) -> None:
    witness = tmp_path / "elsewhere" / "witness.jsonl"
    log = AuditLog(tmp_path / "audit", witness_file=witness)
    log.append(Receipt("ask", "u", "citizen", "q"))
    head = log.head()
    log.database.unlink()
    log.head_file.unlink()
    assert AuditLog(log.folder).verify().ok  # "ok: 0 receipts" without a witness
    assert not log.verify().ok and "entry 1 is missing" in log.verify().problem
    assert not AuditLog(log.folder).verify(head["hash"]).ok


def test_a_forged_head_signature_and_witness_line_are_named(tmp_path: Path) -> None:
    key, witness = b"s" * 40, tmp_path / "w.jsonl"
    log = AuditLog(tmp_path / "audit", key=key, witness_file=witness)
    for i in range(3):
        log.append(Receipt("ask", "u", "citizen", f"q{i}"))
    assert log.verify().ok and log.head()["signature"] == json.loads(log.head_file.read_text())["signature"]
    lines = witness.read_text().splitlines()
    forged = json.loads(lines[1]) | {"hash": "f" * 64}
    witness.write_text("\n".join([lines[0], json.dumps(forged), lines[2]]) + "\n")
    result = log.verify()
    assert not result.ok and "w.jsonl:2: the signature does not match" in result.problem


def test_witness_and_key_must_lie_outside_home(tmp_path: Path) -> None:
    from assistant.audit import open_log, write_key
    from core.settings import AuditSettings, Settings

    home = tmp_path / "home"
    write_key(tmp_path / "key")
    inside = Settings(home=home, audit=AuditSettings(witness_file=home / "w.jsonl"))
    with pytest.raises(GovDataError, match="outside GOVDATA_HOME"):
        open_log(inside)
    with pytest.raises(GovDataError, match="never overwritten"):
        write_key(tmp_path / "key")
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
    log = open_log(Settings(home=home, audit=AuditSettings(key_file=tmp_path / "key")))
    assert log.key is not None and len(log.key) == 64
    (tmp_path / "short").write_text("abc")
    with pytest.raises(GovDataError, match="at least 32 bytes"):
        open_log(Settings(home=home, audit=AuditSettings(key_file=tmp_path / "short")))


def test_cli_head_and_expect_head(tmp_path: Path) -> None:
    env = {**__import__("os").environ, "GOVDATA_HOME": str(tmp_path / "home"), "GOVDATA_USER": "t"}
    log = AuditLog(tmp_path / "home" / "audit")
    for i in range(3):
        log.append(Receipt("ask", "u", "citizen", f"q{i}"))

    def govdata(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    head = govdata("audit", "head")
    assert head.returncode == 0 and head.stdout.strip() == f"3:{log.head()['hash']}"
    assert govdata("audit", "verify", "--expect-head", head.stdout.strip()).returncode == 0
    _attack(log, "DELETE FROM receipts WHERE id = 3", rewrite_head=True)
    failed = govdata("audit", "verify", "--expect-head", head.stdout.strip())
    assert failed.returncode == 1 and "entry 3 with hash" in failed.stderr and "Traceback" not in failed.stderr
    keygen = govdata("audit", "keygen", str(tmp_path / "home" / "key"))
    assert keygen.returncode == 1 and "outside GOVDATA_HOME" in keygen.stderr
