"""The web app in a real browser: Debian's Chromium driven by Playwright against `govdata serve`."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import FIXTURES, govdata

pytestmark = pytest.mark.e2e
CHROMIUM = os.environ.get("GOVDATA_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("app-home")
    assert govdata(home, "ingest", str(FIXTURES / "catalogs"), str(FIXTURES / "docs")).code == 0
    sql = FIXTURES / "sql"
    assert govdata(home, "datasets", "add", str(sql / "permits.csv"), "--describe", str(sql / "permits.describe.json"),
                   "--access-level", "restricted public").code == 0
    assert govdata(home, "datasets", "add", str(sql / "datapackage" / "datapackage.json")).code == 0
    port = _free_port()
    env = {**os.environ, "GOVDATA_HOME": str(home), "OMP_WAIT_POLICY": "PASSIVE"}
    process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else "server died"
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (the Makefile does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def sign_in(browser: object, url: str, user: str, password: str) -> object:
    page = browser.new_context().new_page()  # type: ignore[attr-defined]
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.locator("#whoami strong").first.wait_for(timeout=30_000)
    return page


def test_citizen_finds_a_dataset_by_a_chinese_description_and_never_a_restricted_one(browser: object,
                                                                                     server: str) -> None:
    page = sign_in(browser, server, "citizen", "citizen-demo")
    assert "role: citizen" in page.locator("#whoami").inner_text()
    page.get_by_role("tab", name="Find datasets / 找数据").click()
    page.locator("#dataset-query textarea").fill("城市空气质量 PM2.5 年均值")
    page.locator("#dataset-search").click()
    results = page.locator("#dataset-results")
    results.get_by_text("City air quality (fixture)").wait_for(timeout=60_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "find-datasets.png"), full_page=True)
    page.locator("#dataset-query textarea").fill("permits issued fees")
    page.locator("#dataset-search").click()
    page.wait_for_timeout(3000)
    assert "Permits issued" not in results.inner_text()


def test_citizen_asks_a_policy_question_and_sees_a_citation(browser: object, server: str) -> None:
    page = sign_in(browser, server, "citizen", "citizen-demo")
    page.locator("#ask-message textarea").fill("政府信息公开申请的答复期限是多少？")
    page.locator("#ask-send").click()
    citation = page.locator("#ask-chat details summary").first
    citation.wait_for(timeout=240_000)
    assert "条例" in citation.inner_text()
    citation.click()
    assert "工作日" in page.locator("#ask-chat").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ask.png"), full_page=True)


def test_analyst_runs_sql_and_a_dangerous_edit_is_refused(browser: object, server: str) -> None:
    page = sign_in(browser, server, "analyst", "analyst-demo")
    page.get_by_role("tab", name="SQL workbench / SQL 工作台").click()
    code = page.locator("#sql-code textarea")
    code.fill("SELECT kind, count(*) AS n FROM permits GROUP BY kind ORDER BY n DESC, kind")
    page.locator("#sql-run").click()
    page.locator("#sql-verdict").get_by_text("3 row(s)").wait_for(timeout=30_000)
    assert "building" in page.locator("#sql-table").inner_text()
    page.locator("#sql-chart-bar").wait_for(state="visible", timeout=30_000)  # categories + counts: a bar chart
    with page.expect_download() as download:
        page.locator("#sql-csv a").first.click()
    csv = Path(download.value.path()).read_text(encoding="utf-8")
    assert csv.splitlines()[0] == "kind,n" and "building,2" in csv
    page.screenshot(path=str(SHOTS / "sql-workbench.png"), full_page=True)
    code.fill("DROP TABLE permits")
    page.locator("#sql-run").click()
    page.locator("#sql-verdict").get_by_text("rejected").wait_for(timeout=30_000)
    assert "only a query" in page.locator("#sql-verdict").inner_text()
    code.fill("SELECT count(*) AS n FROM permits")
    page.locator("#sql-run").click()
    page.locator("#sql-verdict").get_by_text("1 row(s)").wait_for(timeout=30_000)
    assert "5" in page.locator("#sql-table").inner_text()


def test_two_sessions_at_once_keep_their_own_results(browser: object, server: str) -> None:
    first = sign_in(browser, server, "analyst", "analyst-demo")
    second = sign_in(browser, server, "steward", "steward-demo")
    for page, sql in ((first, "SELECT city FROM city_air WHERE year = 2013 ORDER BY city"),
                      (second, "SELECT applicant_name FROM permits ORDER BY permit_id LIMIT 2")):
        page.get_by_role("tab", name="SQL workbench / SQL 工作台").click()
        page.locator("#sql-code textarea").fill(sql)
    first.locator("#sql-run").click()
    second.locator("#sql-run").click()
    first.locator("#sql-verdict").get_by_text("3 row(s)").wait_for(timeout=30_000)
    second.locator("#sql-verdict").get_by_text("2 row(s)").wait_for(timeout=30_000)
    assert "Guangzhou" in first.locator("#sql-table").inner_text()
    assert "Wang Fang" in second.locator("#sql-table").inner_text()  # the steward sees names unmasked
    assert "Wang Fang" not in first.locator("#sql-table").inner_text()
    assert "role: civil_servant" in first.locator("#whoami").inner_text()
    assert "role: data_steward" in second.locator("#whoami").inner_text()
