"""Lists that say when they are cut (issue 31): API and MCP lists are pages with `total` and `next`; the CLI's
`--json` lists keep their shape and say on stderr when they were cut (`register list` stopped at 100 silently)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import shapes
from assistant.cli import app
from core.errors import FieldError
from tests.unit.shells import STEWARD, ShellHome, shell_home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> ShellHome:
    return shell_home(tmp_path_factory.mktemp("pages"))


@pytest.mark.parametrize(("offset", "limit", "page", "total", "following"), [
    (0, 2, [0, 1], 5, 2), (2, 2, [2, 3], 5, 4), (4, 2, [4], 5, None), (5, 2, [], 5, None), (0, 5, [0, 1, 2, 3, 4], 5,
                                                                                         None)])
def test_a_window_says_how_many_and_where_the_next_page_starts(offset: int, limit: int, page: list[int], total: int,
                                                               following: int | None) -> None:
    found = shapes.page(shapes.window(list(range(5)), offset, limit), lambda n: {"n": n})
    assert found == {"results": [{"n": n} for n in page], "total": total, "offset": offset, "next": following}


def test_a_search_page_may_not_reach_past_the_deepest_result(home: ShellHome) -> None:
    services = home.services
    page = services.search_datasets_page("wage hour", k=5, offset=10, role=STEWARD)
    assert (page.offset, page.next, len(page.items)) == (10, 15, 5) and page.total == 42
    with pytest.raises(FieldError, match="offset \\+ k may be at most 50") as raised:
        services.search_datasets_page("wage hour", k=5, offset=46, role=STEWARD)
    assert raised.value.field == "offset"
    assert services.audit.recent(limit=1)[0].outcome.startswith("refused: offset 46")  # a receipt all the same
    with pytest.raises(FieldError) as raised:
        services.search_passages_page("digital", k=51, role=STEWARD)
    assert raised.value.field == "k"


def test_cli_json_lists_keep_their_shape_and_say_on_stderr_when_cut(home: ShellHome,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVDATA_HOME", str(home.services.settings.home))
    run = CliRunner().invoke
    cut = run(app, ["register", "list", "--limit", "3", "--json"])
    assert cut.exit_code == 0 and len(json.loads(cut.stdout)) == 3
    assert cut.stderr.strip() == "showing 3 of 44 entries; --limit shows more"  # 42 records and 2 tables
    whole = run(app, ["register", "list", "--limit", "100", "--json"])
    assert len(json.loads(whole.stdout)) == 44 and whole.stderr == ""
    receipts = run(app, ["audit", "list", "--limit", "2", "--json"])
    assert len(json.loads(receipts.stdout)) == 2 and "showing the newest 2 receipts" in receipts.stderr
    every = run(app, ["audit", "list", "--limit", "100000", "--json"])
    assert every.stderr == "" and len(json.loads(every.stdout)) == home.services.audit.verify().entries


def test_the_disclosure_report_counts_calls_by_interface(tmp_path: Path) -> None:
    from assistant.audit import Receipt
    from assistant.register import disclosure

    receipts = [Receipt("sql.run", f"token:t{n}", "citizen", interface=face, time="2026-11-02T10:00:00")
                for n, face in enumerate(["api"] * 6 + ["mcp"] * 5 + ["cli"] * 7)]
    assert disclosure.build(receipts, {}, 5)["by_interface"] == {"api": 6, "mcp": 5, "cli": 7}
