"""What the web app renders: links, escaping, pages, interface language (no browser needed)."""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.models import Answer, Citation
from assistant.services import Services
from assistant.ui.render import (
    PAGE_ROWS,
    answer_markdown,
    approved_tables,
    dataset_cards,
    link,
    page_of,
    table_markdown,
)
from assistant.ui.text import TEXT, language_of, text
from core.settings import Settings


def _result(identifier: str, title: str = "<b>T</b>", url: str = "https://x.gov/a") -> SimpleNamespace:
    return SimpleNamespace(identifier=identifier, title=title, publisher="P", access_level="public",
                           formats=["csv"], modified="2024-01-01", description="d", url=url)


def test_dataset_links_are_only_clickable_for_web_urls() -> None:
    assert link("https://data.gov/x?a=1&b=2").startswith('<a href="https://data.gov/x?a=1&amp;b=2"')
    assert "<a" not in link("javascript:alert(1)") and "alert(1)" in link("javascript:alert(1)")
    assert link("") == ""


def test_cards_escape_catalog_text_and_mark_approved_tables() -> None:
    html = dataset_cards([_result("govdata-sql:city_air"), _result("x", url="javascript:evil()")], "en")
    assert "<b>T</b>" not in html and "&lt;b&gt;T&lt;/b&gt;" in html
    assert html.count("Query this dataset") == 1 and "<a href=\"javascript" not in html
    assert approved_tables([_result("x"), _result("govdata-sql:city_air")]) == ["city_air"]
    assert "没有找到数据集" in dataset_cards([], "zh")


def test_answer_citations_are_expandable_and_escaped() -> None:
    answer = Answer(answer="见 [1] <script>", found=True, language="zh", citations=[
        Citation(n=1, source="/laws/a.md", title="条例", chunk_id="c", quote="<img src=x>", article="第三十三条")])
    rendered = answer_markdown(answer)
    assert "<script>" not in rendered and "<img" not in rendered
    assert "<details><summary>[1] 条例 第三十三条</summary>" in rendered
    assert "/laws/a.md" not in rendered  # issue 17: a person sees the law's name, never our file system


def test_citations_name_title_article_and_date_and_link_only_a_web_address() -> None:
    dated = Citation(n=1, source="/srv/x/政府信息公开条例(2019-04-03).md", title="中华人民共和国政府信息公开条例",
                     chunk_id="c", quote="q", article="第三十三条", date="2019-04-03")
    web = Citation(n=2, source="/srv/x/memo.md", title="M-13-13", chunk_id="d", quote="q",
                   heading_path="Policy > Scope", url="https://project-open-data.cio.gov/policy-memo/")
    bad = Citation(n=3, source="/srv/x/y.md", title="Y", chunk_id="e", quote="q", url="javascript:alert(1)")
    assert dated.label == "中华人民共和国政府信息公开条例 第三十三条 (2019-04-03)"
    assert web.label == "M-13-13 Scope" and "label" in web.model_dump()
    rendered = answer_markdown(Answer(answer="a [1] [2] [3]", found=True, language="en", citations=[dated, web, bad]))
    assert '<a href="https://project-open-data.cio.gov/policy-memo/"' in rendered
    assert "/srv/x" not in rendered and "<a href=\"javascript" not in rendered


def test_pages_clamp_and_number_rows() -> None:
    rows = [[i] for i in range(60)]
    assert page_of(rows, 0)[2:] == (1, PAGE_ROWS)
    page, chunk, first, last = page_of(rows, 9)
    assert (page, first, last, len(chunk)) == (2, 51, 60, 10)
    assert page_of([], 3) == (0, [], 0, 0)
    assert page_of(rows, -1)[0] == 0


def test_markdown_table_escapes_pipes() -> None:
    assert "a\\|b" in table_markdown(["c"], [["a|b"]])


def test_interface_language_follows_the_browser_and_every_text_has_both() -> None:
    assert language_of("zh-CN,zh;q=0.9,en;q=0.8") == "zh" and language_of("en-US,zh;q=0.5") == "en"
    assert language_of(None) == "en"
    assert all(en and zh for en, zh in TEXT.values())
    assert text("rows", "zh", n=3) == "3 行" and text("rows", "en", n=3) == "3 row(s)"


# ---- issue 18 item 9: result files are private to the service account and do not outlive it ----

_BUILD_AND_EXIT = """
import sys
from pathlib import Path
from app import build_assistant, build_ui
from core.settings import Settings
from assistant.ui.workbench import csv_file
build_ui(build_assistant(Settings(home=Path(sys.argv[1]))))
print(csv_file(["a"], [[1]]))
"""




