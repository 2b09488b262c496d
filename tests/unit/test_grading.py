"""Classification and grading (issue 16): a table with planted resident ID numbers and phones, a control table of
look-alike numbers that are not personal data, and what a steward's decision changes for the roles at once."""

import csv
import random
from pathlib import Path

import pytest

from assistant.policy.pii import _ID_CHECK, _ID_WEIGHTS
from assistant.register.grading import column_evidence, suggest_for_record
from assistant.services import Services
from core.errors import GovDataError
from core.settings import Settings
from ingest.tables.model import ColumnInfo


def resident_id(rng: random.Random) -> str:
    body = f"110105{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return body + _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("GOVDATA_USER", "steward-ana")
    rng = random.Random(16)
    applicants = [[n, f"申请{n}", resident_id(rng), f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                   rng.choice(["东城", "西城", "海淀"]), rng.randint(1, 9) * 100] for n in range(60)]
    _write(tmp_path / "applicants.csv", ["case_no", "case", "holder", "contact", "district", "fee"], applicants)
    lookalike = [[n, "".join(str(rng.randint(0, 9)) for _ in range(17)) + "9",  # 18 digits, checksums fail
                  f"12{rng.randint(100_000_000, 999_999_999)}",  # 11 digits, not a mobile prefix
                  f"4{rng.randint(10**14, 10**15 - 1)}", rng.randint(1, 500)] for n in range(60)]
    _write(tmp_path / "shipments.csv", ["shipment", "tracking_code", "order_ref", "batch", "kg"], lookalike)
    svc = Services(Settings(home=tmp_path / "home"))
    for name in ("applicants", "shipments"):
        svc.add_tables(tmp_path / f"{name}.csv", access_level="public", role="data_steward")
    return svc


def test_planted_ids_and_phones_are_suggested_with_masked_evidence(services: Services) -> None:
    suggestions = {s.target: s for s in services.register_grade("applicants", role="data_steward")}
    holder, contact = suggestions["applicants.holder"], suggestions["applicants.contact"]
    assert holder.evidence["kind"] == "id" and holder.evidence["share"] == 1.0 and holder.evidence["sampled"] == 60
    assert contact.evidence["kind"] == "phone" and contact.evidence["matched"] == 60
    assert all("***" in e for e in holder.evidence["examples"] + contact.evidence["examples"])
    assert not any(e.isdigit() for e in holder.evidence["examples"])  # never the whole number
    level = suggestions["applicants"]
    assert (level.kind, level.current, level.suggested) == ("table_level", "public", "non-public")
    assert level.evidence["personal_columns"] == ["contact", "holder"]
    assert {"applicants.case_no", "applicants.district", "applicants.fee", "applicants.case"}.isdisjoint(suggestions)
    assert all(s.status == "pending" for s in suggestions.values())


def test_look_alike_numbers_are_not_personal_data(services: Services) -> None:
    assert services.register_grade("shipments", role="data_steward") == []


def test_an_accepted_column_is_withheld_from_citizens_at_once_and_masked_for_civil_servants(
        services: Services) -> None:
    holder = next(s for s in services.register_grade("applicants", role="data_steward")
                  if s.target == "applicants.holder")
    assert services.sql_run("SELECT holder FROM applicants LIMIT 1", role="citizen").row_count == 1  # before
    decided = services.register_decide("applicants", holder.id, accept=True, role="data_steward")
    assert decided.status == "accepted"
    with pytest.raises(GovDataError, match="holder"):
        services.sql_run("SELECT holder FROM applicants LIMIT 1", role="citizen")
    masked = services.sql_run("SELECT holder FROM applicants LIMIT 1", role="civil_servant")
    assert masked.masked_columns == ["holder"]
    [column] = [c for c in services.sql_tables("citizen").tables[0].columns if c.name == "holder"]
    assert column.sensitive and not column.samples and not column.examples  # flagged, no values shown
    again = {s.target: s for s in services.register_grade("applicants", role="data_steward")}
    assert again["applicants.holder"].status == "accepted" and again["applicants.holder"].id == holder.id
    receipt = services.audit.recent(action="register.grade", limit=1)[0]
    assert receipt.user == "steward-ana" and receipt.outcome.startswith("accepted: sensitive_column applicants.holder")


