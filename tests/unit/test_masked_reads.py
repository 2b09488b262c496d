"""Issue 26: a custom role that may read the audit log and the register but masks personal data gets masked copies
of every receipt, export, replay report, register entry and suggestion; the data steward (pii raw) keeps the raw
view. Real DuckDB and SQLite; the catalog side of the register is empty."""

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.services import Services
from core.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql"
PHONE, EMAIL = "13800138000", "wf@example.cn"


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("GOVDATA_USER", "tester")
    bundled = json.loads((Path(__file__).resolve().parents[2] / "assistant/policy/roles.json").read_text())
    bundled["auditor"] = {"access_levels": ["public"], "pii": "mask",
                          "actions": ["audit.read", "register.read", "register.grade"]}
    roles = tmp_path / "roles.json"
    roles.write_text(json.dumps(bundled))
    shutil.copy(FIXTURES / "permits.csv", tmp_path / "permits.csv")
    (tmp_path / "permits.json").write_text(json.dumps({"title": "Permits", "description": f"Ask {EMAIL} or {PHONE}"}))
    svc = Services(Settings(home=tmp_path / "home", roles_file=roles))
    monkeypatch.setattr(svc, "ingest", lambda paths, **kwargs: SimpleNamespace(added=1, updated=0))
    svc._store = SimpleNamespace(contents=SimpleNamespace(all_rows=lambda collection: []))  # type: ignore[assignment]
    svc.add_tables(tmp_path / "permits.csv", describe=tmp_path / "permits.json", access_level="public",
                   role="data_steward")
    svc.sql_run(f"SELECT '{PHONE}' AS phone, count(*) AS n FROM permits", role="data_steward", user="auditor")
    return svc


def _text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=lambda v: getattr(v, "__dict__", str(v)))


def test_audit_reads_are_masked_for_a_role_that_masks_personal_data(services: Services) -> None:
    ran = services.audit.recent(limit=1)[0]
    reads = {
        "list": lambda role: services.audit_receipts(role=role),
        "show": lambda role: services.audit_receipt(ran.id, role=role),
        "own": lambda role: services.own_receipt(ran.id, role=role, user="auditor"),
        "export": lambda role: services.audit_export("jsonl", role=role),
        "csv": lambda role: services.audit_export("csv", role=role),
        "replay": lambda role: services.audit_replay(ran.id, role=role),
        "disclose": lambda role: services.disclose(role=role),
    }
    for what, read in reads.items():
        masked, raw = _text(read("auditor")), _text(read("data_steward"))
        assert PHONE not in masked, what
        if what != "disclose":  # counts only, never a question or SQL
            assert PHONE in raw and "[PHONE ***8000]" in masked, what
    shown = services.audit_receipt(ran.id, role="auditor")
    assert (shown.hash, shown.prev_hash, shown.sql_sha256) == (ran.hash, ran.prev_hash, ran.sql_sha256)


def test_register_reads_are_masked_for_a_role_that_masks_personal_data(services: Services) -> None:
    reads = {
        "entries": lambda role: [e.to_json() | {"d": e.resource.description}
                                 for e in services.register_entries(role=role)],
        "entry": lambda role: services.register_entry("permits", role=role).resource,
    }
    for what, read in reads.items():
        masked, raw = _text(read("auditor")), _text(read("data_steward"))
        assert PHONE in raw and EMAIL in raw, what
        assert PHONE not in masked and EMAIL not in masked and "[EMAIL]" in masked, what
    suggestions = services.register_grade("permits", role="auditor")  # its evidence is masked already
    assert suggestions and PHONE not in _text([s.to_json() for s in suggestions])


def test_a_receipts_hashes_are_never_masked_as_numbers() -> None:
    """A sha256 in hex can hold a run of digits that reads as a phone or card number; masked, the hash would no
    longer match the log."""
    from assistant.audit import Receipt
    from assistant.policy.pii import mask_any

    digest = ("ab" + PHONE + "c" * 64)[:64]
    receipt = Receipt("sql.run", "u", "auditor", sql=f"SELECT '{PHONE}'", hash=digest, sql_sha256=digest)
    masked, found = mask_any(receipt)
    assert (masked.hash, masked.sql_sha256, found) == (digest, digest, 1) and PHONE not in masked.sql
    assert mask_any(digest.upper())[0] != digest.upper()  # only a digest as receipts write it is left alone