def test_gradio_copies_of_result_csvs_are_not_readable_by_others(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat
    from pathlib import Path

    from gradio import processing_utils

    from app import build_assistant
    from assistant.ui.layout import private_cache
    from assistant.ui.workbench import csv_file
    from core.settings import Settings

    previous = os.environ.get("GRADIO_TEMP_DIR")
    try:
        folder = private_cache(build_assistant(Settings(home=tmp_path / "home")))
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        csv = Path(csv_file(["phone"], [["[PHONE ***8000]"]]))
        cached = Path(processing_utils.save_file_to_cache(csv, cache_dir=str(folder)))  # what Gradio serves
        for path in (csv, cached):
            assert folder in path.parents and stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    finally:
        if previous is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = previous


def test_disagreeing_candidates_are_shown_with_the_other_readings() -> None:
    from assistant.sql.generate import SqlAnswer
    from assistant.ui.render import sql_markdown, uncertainty_markdown

    answer = SqlAnswer("q", "SELECT 1", "one", columns=["x"], rows=[[1]], row_count=1, candidates=5,
                       confidence=0.4, uncertain=True,
                       alternatives=[{"sql": "SELECT 2 <b>", "row_count": 3, "votes": 2}])
    shown = uncertainty_markdown(answer, "en")  # the workbench: the other readings' SQL
    assert "40% of them gave this result" in shown and "Other reading (2 vote(s), 3 row(s))" in shown
    assert "SELECT 2 <b>" in shown  # inside a code block, rendered as code
    assert "候选查询结果不一致" in uncertainty_markdown(answer, "zh")
    asked = sql_markdown(answer, "en")  # the Ask tab: a question back, each reading in words, none as raw HTML
    assert "Did you mean:" in asked and "2. SELECT 2 &lt;b&gt; — 3 row(s)" in asked
    sure = SqlAnswer("q", "SELECT 1", "one", candidates=5, confidence=0.8)
    assert uncertainty_markdown(sure, "en") == ""


def test_an_empty_result_about_withheld_data_says_so_in_both_languages() -> None:
    from assistant.sql.generate import SqlAnswer
    from assistant.ui.render import sql_markdown, uncertainty_markdown

    answer = SqlAnswer("q", "SELECT 1 WHERE false", "none", columns=["x"], notice="withheld")
    assert "not available to your role" in sql_markdown(answer, "en")
    assert "不对您的角色开放" in uncertainty_markdown(answer, "zh")


def test_a_query_the_plain_prompt_wrote_says_so_in_both_languages_and_nothing_else_does() -> None:
    from assistant.sql.generate import SqlAnswer
    from assistant.ui.render import sql_markdown, uncertainty_markdown

    answer = SqlAnswer("q", "SELECT 1", "one", columns=["x"], rows=[[1]], row_count=1, fallback=True)
    assert "written by a second, plain prompt" in sql_markdown(answer, "en")
    assert "第二个简明提示" in uncertainty_markdown(answer, "zh") and "not available" not in sql_markdown(answer, "en")
    assert "plain prompt" not in sql_markdown(SqlAnswer("q", "SELECT 1", "one", columns=["x"], rows=[[1]]), "en")


def test_searches_and_sql_runs_never_queue_behind_model_answers(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app import build_assistant, build_ui
    from core.settings import Settings

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "restored-after"))  # build_ui points it elsewhere
    blocks = build_ui(build_assistant(Settings(home=tmp_path / "home")))
    queues = {}
    for function in blocks.fns.values():
        name = getattr(function.fn, "__name__", "")
        queues.setdefault(name, set()).add((function.concurrency_id, function.concurrency_limit))
    assert queues["ask"] == queues["generate"] == {("model", 2)}
    for fast in ("find", "run", "check", "receipts", "verify_chain"):
        assert queues[fast] == {("fast", 16)}, fast


def test_cards_show_only_the_facts_a_record_has_with_frequency_and_quality() -> None:
    """Issue 17: no "- · public · - · updated -" placeholders."""
    from assistant.ui.render import card_facts

    bare = SimpleNamespace(publisher="", access_level="public", formats=[], modified="", update_frequency="",
                           quality=None)
    assert card_facts(bare, "en") == "public"
    full = SimpleNamespace(publisher="DOL", access_level="public", formats=["csv"], modified="2024-11-14T18:21:41Z",
                           update_frequency="R/P1M", quality=85)
    assert card_facts(full, "en") == "DOL · public · csv · updated 2024-11-14 · updates: monthly · " \
                                     "metadata quality 85/100"
    assert "更新频率： 每月" in card_facts(full, "zh") and "元数据质量 85/100" in card_facts(full, "zh")
    odd = SimpleNamespace(**{**vars(full), "update_frequency": "偶尔"})
    assert "updates: 偶尔" in card_facts(odd, "en")
    html = dataset_cards([SimpleNamespace(identifier="x", title="T", url="", description="", **vars(bare))], "en")
    assert " - " not in html and "· -" not in html and "<p></p>" not in html


# ---- issue 26: no uploads; the users file holds at the next request ----

def _users_file(path, users: dict[str, str]):  # type: ignore[no-untyped-def]
    import json

    from assistant.policy.users import hash_password

    entries = {}
    for name, role in users.items():
        salt, digest = hash_password("pw", "cd" * 16)
        entries[name] = {"role": role, "salt": salt, "password_hash": digest}
    path.write_text(json.dumps(entries))
    return path


