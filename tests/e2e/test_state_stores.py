"""Issue 34, store by store on a real PostgreSQL: migrations, the shared audit chain (concurrent appends from many
processes, tamper tests against the database rows), and each store's shared behaviour."""

import json
import multiprocessing
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest

from assistant.audit import AuditLog, Receipt, open_log
from assistant.policy.roles import NotAllowed
from core.errors import FieldError, GovDataError
from core.settings import Settings, StateSettings
from core.state import shared_state
from core.state.migrations import MIGRATIONS
from core.state.postgres import PostgresState
from tests.e2e.conftest import PostgresServer

if TYPE_CHECKING:
    from assistant.sql.service import SqlService
    from vectorstore.content import Contents

pytestmark = pytest.mark.e2e


def state_settings(postgres: PostgresServer, schema: str | None = None) -> StateSettings:
    return StateSettings(postgres_dsn=postgres.owner_dsn, postgres_password_env=postgres.password_env,
                         postgres_schema=schema or f"s_{uuid.uuid4().hex[:12]}")


def settings_on(home: Path, state: StateSettings, **more: object) -> Settings:
    return Settings(home=home, state=state, **more)  # type: ignore[arg-type]


def owner(state: StateSettings, postgres: PostgresServer) -> psycopg.Connection:
    """A plain connection of the owner login with the state's schema on its path: what someone with table access
    holds."""
    dsn = postgres.owner_dsn.replace("govdata_owner@", "govdata_owner:owner-secret@")
    return psycopg.connect(dsn, autocommit=True, options=f"-c search_path={state.postgres_schema}")


def _ask(log: AuditLog, n: int, who: str = "u") -> None:
    for i in range(n):
        log.append(Receipt("ask", who, "citizen", f"question {i}"))


# ---- migrations ----

def test_migrations_are_applied_once_and_recorded(postgres: PostgresServer) -> None:
    state = state_settings(postgres)
    opened = shared_state(state)
    assert opened is not None and opened.versions() == [m.version for m in MIGRATIONS]
    again = PostgresState(opened.dsn, state.postgres_schema)
    assert again.migrate() == [] and again.versions() == opened.versions()
    again.close()


def test_state_status_names_the_server_never_the_password(tmp_path: Path, postgres: PostgresServer) -> None:
    from assistant.services import Services

    assert Services(Settings(home=tmp_path / "e")).state_status()["backend"] == "embedded"
    state = state_settings(postgres)
    status = Services(settings_on(tmp_path / "s", state)).state_status()
    assert status["backend"] == "postgres" and status["schema"] == state.postgres_schema
    assert status["migrations"] == [m.version for m in MIGRATIONS] and "secret" not in json.dumps(status)
    assert "GOVDATA_CHROMA__URL" in status["warning"]


def test_concurrent_first_starts_migrate_once(postgres: PostgresServer) -> None:
    state = state_settings(postgres)
    dsn = state.postgres_dsn.replace("govdata_owner@", "govdata_owner:owner-secret@")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        applied = pool.starmap(_migrate, [(dsn, state.postgres_schema)] * 4)
    assert sorted(len(a) for a in applied) == [0, 0, 0, len(MIGRATIONS)]


def _migrate(dsn: str, schema: str) -> list[int]:
    return PostgresState(dsn, schema).migrate()


# ---- the audit chain ----

def test_the_chain_lives_in_postgres_and_verifies(tmp_path: Path, postgres: PostgresServer) -> None:
    state = state_settings(postgres)
    log = open_log(settings_on(tmp_path / "a", state))
    _ask(log, 3)
    assert not log.database.exists() and log.head_file.is_file()
    other = open_log(settings_on(tmp_path / "b", state))  # another host: no head file of its own yet
    result = other.verify()
    assert result.ok and result.entries == 3 and result.head_hash == log.head()["hash"]
    assert [r.id for r in other.recent(user="u")] == [3, 2, 1] and other.get(2).question == "question 1"
    now = other.get(3).time
    assert [r.id for r in other.recent(since=now)] == [3] and other.recent(since="2999-01-01") == []
    assert len(other.recent(since=now[:10], action="ask")) == 3 and other.recent(action="sql.run") == []
    assert other.export("jsonl").count("\n") == 3


