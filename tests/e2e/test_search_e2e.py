"""Issue 28 on the real stack (bundled embedding model, real Chroma, the CLI in a subprocess): a Chinese need finds
an English record through its English reading and says why; a need no record answers gets nothing — `[]` in the
CLI's JSON, "No dataset matches" with where to look in its text, the Find datasets page and the Ask tab's
catalog route."""

from pathlib import Path

import pytest

from assistant.services import Services
from assistant.ui import ask as ask_tab
from assistant.ui import datasets as datasets_tab
from assistant.ui.common import Caller
from core.settings import Settings
from tests.e2e.conftest import govdata

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.e2e.conftest import FIXTURES

    home = tmp_path_factory.mktemp("search") / "home"
    ingested = govdata(home, "ingest", str(FIXTURES / "catalogs"))
    assert ingested.code == 0, ingested.stderr
    return home


def test_a_chinese_need_finds_an_english_record_and_says_why(home: Path) -> None:
    found = govdata(home, "datasets", "search", "托儿费用全国数据库", "--k", "5", "--json")
    assert found.code == 0, found.stderr
    records = found.json()
    assert isinstance(records, list)
    childcare = [r for r in records if "Childcare Prices" in r["title"]]
    assert childcare and any("→" in word for word in childcare[0]["matched"])  # e.g. 托儿 → childcare


def test_a_need_no_record_answers_gets_nothing_everywhere(home: Path) -> None:
    nothing = govdata(home, "datasets", "search", "qzxv wplmr snarfle", "--json")
    assert nothing.code == 0 and nothing.json() == []
    text = govdata(home, "datasets", "search", "qzxv wplmr snarfle")
    assert text.code == 0 and text.stdout.startswith("No dataset matches this need.")
    services = Services(Settings(home=home), interface="ui")
    caller = Caller("ana", "citizen")
    cards, _, _ = datasets_tab.find(services, caller, "qzxv wplmr snarfle", "", "", "", "", "en")
    assert "No dataset matches this need." in cards
    *_, last = ask_tab.ask(services, caller, "qzxv wplmr snarfle", [], "datasets", "en", [])
    assert "No dataset matches this need." in last[0][-1]["content"]