def test_an_accepted_level_hides_the_table_and_survives_adding_it_again(services: Services, tmp_path: Path) -> None:
    level = next(s for s in services.register_grade("applicants", role="data_steward") if s.kind == "table_level")
    services.register_decide("applicants", level.id, accept=True, role="data_steward")
    assert "applicants" not in {t.name for t in services.sql_tables("civil_servant").tables}
    services.add_tables(tmp_path / "applicants.csv", access_level="public", role="data_steward")  # unchanged file
    assert "applicants" not in {t.name for t in services.sql_tables("citizen").tables}
    assert "applicants" in {t.name for t in services.sql_tables("data_steward").tables}


def test_a_rejected_suggestion_changes_nothing_and_shows_as_rejected(services: Services) -> None:
    contact = next(s for s in services.register_grade("applicants", role="data_steward")
                   if s.target == "applicants.contact")
    services.register_decide("applicants", contact.id, accept=False, role="data_steward")
    assert services.sql_run("SELECT contact FROM applicants LIMIT 1", role="citizen").row_count == 1
    shown = {s.id: s.status for s in services.register_grade("applicants", role="data_steward")}
    assert shown[contact.id] == "rejected"


def test_unknown_names_ids_and_roles_are_one_clear_error(services: Services) -> None:
    with pytest.raises(GovDataError, match="no approved table or catalog record has this name"):
        services.register_grade("nosuch", role="data_steward")
    with pytest.raises(GovDataError, match="no suggestion with this id for applicants"):
        services.register_decide("applicants", "g0000000000", accept=True, role="data_steward")
    with pytest.raises(GovDataError, match="may not decide classification and grading"):
        services.register_grade("applicants", role="civil_servant")
    refusals = [r.outcome for r in services.audit.recent(limit=3)]
    assert all(o.startswith("refused: ") for o in refusals)


@pytest.mark.parametrize(("name", "values", "kind"), [
    ("email", ["ana@example.org", "bo@example.cn", "none"], "email"),
    ("姓名", ["张三", "李四", "王五"], "name"),
    ("home_address", ["1 Main St", "2 Elm St"], "address"),
    ("diagnosis", ["flu", "asthma"], "health"),
    ("latitude", ["39.9", "40.1"], "location"),
])
def test_column_names_and_values_give_the_kind(name: str, values: list[str], kind: str) -> None:
    evidence = column_evidence(ColumnInfo(name, "VARCHAR"), values)
    assert evidence is not None and evidence["kind"] == kind


@pytest.mark.parametrize(("name", "values"), [
    ("district", ["东城", "西城"]), ("fee", ["100", "200"]), ("order_ref", ["12345678901", "12999999999"]),
])
def test_ordinary_columns_get_no_suggestion(name: str, values: list[str]) -> None:
    assert column_evidence(ColumnInfo(name, "VARCHAR"), values) is None


def test_a_public_record_that_says_it_holds_personal_data_is_suggested_restricted() -> None:
    [suggestion] = suggest_for_record("r1", {"title": "低保对象名单", "access_level": "public",
                                             "description": "包含申请人个人信息及身份证号码，按月更新。"}, {})
    assert (suggestion.kind, suggestion.suggested, suggestion.evidence["phrase"]) == (
        "record_level", "restricted public", "个人信息")
    assert suggest_for_record("r2", {"title": "Bus stops", "description": "Stops and routes.",
                                     "access_level": "public"}, {}) == []
    assert suggest_for_record("r3", {"title": "Staff", "description": "personal data", "access_level":
                                     "non-public"}, {}) == []


@pytest.mark.parametrize("name", ["first_name", "last_name", "Full Name", "lon", "gps_lat", "child_age"])
def test_names_with_prefixes_and_labels_are_read(name: str) -> None:
    column = ColumnInfo(name.lower().replace(" ", "_"), "VARCHAR", label=name)
    assert column_evidence(column, ["x", "y"]) is not None
