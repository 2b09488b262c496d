"""The public data resource register (issue 16): each quality rule on real catalog records (U.S. DOL data.json,
Kaohsiung's Traditional-Chinese list) and on a Simplified-Chinese portal list made for these tests, periodicity
strings in both languages, and the register's CLI contract."""

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from assistant.register.entries import APPROVED_TABLE, CATALOG_RECORD, Entry, build, export, from_record
from assistant.register.periodicity import read_periodicity
from assistant.register.quality import WEIGHTS, Resource, duplicate_groups, score
from core.settings import Settings
from ingest.items import load_source
from ingest.options import SourceOptions

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "register"
TODAY = date(2026, 12, 3)


def entries_of(name: str, tmp_path: Path) -> dict[str, Entry]:
    """A fixture file through the product's own catalog reader, then the register: entries by title."""
    path = FIXTURES / name
    loaded = load_source(path, path.read_bytes(), SourceOptions(), Settings(home=tmp_path))
    entries = build([from_record(i.item_id, i.payload) for i in loaded.items], TODAY)
    return {f"{e.resource.title} / {e.resource.publisher}": e for e in entries}


def rules(entry: Entry) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for loss in entry.quality.losses:
        out.setdefault(loss.rule, []).append(loss.reason)
    return out


def test_the_weights_add_up_to_100_and_every_loss_is_named_and_counted(tmp_path: Path) -> None:
    assert sum(WEIGHTS.values()) == 100
    for entry in entries_of("zh_cn_portal.csv", tmp_path).values():
        lost = sum(loss.points for loss in entry.quality.losses)
        assert entry.quality.score == 100 - lost
        assert all(loss.rule in WEIGHTS and loss.reason for loss in entry.quality.losses)
        by_rule: dict[str, int] = {}
        for loss in entry.quality.losses:
            by_rule[loss.rule] = by_rule.get(loss.rule, 0) + loss.points
        assert all(points <= WEIGHTS[rule] for rule, points in by_rule.items())  # a rule never takes more


def test_dcat_records_freshness_against_their_declared_periodicity(tmp_path: Path) -> None:
    entries = entries_of("dol_slice.data.json", tmp_path)
    daily = next(e for e in entries.values() if e.resource.update_frequency == "R/P1D")
    assert daily.quality.stale
    assert any("declared 'R/P1D' but last modified 2022-09-29" in r for r in rules(daily)["freshness"])
    quarterly = next(e for e in entries.values() if e.resource.update_frequency == "R/P3M")
    assert quarterly.quality.stale and "717 days ago" in rules(quarterly)["freshness"][0]
    irregular = [e for e in entries.values() if e.resource.update_frequency == "irregular"]
    assert irregular and all("freshness" not in rules(e) and not e.quality.stale for e in irregular)


def test_dcat_contact_points_licences_and_formats_are_read(tmp_path: Path) -> None:
    entries = list(entries_of("dol_slice.data.json", tmp_path).values())
    assert all(e.resource.contact.endswith("@dol.gov>") for e in entries)  # "name <e-mail>" from contactPoint
    assert all("required_fields" not in rules(e) for e in entries)
    public_domain = [e for e in entries if "publicdomain" in e.resource.license]
    assert public_domain and all("licence" not in rules(e) for e in public_domain)
    unlicensed = [e for e in entries if not e.resource.license]
    assert unlicensed and all(rules(e)["licence"] == ["no licence"] for e in unlicensed)
    with_csv = next(e for e in entries if "csv" in e.resource.formats)
    assert "formats" not in rules(with_csv)
    without = [e for e in entries if not e.resource.formats]
    assert without and all(rules(e)["formats"] == ["no distribution formats listed"] for e in without)


def test_a_traditional_chinese_list_with_empty_publishers_and_dates_is_scored_not_crashed(tmp_path: Path) -> None:
    entries = entries_of("kaohsiung_slice.json", tmp_path)
    assert len({e.resource.id for e in entries.values()}) == 8
    for entry in entries.values():
        missing = rules(entry)["required_fields"]
        assert {"no publisher", "no modified", "no description"} <= set(missing)
        assert rules(entry)["identifier"]  # the list has no identifiers: ours are generated
        assert rules(entry)["freshness"] == ["no update frequency declared"]
        assert 0 <= entry.quality.score < 60


