"""Issue 26, item 7: a steward's verified example reaches only the prompts of roles that may read every table
and column it names (a masked column does not count), with personal data in its words masked for roles that
mask it. A scripted chat model over real DuckDB tables."""

from pathlib import Path

import pytest

from assistant.sql.examples import VerifiedExample, readable_by
from assistant.sql.generate import SqlGenerator
from assistant.sql.guard import Approval, SqlGuard, TableAccess
from assistant.sql.service import SqlService
from core.settings import Settings
from tests.unit.scripted_model import ScriptedModel, reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql"
SENSITIVE = ("What is Wang Fang's phone number?", "SELECT applicant_name, phone FROM permits WHERE permit_id = 1")
STAR = ("Everything about Zhang Wei's permit?", "SELECT * FROM permits WHERE permit_id = 3")
PLAIN = ("Fees by kind, as asked by wang.fang@example.org?", "SELECT kind, sum(fee) FROM permits GROUP BY kind")


@pytest.fixture
def svc(tmp_path: Path) -> SqlService:
    """Permits at the public level: a citizen has the table with its applicant name and phone denied, a civil
    servant has them masked, a steward has them raw. The steward has verified three examples."""
    settings = Settings(home=tmp_path / "home")
    model = ScriptedModel(replies=[])
    service = SqlService(settings, lambda: model, lambda texts: None, lambda paths: None)  # type: ignore[arg-type]
    service.approved.add(FIXTURES / "permits.csv", describe=FIXTURES / "permits.describe.json", access_level="public")
    service._generator = SqlGenerator(model, settings.sql, "none", None)
    for question, sql in (SENSITIVE, STAR, PLAIN):
        service.learn(question, sql, "data_steward")
    return service


def _prompt(svc: SqlService, role: str) -> str:
    """Every message the model was shown for one question asked as ROLE."""
    model = svc.generator.chat_model
    assert isinstance(model, ScriptedModel)
    model.replies, model.seen = [reply("SELECT kind, count(*) AS n FROM permits GROUP BY kind")] * 3, []
    answer = svc.ask("How many permits of each kind?", role=role)
    assert answer.error is None
    return "\n".join(str(m.content) for m in model.seen[0])


@pytest.mark.parametrize("role", ["citizen", "civil_servant"])
def test_examples_on_denied_or_masked_columns_never_reach_the_prompt(svc: SqlService, role: str) -> None:
    """Before the fix examples were picked by table only: "Wang Fang", "Zhang Wei" and the SQL reached both."""
    prompt = _prompt(svc, role)
    for question, sql in (SENSITIVE, STAR):
        assert question not in prompt and sql not in prompt
    assert "Wang Fang" not in prompt and "Zhang Wei" not in prompt
    assert "Fees by kind" in prompt and PLAIN[1] in prompt  # an example on what the role may read stays
    assert "wang.fang@example.org" not in prompt  # its words are masked for roles that mask personal data


def test_a_steward_still_gets_every_example_raw(svc: SqlService) -> None:
    prompt = _prompt(svc, "data_steward")
    for question, sql in (SENSITIVE, STAR, PLAIN):
        assert question in prompt and sql in prompt


def test_readable_by_needs_every_table_and_only_unmasked_readable_columns() -> None:
    approval = Approval.of([TableAccess("people", {"id": "INTEGER", "name": "VARCHAR", "ssn": "VARCHAR",
                                                   "city": "VARCHAR"}, masked=frozenset({"name"}),
                            denied=frozenset({"ssn"}))])
    examples = [VerifiedExample("cities", "SELECT city, count(*) FROM people GROUP BY city", ("people",)),
                VerifiedExample("ssn", "SELECT id, ssn FROM people", ("people",)),
                VerifiedExample("name", "SELECT name FROM people WHERE id = 1", ("people",)),
                VerifiedExample("star", "SELECT * FROM people", ("people",)),
                VerifiedExample("join", "SELECT p.city FROM people p JOIN salaries s ON s.id = p.id",
                                ("people", "salaries")),
                VerifiedExample("broken", "DROP TABLE people", ("people",))]
    assert [e.question for e in readable_by(examples, approval, SqlGuard())] == ["cities"]