def test_appends_from_many_processes_and_hosts_form_one_chain(tmp_path: Path, postgres: PostgresServer) -> None:
    state = state_settings(postgres)
    shared_state(state)
    jobs = [(str(tmp_path / f"host{n % 2}"), state.model_dump(), f"p{n}", 25) for n in range(4)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.starmap(_append_many, jobs)
    for host in ("host0", "host1"):
        result = open_log(settings_on(tmp_path / host, state)).verify()
        assert result.ok and result.entries == 100 and result.head_id == 100, result
    log = open_log(settings_on(tmp_path / "host0", state))
    assert sorted(len(log.recent(user=f"p{n}", limit=100)) for n in range(4)) == [25] * 4


def _append_many(home: str, state: dict[str, str], who: str, n: int) -> None:
    _ask(open_log(settings_on(Path(home), StateSettings(**state))), n, who)


def test_sql_cannot_change_or_remove_a_receipt_while_the_triggers_stand(tmp_path: Path,
                                                                        postgres: PostgresServer) -> None:
    state = state_settings(postgres)
    _ask(open_log(settings_on(tmp_path, state)), 2)
    with owner(state, postgres) as con:
        for sql in ("UPDATE receipts SET who = 'x'", "DELETE FROM receipts WHERE id = 1", "TRUNCATE receipts"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                con.execute(sql)


def _tampered(state: StateSettings, postgres: PostgresServer, *statements: str) -> None:
    """What someone with table access can do: switch the triggers off and edit."""
    with owner(state, postgres) as con:
        con.execute("ALTER TABLE receipts DISABLE TRIGGER USER")
        for sql in statements:
            con.execute(sql)


@pytest.mark.parametrize(("statements", "bad_id", "problem"), [
    (["DELETE FROM receipts WHERE id = 2"], 3, "entry 2 is missing"),
    (["UPDATE receipts SET body = replace(body, 'question 2', 'question X') WHERE id = 3"], 3, "was edited"),
    (["UPDATE receipts SET who = 'mallory' WHERE id = 4"], 4, "its user column differs"),
    (["DELETE FROM receipts WHERE id >= 4"], 4, "entries after 3 were removed"),
])
def test_an_edit_by_someone_with_table_access_is_caught(tmp_path: Path, postgres: PostgresServer,
                                                         statements: list[str], bad_id: int, problem: str) -> None:
    state = state_settings(postgres)
    _ask(open_log(settings_on(tmp_path / "a", state)), 5)
    _tampered(state, postgres, *statements)
    for home in ("a", "fresh"):  # the writing host (head file) and a host that only reads (head row)
        result = open_log(settings_on(tmp_path / home, state)).verify()
        assert not result.ok and result.first_bad_id == bad_id and problem in result.problem, (home, result)


def test_truncation_with_a_rewritten_head_row_is_caught_by_the_key_and_the_head_file(
        tmp_path: Path, postgres: PostgresServer) -> None:
    state, key_file = state_settings(postgres), tmp_path / "key"
    key_file.write_text("k" * 64)
    signed = settings_on(tmp_path / "a", state, audit={"key_file": key_file})
    _ask(open_log(signed), 5)
    _tampered(state, postgres, "DELETE FROM receipts WHERE id >= 4",
              "UPDATE audit_head SET id = 3, hash = (SELECT hash FROM receipts WHERE id = 3)")
    unsigned_fresh = open_log(settings_on(tmp_path / "fresh", state)).verify()
    assert unsigned_fresh.ok  # the limit: no key, no head file, nothing outside the database to compare
    by_key = open_log(settings_on(tmp_path / "fresh", state, audit={"key_file": key_file})).verify()
    assert not by_key.ok and "head row's signature does not match" in by_key.problem
    by_head_file = open_log(settings_on(tmp_path / "a", state)).verify()
    assert not by_head_file.ok and "entries after 3 were removed" in by_head_file.problem


def test_the_witness_file_receives_every_host_s_appends(tmp_path: Path, postgres: PostgresServer) -> None:
    state, witness = state_settings(postgres), tmp_path / "shared" / "witness.jsonl"
    for host in ("a", "b", "a"):
        _ask(open_log(settings_on(tmp_path / host, state, audit={"witness_file": witness})), 2)
    assert [json.loads(line)["id"] for line in witness.read_text().splitlines()] == [1, 2, 3, 4, 5, 6]
    _tampered(state, postgres, "DELETE FROM receipts WHERE id >= 5",
              "UPDATE audit_head SET id = 4, hash = (SELECT hash FROM receipts WHERE id = 4)")
    result = open_log(settings_on(tmp_path / "b", state, audit={"witness_file": witness})).verify()
    assert not result.ok and "entry 5 is missing" in result.problem


# ---- users, tokens and the register's decisions: any host answers any request ----

def test_a_user_disabled_on_one_host_is_refused_on_another_at_the_next_call(tmp_path: Path,
                                                                            postgres: PostgresServer) -> None:
    from types import SimpleNamespace

    from assistant.services import Services
    from assistant.ui.common import caller_of
    from assistant.ui.server import auth_for

    state = state_settings(postgres)
    host_a, host_b = (Services(settings_on(tmp_path / h, state), interface="ui") for h in ("a", "b"))
    host_a.add_organisation("transport", kind="department", contact="desk@transport.example", role="data_steward")
    added = host_a.add_user("ana", "civil_servant", password="long-enough-pw", org="transport", role="data_steward")
    assert added == {"name": "ana", "role": "civil_servant", "org": "transport", "disabled": False}
    assert host_b.organisation("ana") == "transport"  # the user's organisation is shared, and so are grants
    sign_in, request = auth_for(host_b), SimpleNamespace(username="ana")
    assert sign_in("ana", "long-enough-pw") and caller_of(host_b, request).role == "civil_servant"
    with pytest.raises(FieldError, match="never reused"):
        host_b.add_user("ana", "citizen", password="another-long-pw", role="data_steward")
    assert host_a.disable_user("ana", role="data_steward")["disabled"] is True
    assert not sign_in("ana", "long-enough-pw")
    with pytest.raises(GovDataError, match="may no longer use this app"):
        caller_of(host_b, request)
    assert host_b.organisation("ana") == ""  # a disabled user's grants no longer reach them
    assert [(u["name"], u["org"], u["disabled"]) for u in host_b.list_users(role="data_steward")] == \
        [("ana", "transport", True)]
    host_b.set_user_enabled("ana", enabled=True, role="data_steward")
    assert caller_of(host_a, request).role == "civil_servant"
    with pytest.raises(NotAllowed):
        host_a.list_users(role="citizen")
    actions = [r.action for r in host_b.audit.recent(limit=10)]
    assert actions.count("users.manage") == 6  # add, the refused add, disable, list, enable, the refused list
    assert not (tmp_path / "a" / "users.json").exists() and not (tmp_path / "b" / "users.json").exists()


def test_a_grant_made_or_revoked_on_one_host_holds_on_another(tmp_path: Path, postgres: PostgresServer) -> None:
    from assistant.policy.grants import Grant, changed, with_grant
    from assistant.services import Services

    state = state_settings(postgres)
    host_a, host_b = (Services(settings_on(tmp_path / h, state)) for h in ("a", "b"))
    host_a.add_organisation("transit-co", kind="operator", contact="ops@transit.example", role="data_steward")
    host_b.add_user("olu", "operator", password="long-enough-pw", org="transit-co", role="data_steward")
    grant = Grant("g0001", "transit-co", "dataset", "permits", "route planning", "2026-01-01", "2099-12-31",
                  "ops@transit.example", columns=("kind",))
    host_a.grant_file.change(lambda book: with_grant(book, grant))
    assert [g.id for g in host_b._grants("olu")] == ["g0001"]
    host_b.grant_file.change(lambda book: with_grant(book, changed(book.grant("g0001"), "sam", "revoked",
                                                                   status="revoked")))
    assert host_a._grants("olu") == ()  # the revocation on B holds on A at the next call
    with pytest.raises(FieldError, match="exists"):
        host_b.add_organisation("transit-co", kind="operator", contact="x@example.org", role="data_steward")
    with pytest.raises(FieldError):  # an edit that raises writes nothing
        host_a.grant_file.change(lambda book: with_grant(book, book.grant("g9999")))
    assert [(g.id, g.status, g.version) for g in host_a.grant_file.book().grants.values()] == [("g0001", "revoked", 2)]
    assert not (tmp_path / "a" / "grants.json").exists() and not (tmp_path / "b" / "grants.json").exists()


def test_users_are_managed_in_the_users_file_when_embedded(tmp_path: Path) -> None:
    from assistant.services import Services

    services = Services(Settings(home=tmp_path))
    services.add_user("ana", "civil_servant", password="long-enough-pw", role="data_steward")
    assert (tmp_path / "users.json").is_file()  # the first add makes GOVDATA_HOME/users.json (issue 33)
    assert services.disable_user("ana", role="data_steward")["disabled"] is True
    assert services.set_user_enabled("ana", enabled=True, role="data_steward")["disabled"] is False
    assert [u["name"] for u in services.list_users(role="data_steward")] == ["ana"]


def test_a_token_made_or_revoked_on_one_host_holds_on_another(tmp_path: Path, postgres: PostgresServer) -> None:
    from assistant.policy.tokens import Unauthorized
    from assistant.services import Services

    state = state_settings(postgres)
    host_a, host_b = (Services(settings_on(tmp_path / h, state)) for h in ("a", "b"))
    _, secret = host_a.create_token("robot", "citizen", role="data_steward")
    assert host_b.authenticate(f"Bearer {secret}").user == "token:robot"
    with pytest.raises(FieldError, match="never reused"):
        host_b.create_token("robot", "citizen", role="data_steward")
    host_b.revoke_token("robot", role="data_steward")
    with pytest.raises(Unauthorized, match="revoked"):
        host_a.authenticate(f"Bearer {secret}")
    assert not (tmp_path / "a" / "tokens.json").exists()


def test_a_decision_taken_on_one_host_holds_on_another(tmp_path: Path, postgres: PostgresServer) -> None:
    from assistant.register.grading import Suggestion, decisions_of, record_levels
    from assistant.register.held import HELD_KIND, released_passages

    state = state_settings(postgres)
    on_a, on_b = (decisions_of(settings_on(tmp_path / h, state)) for h in ("a", "b"))
    level = Suggestion("g1", "rec-1", "record_level", "public", "restricted public")
    on_a.record(level, "rejected", "ana", "data_steward")
    on_a.record(Suggestion("held:p1", "p1", HELD_KIND, "held", "released"), "released", "ana", "data_steward")
    on_b.record(level, "accepted", "bo", "data_steward")
    assert on_a.statuses() == {"held:p1": "released", "g1": "accepted"}  # the newest last
    assert record_levels(on_a) == {"rec-1": "restricted public"} and released_passages(on_b) == ("p1",)
    assert not (tmp_path / "a" / "register").exists()


# ---- approved tables: a table added on one host is queryable on another ----

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _sql_host(home: Path, state: StateSettings, postgres: PostgresServer, schema: str) -> "SqlService":
    from assistant.sql.service import SqlService
    from core.settings import SqlSettings

    sql = SqlSettings(engine="postgres", postgres_dsn=postgres.owner_dsn, postgres_password_env=postgres.password_env,
                      postgres_reader_dsn=postgres.reader_dsn, postgres_schema=schema)
    return SqlService(settings_on(home, state, sql=sql), lambda: None,  # type: ignore[arg-type,return-value]
                      lambda texts: None, lambda paths: None)  # type: ignore[arg-type,return-value]


def test_a_table_added_on_one_host_is_queryable_on_another(tmp_path: Path, postgres: PostgresServer) -> None:
    state, schema = state_settings(postgres), f"t_{uuid.uuid4().hex[:10]}"
    host_a, host_b = (_sql_host(tmp_path / h, state, postgres, schema) for h in ("a", "b"))
    host_a.add(FIXTURES / "sql" / "permits.csv", name=None, access_level=None,
               describe=FIXTURES / "sql" / "permits.describe.json")
    assert not (tmp_path / "b" / "sql" / "registry.json").exists()
    query = 'SELECT "Kind", count(*) AS n, sum("Fee") AS fees FROM permits GROUP BY 1 ORDER BY 1'
    on_b = host_b.run(query, role="data_steward")
    assert on_b.rows == host_a.run(query, role="data_steward").rows and on_b.rows
    assert host_b.approved.database.is_file()  # this host's copy, pulled for value hints and profiles
    citizen = host_b.run('SELECT "Kind", "Phone" FROM permits', role="civil_servant")
    assert {row[1] for row in citizen.rows} == {"***"}  # the profile's mask holds on the pulled copy
    from assistant.sql.knowledge import KnowledgeItem

    host_a.curation.propose(KnowledgeItem("", "pair", question="fees by kind", sql=query), "data_steward", "ana")
    host_b.curation.propose(KnowledgeItem("", "pair", question="permits", sql="SELECT count(*) FROM permits"),
                            "data_steward", "bo")  # the next id: both hosts' items in one list
    host_b.curation.review("k1", approve=True, user="bo", role="data_steward")
    assert [(i.id, i.question, i.status) for i in host_a.knowledge.items()] == \
        [("k1", "fees by kind", "approved"), ("k2", "permits", "proposed")]
    assert not (tmp_path / "a" / "sql" / "knowledge.json").exists()
    host_b.add(FIXTURES / "register" / "applicants.csv", name=None, access_level=None, describe=None)
    assert [t.name for t in host_a.approved.tables()] == ["applicants", "permits"]
    assert host_a.run("SELECT count(*) FROM applicants", role="data_steward").rows == \
        host_b.run("SELECT count(*) FROM applicants", role="data_steward").rows


def test_shared_state_needs_the_postgres_engine_for_tables(tmp_path: Path, postgres: PostgresServer) -> None:
    from assistant.sql.service import SqlService
    service = SqlService(settings_on(tmp_path, state_settings(postgres)), lambda: None,  # type: ignore[arg-type,return-value]
                         lambda texts: None, lambda paths: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(GovDataError, match="GOVDATA_SQL__ENGINE=postgres"):
        service.add(FIXTURES / "sql" / "permits.csv", name=None, access_level=None, describe=None)
    assert service.approved.tables() == []


# ---- the content table and the keyword index ----

def _exercise(contents: "Contents") -> list[object]:
    """The same calls on either content table; what each returns."""
    seen: list[object] = [contents.generation("passages")]
    contents.upsert("passages", ["b", "a", "c"], ["第二 段落", "first passage", "held text"],
                    [{"n": 2, "title": "二"}, {"n": 1}, {"held": True, "n": 3}])
    contents.upsert("datasets", ["a"], ["a dataset"], [{"publisher": "X"}])
    contents.upsert("passages", ["a"], ["first passage, edited"], [{"n": 1, "v": 2}])
    contents.save_tokens("passages", {"b": "第二 段落"})
    seen += [contents.generation("passages"), contents.all_rows("passages"), contents.payloads("passages"),
             contents.flagged("passages", "held"), contents.get("passages", ["a", "c", "zz"])]
    contents.delete("passages", ["c"])
    seen += [contents.generation("passages"), contents.all_rows("passages"), contents.all_rows("datasets")]
    return seen


def test_the_shared_content_table_answers_like_the_embedded_one(tmp_path: Path, postgres: PostgresServer) -> None:
    from vectorstore.content import ContentStore, PostgresContents

    state = shared_state(state_settings(postgres))
    assert state is not None
    assert _exercise(PostgresContents(state)) == _exercise(ContentStore(tmp_path / "contents.sqlite"))


def test_a_record_written_on_one_host_is_in_the_other_host_s_keyword_index(tmp_path: Path,
                                                                           postgres: PostgresServer) -> None:
    from vectorstore.content import PostgresContents
    from vectorstore.keyword import KeywordIndexes

    state = shared_state(state_settings(postgres))
    assert state is not None
    host_a, host_b = PostgresContents(state), PostgresContents(state)
    index_b = KeywordIndexes(host_b, tmp_path / "b" / "bm25")
    host_a.upsert("datasets", ["r1"], ["air quality 空气质量"], [{"access_level": "public"}])
    assert index_b.get("datasets").bm25.ids == ["r1"]
    host_a.upsert("datasets", ["r2"], ["water quality"], [{"access_level": "public"}])
    assert index_b.get("datasets").bm25.ids == ["r1", "r2"]  # the shared generation moved: rebuilt at once


# ---- govdata state migrate --to postgres ----

def test_an_embedded_home_moves_into_the_shared_state_once(tmp_path: Path, postgres: PostgresServer) -> None:
    from assistant.policy.users import hash_password
    from assistant.register.grading import Decisions, Suggestion, decisions_of, decisions_path
    from assistant.services import Services
    from assistant.statecopy import _copy_rows
    from core.settings import SqlSettings
    from vectorstore.content import ContentStore, PostgresContents

    home, schema = tmp_path / "home", f"t_{uuid.uuid4().hex[:10]}"
    users_file = tmp_path / "users.json"
    salt, digest = hash_password("ana-password")
    users_file.write_text(json.dumps({"ana": {"role": "civil_servant", "salt": salt, "password_hash": digest},
                                      "bo": {"role": "operator", "salt": salt, "password_hash": digest,
                                             "org": "buses", "disabled": True}}))
    sql = SqlSettings(engine="postgres", postgres_dsn=postgres.owner_dsn, postgres_password_env=postgres.password_env,
                      postgres_reader_dsn=postgres.reader_dsn, postgres_schema=schema)
    embedded = Settings(home=home, users_file=users_file, sql=sql)
    steward = Services(embedded)
    steward.sql.add(FIXTURES / "sql" / "permits.csv", name=None, access_level=None, describe=None)
    _, secret = steward.create_token("robot", "citizen", role="data_steward")
    counted = steward.sql_run('SELECT count(*) FROM permits', role="data_steward").rows
    (home / "sql" / "examples.jsonl").write_text(json.dumps(  # `sql learn` before issue 32: read as knowledge
        {"question": "how many permits", "sql": "SELECT count(*) FROM permits", "tables": ["permits"]}) + "\n")
    Decisions(decisions_path(home)).record(Suggestion("g1", "r1", "record_level", "public", "non-public"),
                                           "accepted", "ana", "data_steward")
    steward.add_organisation("buses", kind="operator", contact="ops@buses.example", role="data_steward")
    contents = ContentStore(embedded.chroma_path / "contents.sqlite")
    contents.upsert("datasets", [f"r{n}" for n in range(5)], [f"record {n}" for n in range(5)],
                    [{"n": n} for n in range(5)])
    contents.close()
    receipts = steward.audit.verify().entries

    state = state_settings(postgres)
    shared = Settings(home=home, users_file=users_file, sql=sql, state=state)
    opened = shared_state(state)
    assert opened is not None
    _copy_rows(opened, "datasets", [("r0", "record 0", None, {"n": 0})])  # an earlier run stopped after one batch
    report = Services(shared).migrate_state()
    assert report.copied == {"audit": receipts, "users": 2, "tokens": 1, "decisions": 1, "approved_tables": 1,
                             "knowledge": 1, "grants": 1, "sdc_key": 1, "contents": 5}
    # contents: r1..r4 and the permits catalog record; r0 was there
    assert report.verification is not None and report.verification.ok
    assert report.verification.entries == receipts
    again = Services(shared).migrate_state()
    assert set(again.copied.values()) == {0} and again.verification is not None and again.verification.ok

    other = Services(settings_on(tmp_path / "other", state, sql=sql))  # another host, nothing of its own
    assert other.authenticate(f"Bearer {secret}").user == "token:robot"
    assert other.sql_run('SELECT count(*) FROM permits', role="data_steward").rows == counted
    assert other.list_users(role="data_steward") == [
        {"name": "ana", "role": "civil_servant", "org": "", "disabled": False},
        {"name": "bo", "role": "operator", "org": "buses", "disabled": True}]
    assert other.audit.verify().ok and other.audit.verify().entries == receipts + 2  # sql.run, users.manage
    assert decisions_of(other.settings).statuses() == {"g1": "accepted"}
    assert [(i.question, i.status) for i in other.sql.knowledge.items()] == [("how many permits", "approved")]
    assert list(other.grant_file.book().organisations) == ["buses"]
    assert other.sql.sdc_secret == bytes.fromhex((home / "sql" / "sdc.key").read_text().strip())  # one key
    assert [row[0] for row in PostgresContents(opened).all_rows("datasets")] == \
        [row[0] for row in ContentStore(embedded.chroma_path / "contents.sqlite").all_rows("datasets")]


def test_migration_refuses_a_chain_that_does_not_verify(tmp_path: Path, postgres: PostgresServer) -> None:
    from assistant.services import Services

    home = tmp_path / "home"
    log = AuditLog(home / "audit")
    _ask(log, 3)
    log.head_file.unlink()
    with pytest.raises(GovDataError, match="embedded audit chain does not verify"):
        Services(settings_on(home, state_settings(postgres))).migrate_state()
