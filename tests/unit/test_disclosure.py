"""The disclosure report (issue 16): counts from receipts, never a user or a question, small counts suppressed so
no single person's request can be read from it."""

import csv
import io
import json
from datetime import datetime

from assistant.audit import Receipt
from assistant.register.disclosure import build, to_csv, to_html, to_json
from core.dates import period_end

LEVELS = {"permits": "public", "clinic_visits": "restricted public"}


def receipt(action: str, role: str, *, datasets: dict[str, str] | None = None, outcome: str = "ok",
            month: str = "2026-11", interface: str = "ui", user: str = "alice-unique-name",
            sources: list[str] | None = None) -> Receipt:
    return Receipt(action, user, role, question="my very private question about my neighbour",
                   interface=interface, datasets=datasets or {}, outcome=outcome, time=f"{month}-15T10:00:00",
                   sources=sources or [])


def sample() -> list[Receipt]:
    out = [receipt("sql.run", "citizen", datasets={"permits": "v1"}) for _ in range(12)]
    out += [receipt("sql.ask", "civil_servant", datasets={"permits": "v1"}, month="2026-10") for _ in range(6)]
    out += [receipt("sql.run", "civil_servant", datasets={"clinic_visits": "v2"}) for _ in range(2)]  # small
    out += [receipt("ask", "citizen", outcome="not found", interface="cli") for _ in range(7)]
    out += [receipt("ask", "citizen", sources=["/srv/govdata/docs/政府信息公开条例(2019-04-03).md"])
            for _ in range(5)]
    out += [receipt("sql.run", "citizen", outcome="refused: DROP is not allowed") for _ in range(5)]
    out += [receipt("audit.read", "data_steward")]  # not a use of public data
    return out


def test_counts_by_dataset_role_outcome_and_month_with_small_counts_suppressed() -> None:
    report = build(sample(), LEVELS, threshold=5)
    assert report["requests"] == 37
    assert report["outcomes"] == {"answered": 25, "declined": 7, "refused": 5}
    permits = next(d for d in report["datasets"] if d["dataset"] == "permits")
    assert permits["uses"] == 18 and permits["by_role"] == {"citizen": 12, "civil_servant": 6}
    clinic = next(d for d in report["datasets"] if d["dataset"] == "clinic_visits")
    assert clinic["uses"] == "<5" and clinic["access_level"] == "restricted public"
    assert report["restricted_access"] == [{"dataset": "clinic_visits", "access_level": "restricted public",
                                            "role": "civil_servant", "uses": "<5"}]
    assert report["by_month"] == {"2026-10": 6, "2026-11": 31}
    assert report["documents_cited"] == [{"document": "政府信息公开条例(2019-04-03)", "citations": 5}]


def test_a_lone_small_count_takes_the_next_smallest_with_it() -> None:
    receipts = [receipt("sql.run", "citizen", datasets={"permits": "v"}) for _ in range(20)]
    receipts += [receipt("sql.run", "civil_servant", datasets={"permits": "v"}) for _ in range(9)]
    receipts += [receipt("sql.run", "data_steward", datasets={"permits": "v"}) for _ in range(1)]
    by_role = build(receipts, LEVELS, threshold=5)["by_role"]
    assert by_role == {"citizen": 20, "civil_servant": "suppressed", "data_steward": "<5"}  # 30 - 20 - 9 = 1


def test_no_user_and_no_question_appears_in_any_format() -> None:
    report = build(sample(), LEVELS, threshold=5)
    for text in (to_json(report), to_csv(report), to_html(report)):
        assert "alice-unique-name" not in text and "private question" not in text and "/srv/govdata" not in text


def test_the_html_is_one_self_contained_page_with_a_chart_per_month() -> None:
    page = to_html(build(sample(), LEVELS, threshold=5))
    assert page.startswith("<!doctype html>") and "<svg" in page and "2026-10" in page and "2026-11" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page


def test_csv_and_json_carry_the_same_numbers() -> None:
    report = build(sample(), LEVELS, threshold=5)
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert {"section": "datasets", "key": "permits", "access_level": "public", "count": "18"} in rows
    assert json.loads(to_json(report))["datasets"][0]["uses"] == 18


def test_until_includes_the_whole_period_it_names() -> None:
    assert period_end("2026") == datetime(2027, 1, 1)
    assert period_end("2026-12") == datetime(2027, 1, 1)
    assert period_end("2026-02") == datetime(2026, 3, 1)
    assert period_end("2026-11-30") == datetime(2026, 12, 1)
    assert period_end("2026-11-30T12:00") == datetime(2026, 11, 30, 12, 0)