def test_a_simplified_chinese_list_names_each_problem(tmp_path: Path) -> None:
    entries = entries_of("zh_cn_portal.csv", tmp_path)
    stale = entries["全市空气质量日报 / 市生态环境局"]
    assert stale.quality.stale and "declared '每日' but last modified 2019-03-01" in rules(stale)["freshness"][0]
    assert not entries["全市空气质量日报 / 市环境监测中心"].quality.stale  # same title, same list: no duplicate
    assert "duplicates" not in rules(stale)
    assert rules(entries["公交线路站点信息 / 市交通运输局"]).keys() == {"identifier"}  # every other rule holds: 95
    report = rules(entries["年度财政预算报告 / 市财政局"])
    assert report["formats"] == ["no machine-readable format (only pdf)"]
    assert report["licence"] == ["licence '见网站说明' is not a URL or a known licence name"]
    assert report["description_language"] == ["description only repeats the title"]
    registry = rules(entries["企业登记信息 / "])
    assert "no publisher" in registry["required_fields"]
    assert "freshness" not in registry  # 2026/11/02 is a date; monthly (R/P1M), a month ago
    assert rules(entries["重点项目清单 / 市发展改革委"])["freshness"] == ["last modified 'not a date' is not a date"]
    assert rules(entries["历史气象资料 / 市气象局"])["freshness"] == ["unknown update frequency '偶尔'"]


@pytest.mark.parametrize(("text", "days", "known"), [
    ("R/P1D", 1.0, True), ("R/P3M", 90.0, True), ("R/P1Y", 365.0, True), ("R/PT1H", 1 / 24, True),
    ("R/P2W", 14.0, True), ("r/p0.5M", 15.0, True), ("daily", 1.0, True), ("Quarterly", 91.0, True),
    ("irregular", None, True), ("as needed", None, True), ("http://purl.org/cld/freq/monthly", 30.0, True),
    ("每日", 1.0, True), ("每天", 1.0, True), ("每月", 30.0, True), ("每季", 91.0, True), ("每季度", 91.0, True),
    ("每年", 365.0, True), ("每1年", 365.0, True), ("每三個月", 90.0, True), ("每半年", 182.0, True),
    ("逐時", 1 / 24, True), ("不定期", None, True), ("不定期更新", None, True), ("即時", 1.0, True),
    ("實時更新", 1.0, True), ("", None, True), ("偶尔", None, False), ("sometimes", None, False),
    ("R/P", None, False),
])
def test_update_frequencies_in_both_languages(text: str, days: float | None, known: bool) -> None:
    period = read_periodicity(text)
    assert (period.known, period.days) == (known, pytest.approx(days) if days is not None else None)


def _record(rid: str, title: str, source: str, url: str = "") -> Resource:
    return Resource(id=rid, kind=CATALOG_RECORD, title=title, source=source, urls=(url,) if url else ())


def test_duplicates_across_catalogs_by_title_or_link_name_each_other() -> None:
    records = [_record("a", "Air quality, daily", "city.json"), _record("b", "AIR QUALITY — daily", "province.json"),
               _record("c", "Air quality, daily", "city.json"),  # same list: a series, not a copy
               _record("d", "Bus stops", "city.json", "https://data.example.gov/bus"),
               _record("e", "Transit stops", "national.json", "https://data.example.gov/bus/"),
               _record("f", "Budget", "city.json")]
    twins = duplicate_groups(records)
    assert twins["a"] == {"b"} and twins["b"] == {"a", "c"} and twins["d"] == {"e"} and "f" not in twins
    loss = next(x for x in score(records[0], TODAY, twins["a"]).losses if x.rule == "duplicates")
    assert (loss.points, loss.reason) == (10, "same title or link as b")
    table = Resource(id="t", kind=APPROVED_TABLE, title="Air quality, daily", source="x.csv")
    assert "t" not in duplicate_groups([*records, table])


def test_a_malformed_link_and_a_missing_source_file_lose_the_reference_points(tmp_path: Path) -> None:
    bad = score(Resource(id="x", kind=CATALOG_RECORD, title="T", urls=("htp:/broken link",)), TODAY)
    assert [x.reason for x in bad.losses if x.rule == "references"] == ["malformed link 'htp:/broken link'"]
    gone = score(Resource(id="y", kind=APPROVED_TABLE, title="T", source=str(tmp_path / "gone.csv"),
                          source_exists=False), TODAY)
    missing = f"source {tmp_path / 'gone.csv'} no longer exists"
    assert [x.reason for x in gone.losses if x.rule == "references"] == [missing]


def test_export_gives_one_object_or_row_per_entry_with_the_contract_fields(tmp_path: Path) -> None:
    entries = list(entries_of("zh_cn_portal.csv", tmp_path).values())
    objects = json.loads(export(entries, "json"))
    assert len(objects) == len(entries)
    assert all({"id", "kind", "score", "reasons"} <= set(o) and o["kind"] == CATALOG_RECORD for o in objects)
    assert all(r["points"] < 0 and r["rule"] and r["reason"] for o in objects for r in o["reasons"])
    rows = list(csv.DictReader(io.StringIO(export(entries, "csv"))))
    assert [r["id"] for r in rows] == [o["id"] for o in objects]
    assert any("formats -10: no machine-readable format" in r["reasons"] for r in rows)