def test_the_signed_in_role_follows_the_users_file_and_a_removed_user_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from assistant.services import Services
    from assistant.ui.common import caller_of
    from assistant.ui.server import auth_for
    from core.errors import GovDataError
    from core.settings import Settings

    path = _users_file(tmp_path / "users.json", {"ana": "civil_servant"})
    assistant = Services(Settings(home=tmp_path / "home", users_file=path))
    sign_in, request = auth_for(assistant), SimpleNamespace(username="ana")
    assert caller_of(assistant, request).role == "civil_servant" and sign_in("ana", "pw")
    _users_file(path, {"ana": "citizen", "bo": "citizen"})
    assert caller_of(assistant, request).role == "citizen" and sign_in("bo", "pw")  # no restart
    _users_file(path, {"bo": "citizen"})
    with pytest.raises(GovDataError, match="'ana' may no longer use this app"):
        caller_of(assistant, request)
    assert not sign_in("ana", "pw") and caller_of(assistant, SimpleNamespace(username=None)).role == "citizen"


def test_the_server_refuses_uploads_and_ends_a_removed_users_session(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`POST /gradio_api/upload` took a 20 MB file into Gradio's cache although the app has no upload component;
    a removed user's session kept working until a restart."""
    import socket

    import httpx

    from app import build_assistant
    from assistant.ui.server import launch
    from core.settings import Settings

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "restored-after"))  # launch points it at the private cache
    path = _users_file(tmp_path / "users.json", {"ana": "citizen"})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(home=tmp_path / "home", users_file=path, llm={"warm_up": False})
    ui = launch(build_assistant(settings), "127.0.0.1", port, block=False)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            signed_in = client.post("/login", data={"username": "ana", "password": "pw"}, files={"x": ("", b"")})
            assert signed_in.status_code == 200 and client.get("/config").status_code == 200  # a multipart sign-in
            big = b"x" * 3_000_000
            for route in ("/gradio_api/upload", "/gradio_api/upload/", "/gradio_api/process_recording",
                          "/gradio_api/component_server"):
                refused = client.post(route, files={"files": ("big.bin", big)})
                assert refused.status_code == 403 and "no uploads" in refused.text, route
            cached = [f for f in (tmp_path / "home" / "ui-cache").rglob("*") if f.is_file()]
            assert all(f.stat().st_size < 1000 for f in cached), cached
            _users_file(path, {"bo": "citizen"})
            assert client.get("/config").status_code == 401  # the next request is signed out
            _users_file(path, {"ana": "citizen"})
            assert client.get("/config").status_code == 401  # the old session is gone, not just paused
    finally:
        ui.close()


def test_one_adapter_gives_each_handler_the_caller_and_gradio_the_handlers_own_signature(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 30: `for_caller` replaces a closure per handler; Gradio reads its signature to pass the request."""
    import inspect

    import gradio as gr

    from assistant.ui.common import Caller, for_caller

    monkeypatch.setenv("GOVDATA_HOME", str(tmp_path / "home"))
    assistant = Services(Settings())
    seen: list[tuple[Any, ...]] = []

    def decide(assistant: Any, caller: Caller, name: str, suggestion: str, accept: bool, lang: str) -> str:
        seen.append((caller, name, suggestion, accept, lang))
        return "ok"

    def stream(assistant: Any, caller: Caller, message: str) -> Any:
        yield f"{caller.user}: {message}"

    request = type("Request", (), {"username": "analyst"})()
    call = for_caller(assistant, decide, accept=True)
    assert list(inspect.signature(call).parameters) == ["name", "suggestion", "lang", "request"]
    assert inspect.signature(call).parameters["request"].annotation is gr.Request
    assert call("permits", "g1", "zh", request) == "ok"
    assert seen == [(Caller("analyst", "civil_servant"), "permits", "g1", True, "zh")]
    assert list(for_caller(assistant, stream)("hi", request)) == ["analyst: hi"]


API_NAMES = ["accept", "ask", "ask_1", "charts", "charts_1", "charts_2", "check", "disclose", "find",
             "find_1", "generate", "grade", "grade_1", "handler", "handler_1", "handler_2", "handler_3",
             "handler_4", "handler_5", "held", "keep_held", "knowledge_approve", "knowledge_demand",
             "knowledge_propose", "knowledge_propose_answer", "knowledge_queue", "knowledge_reject",
             "knowledge_tab", "lambda", "lambda_1", "lambda_2", "lambda_3", "offer_readings",
             "offer_readings_1", "offer_readings_2", "open_in_workbench", "receipts", "receipts_1",
             "register_entries", "register_entries_1", "reject", "relabel", "relabel_1", "release_held",
             "run", "show_reading", "switch_language", "verify_chain", "who", "whoami", "whoami_1",
             # the Access tab (issue 33)
             "grants_mine", "grants_mine_1", "request_access", "grant_queue", "approve_request", "reject_request"]


def test_the_pages_event_names_stay_what_gradio_clients_call(tmp_path: Path) -> None:
    """gradio_client scripts call events by name (`api_name="/register_entries"`): a refactor keeps them."""
    from app import build_assistant, build_ui

    blocks = build_ui(build_assistant(Settings(home=tmp_path / "home")))
    assert sorted(str(f.api_name) for f in blocks.fns.values()) == sorted(API_NAMES)
