"""Issue 35: disclosure control holds on every route — Services (CLI, web, API and MCP call it), the model's SQL,
the workbench's table, chart and CSV, `sql check`, replays — and is shown honestly: receipts say which rules acted,
the disclosure report counts suppressions, the caller never learns how many groups were hidden."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.policy.roles import load_roles
from assistant.services import Services
from assistant.sql import sdc
from assistant.sql.guard import GuardedQuery
from assistant.sql.runner import SqlResult
from assistant.sql.sdc_rewrite import SdcRefused, SdcTable
from assistant.sql.sdc_runner import SdcPolicy, SdcRunner
from assistant.ui import workbench
from assistant.ui.common import Caller
from core.errors import FieldError, GovDataError
from core.settings import Settings
from tests.unit.scripted_model import ScriptedModel, explained, reply
from tests.unit.sdc_people import UNIQUE, write_clinic

AGGREGATE = "SELECT ward, count(*) AS n, avg(income) AS a FROM people GROUP BY ward ORDER BY ward"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = write_clinic(tmp_path / "data", count=600)
    monkeypatch.setenv("GOVDATA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOVDATA_USER", "tester")
    services = Services(Settings())
    services.sql.approved.add(data.people, name="people", describe=data.describe)
    services.sql.approved.add(data.wards, name="wards")
    return tmp_path


def test_services_protect_rows_for_citizens_and_civil_servants_not_stewards(home: Path) -> None:
    services = Services(Settings(), interface="ui")
    for role in ("citizen", "civil_servant"):
        result = services.sql_run(AGGREGATE, role=role, user="ana")
        assert result.sdc is not None and "hidden_groups" not in result.sdc  # the caller sees the public part
        assert any(sdc.is_suppressed(row[2]) for row in result.rows)  # hill's mean: one income dominates
        with pytest.raises(GovDataError, match="disclosure control"):
            services.sql_run("SELECT ward, income FROM people", role=role, user="ana")
    steward = services.sql_run("SELECT ward, income FROM people ORDER BY person_id LIMIT 2", role="data_steward")
    assert steward.sdc is None and steward.row_count == 2


def test_receipts_record_which_rules_acted_and_the_report_counts_them(home: Path) -> None:
    services = Services(Settings())
    services.sql_run(AGGREGATE, role="citizen", user="ana")
    services.sql_run("SELECT ward, age, count(*) AS n FROM people GROUP BY ROLLUP (ward, age)", role="citizen",
                     user="ana")  # one grouping set's small groups never leave the engine; a ROLLUP's are counted
    with pytest.raises(GovDataError):
        services.sql_run("SELECT * FROM people", role="citizen", user="ana")
    receipts = sorted(services.audit.recent(action="sql.run"), key=lambda r: r.id)
    first, second, refused = receipts
    assert first.sdc["rules"] == ["threshold", "dominance", "cell-key"] and first.sdc["dominance_cells"] >= 1
    assert second.sdc["hidden_groups"] > 0  # the steward's receipt knows what the caller was not told
    assert refused.outcome.startswith("refused: disclosure control")
    assert services.audit.verify().ok
    report = services.disclose(role="data_steward")
    control = report["disclosure_control"]
    assert control["people"]["protected_results"] == "<5"  # counts below the report's threshold stay hidden
    assert set(control["people"]) == {"protected_results", "threshold_cells", "dominance_cells", "secondary",
                                      "hidden_groups"}
    assert "refused_queries" in control["(refused)"]


def test_each_user_gets_a_daily_number_of_protected_answers(home: Path) -> None:
    services = Services(Settings(sdc={"daily_queries": 2}))  # type: ignore[arg-type]
    for _ in range(2):
        services.sql_run(AGGREGATE, role="citizen", user="ana")
    with pytest.raises(GovDataError, match="daily limit"):
        services.sql_run(AGGREGATE, role="citizen", user="ana")
    assert services.sql_run(AGGREGATE, role="citizen", user="bo").sdc is not None  # per user
    assert services.sql_run("SELECT region, count(*) AS n FROM wards GROUP BY region", role="citizen",
                            user="ana").sdc is None  # answers that need no protection are not counted
    assert services.sql_run("SELECT count(*) AS n FROM people", role="data_steward", user="ana").row_count == 1
    assert services.audit.recent(action="sql.run", limit=4)[-1].outcome.startswith("refused: disclosure control")


def test_check_says_what_disclosure_control_allows(home: Path) -> None:
    services = Services(Settings())
    allowed = services.sql_check(AGGREGATE, role="citizen")
    assert allowed.allowed and "disclosure control" in allowed.reason
    refused = services.sql_check("SELECT name, income FROM people", role="civil_servant")
    assert not refused.allowed and refused.reason.startswith("disclosure control:")
    assert services.sql_check("SELECT name, income FROM people", role="data_steward").allowed


def test_the_models_row_level_sql_is_refused_and_fixed_into_an_aggregate(home: Path) -> None:
    model = ScriptedModel(replies=[reply(f"SELECT age, diagnosis FROM people WHERE person_id = {UNIQUE['person_id']}"),
                                   reply("SELECT diagnosis, count(*) AS n FROM people GROUP BY diagnosis"),
                                   explained("Counts patients by diagnosis.")])
    services = Services(Settings(sql={"value_hints": False, "schema_style": "ddl"}))  # type: ignore[arg-type]
    services._chat_model = model
    answer = services.sql_ask("What is Hester Quayle's diagnosis?", role="citizen", user="ana")
    assert answer.error is None and answer.columns == ["diagnosis", "n"] and answer.sdc is not None
    assert "tuberculosis" not in json.dumps(answer.rows)  # one person: not shown
    retry = model.seen[1][-1].content
    assert "disclosure control" in str(retry) and "count" in str(retry)
    prompt = json.dumps([m.content for m in model.seen[0]])
    assert "rows from wards" in prompt and "rows from people" not in prompt  # no row of the table reaches it
    assert "100000000" not in prompt  # nor its min..max
    # the plain prompt asked after three refusals sees no row of the table either, and its SQL is refused too
    only_rows = ScriptedModel(replies=[reply("SELECT ward, age FROM people")] * 3 + ["SELECT ward, age FROM people"])
    services._chat_model, services.sql._generator = only_rows, None
    refused = services.sql_ask("List the patients", role="citizen", user="ana")
    assert refused.error is not None and "disclosure control" in refused.error and refused.rows == []
    plain = str(only_rows.seen[3][-1].content)
    assert len(only_rows.seen) == 4 and "CREATE TABLE people" in plain and "rows from people" not in plain


def test_worked_examples_the_role_could_not_run_are_not_shown_to_the_model(home: Path) -> None:
    service = Services(Settings()).sql
    context = service.role_context("citizen")
    assert not service._sdc_allows(context, "SELECT ward, age FROM people")
    assert service._sdc_allows(context, "SELECT ward, count(*) AS n FROM people GROUP BY ward")


def test_the_workbench_table_chart_and_csv_show_protected_rows(home: Path) -> None:
    services = Services(Settings(), interface="ui")
    outputs = workbench.run(services, Caller("ana", "citizen"), AGGREGATE, "en")
    note, state, csv_path = outputs[0], outputs[1], outputs[-1]
    assert "Disclosure control" in note
    assert state["rows"] and any(sdc.is_suppressed(row[2]) for row in state["rows"])
    text = Path(csv_path).read_text(encoding="utf-8")
    assert "hill" in text and "suppressed (one or two people make up most of it)" in text
    plots = workbench.charts(state, "bar", "ward", "a")
    assert any(getattr(p, "get", lambda *_: None)("visible") for p in plots)  # the chart draws, gaps and all
    zh = workbench.run(services, Caller("ana", "citizen"), AGGREGATE, "zh")[0]
    assert "统计披露控制" in zh


def test_the_cli_shows_the_note_and_json_without_hidden_counts(home: Path) -> None:
    result = CliRunner().invoke(app, ["sql", "run", AGGREGATE, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["sdc"]["rules"] and "hidden_groups" not in payload["sdc"]
    refused = CliRunner().invoke(app, ["sql", "run", "SELECT ward, age FROM people"])
    assert refused.exit_code == 1 and "disclosure control" in f"{refused.output} {refused.exception}"


def test_a_replay_gives_the_same_protected_answer(home: Path) -> None:
    services = Services(Settings())
    ran = services.sql_run(AGGREGATE, role="citizen", user="ana")
    replayed = services.audit_replay(int(ran.receipt_id or 0), role="data_steward")
    assert replayed["status"] == "same", replayed


def test_an_accepted_unit_suggestion_protects_the_table_at_once(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    data = write_clinic(tmp_path / "data", count=300)
    plain = tmp_path / "data" / "plain.describe.json"
    plain.write_text(json.dumps({"columns": {"name": {"sensitive": True}}}))
    monkeypatch.setenv("GOVDATA_USER", "steward")
    services = Services(Settings(home=tmp_path / "home"))
    services.sql.approved.add(data.people, name="people", describe=plain)
    assert services.sql_run("SELECT ward, income FROM people LIMIT 1", role="citizen").row_count == 1  # before
    suggestion = next(s for s in services.register_grade("people", role="data_steward") if s.kind == "table_unit")
    assert suggestion.suggested == "person:person_id" and suggestion.current == "none"
    services.register_decide("people", suggestion.id, accept=True, role="data_steward")
    with pytest.raises(GovDataError, match="disclosure control"):
        services.sql_run("SELECT ward, income FROM people LIMIT 1", role="citizen")
    assert services.sql_run("SELECT count(*) AS n FROM people", role="citizen").sdc is not None
    assert services.sql.approved.tables()[0].unit_column == "person_id"


def test_the_describe_file_declares_the_unit(tmp_path: Path) -> None:
    data = write_clinic(tmp_path / "data", count=50)
    services = Services(Settings(home=tmp_path / "home"))
    [table] = services.sql.approved.add(data.people, name="people", describe=data.describe)[0]
    assert (table.unit, table.unit_column, table.k) == ("person", "person_id", 0)
    for bad, problem in (({"unit": "pet"}, "unit"), ({"unit_column": "person_id"}, "needs"),
                         ({"unit": "person", "k": 1}, "k"), ({"unit": "person", "unit_column": "nope"}, "nope")):
        path = tmp_path / "bad.describe.json"
        path.write_text(json.dumps(bad))
        with pytest.raises((FieldError, GovDataError), match=problem):
            services.sql.approved.add(data.people, name="people2", describe=path)


def test_a_table_k_overrides_the_setting(tmp_path: Path) -> None:
    data = write_clinic(tmp_path / "data", count=400)
    describe = tmp_path / "data" / "k.describe.json"
    describe.write_text(json.dumps({"unit": "person", "unit_column": "person_id", "k": 50}))
    services = Services(Settings(home=tmp_path / "home"))
    services.sql.approved.add(data.people, name="people", describe=describe)
    rows = services.sql_run("SELECT ward, count(*) AS n FROM people GROUP BY ward", role="citizen").rows
    assert rows and all(n >= 50 - 4 for _, n in rows)  # wards of fewer than 50 people are not shown
    assert "fewer than 50" in services.sql_run("SELECT count(*) AS n FROM people WHERE ward = 'park'",
                                               role="citizen").rows[0][0]


def test_roles_without_microdata_keep_safe_defaults(tmp_path: Path) -> None:
    path = tmp_path / "roles.json"
    path.write_text(json.dumps({"citizen": {"access_levels": ["public"]},
                                "data_steward": {"access_levels": ["public"], "sensitive_columns": "allow"}}))
    roles = load_roles(path)
    assert roles["citizen"].microdata == "deny" and roles["data_steward"].microdata == "allow"
    path.write_text(json.dumps({"citizen": {"access_levels": ["public"], "microdata": "sometimes"}}))
    load_roles.cache_clear()
    with pytest.raises(GovDataError, match="microdata"):
        load_roles(path)


class _Rows:
    def __init__(self) -> None:
        self.ran: list[GuardedQuery] = []

    def run(self, query: GuardedQuery) -> SqlResult:
        self.ran.append(query)
        return SqlResult(query.sql, ["x"], [], 0, False, 0.0)


def test_postgresql_is_refused_for_tables_about_people_and_other_queries_pass() -> None:
    policy = SdcPolicy({"people": SdcTable("people", "person", 5)}, sdc.SdcRules(), b"k" * 32)
    inner = _Rows()
    runner = SdcRunner(inner, policy, postgres=True)
    with pytest.raises(SdcRefused, match="DuckDB only"):
        runner.run(GuardedQuery("SELECT count(*) AS n FROM people AS people LIMIT 10", ("people",)))
    other = GuardedQuery("SELECT ward FROM wards AS wards LIMIT 10", ("wards",))
    assert runner.run(other).sql == other.sql and inner.ran == [other]


def test_a_value_in_a_table_about_people_is_never_looked_up_for_a_protected_role(home: Path) -> None:
    """The spelling repair (and value hints) look values up only outside disclosure control: a spelling found in
    people would tell that someone in that ward is in the table; in wards 'HARBOUR' is respelled."""
    from assistant.sql.generate import _readable

    services = Services(Settings(sql={"respell_values": True}))  # type: ignore[arg-type]
    readable = _readable(services.sql.role_context("citizen"))
    assert not readable("people", "ward") and readable("wards", "ward")
    services._chat_model = ScriptedModel(replies=[reply("SELECT region FROM wards WHERE ward = 'HARBOUR'")])
    wards = services.sql_ask("Which region is Harbour in?", role="citizen", user="ana")
    assert wards.rows == [["coast"]] and "'harbour'" in wards.sql
