import json
from pathlib import Path

import pytest

from core.errors import IngestError
from core.settings import Settings
from ingest.detect import detect
from ingest.items import load_source
from ingest.options import OptionsResolver, SourceOptions

SETTINGS = Settings(home=Path("/nonexistent-home"))


def _load(path: Path, options: SourceOptions | None = None):  # type: ignore[no-untyped-def]
    return load_source(path, path.read_bytes(), options or SourceOptions(), SETTINGS)


def _records(path: Path, options: SourceOptions | None = None) -> list[dict]:
    return [item.payload for item in _load(path, options).items]


def test_dcat_us_records_verbatim(fixtures: Path) -> None:
    path = fixtures / "catalogs" / "dol_slice.data.json"
    source = json.loads(path.read_text(encoding="utf-8"))["dataset"]
    records = _records(path)
    assert len(records) == 40
    assert [r["identifier"] for r in records] == [d["identifier"] for d in source]
    assert [r["title"] for r in records] == [d["title"] for d in source]
    levels = [r["access_level"] for r in records]
    assert levels.count("public") == 20 and levels.count("restricted public") == 10
    assert levels.count("non-public") == 10
    first = records[0]
    assert first["publisher"] == source[0]["publisher"]["name"]
    assert first["modified"] == source[0]["modified"]
    assert first["keywords"] == source[0]["keyword"]


def test_dcat_distribution_formats_and_urls(fixtures: Path) -> None:
    path = fixtures / "catalogs" / "dol_slice.data.json"
    source = json.loads(path.read_text(encoding="utf-8"))["dataset"]
    with_dist = next(i for i, d in enumerate(source) if d.get("distribution"))
    record = _records(path)[with_dist]
    urls = [d.get("downloadURL") or d.get("accessURL") for d in source[with_dist]["distribution"]]
    assert [d["url"] for d in record["distributions"]] == urls
    assert all(d["format"] for d in record["distributions"])


def test_dcat_detected_by_content_not_name(tmp_path: Path, fixtures: Path) -> None:
    renamed = tmp_path / "catalogue-export.json"
    renamed.write_bytes((fixtures / "catalogs" / "dol_slice.data.json").read_bytes())
    assert detect(renamed, renamed.read_bytes()).kind == "dcat"


def test_ckan_package_search_and_private_package(fixtures: Path) -> None:
    records = _records(fixtures / "catalogs" / "tainan_ckan_package_search.json")
    assert len(records) == 5
    assert records[0]["identifier"] == "0b7c6f7e-0000-4000-8000-000000000000"
    assert records[0]["title"] == "臺南市公共管線圖資"
    assert records[0]["publisher"] == "臺南市政府"
    assert records[0]["distributions"][0]["format"] == "csv"
    assert records[4]["access_level"] == "non-public"  # private: true never becomes public


def test_ckan_package_show_single(tmp_path: Path, fixtures: Path) -> None:
    search = json.loads((fixtures / "catalogs" / "tainan_ckan_package_search.json").read_text(encoding="utf-8"))
    show = tmp_path / "show.json"
    show.write_text(json.dumps({"success": True, "result": search["result"]["results"][1]}), encoding="utf-8")
    [record] = _records(show)
    assert record["title"] == search["result"]["results"][1]["title"]


def test_taiwan_portal_json_list_with_default_mapping(fixtures: Path) -> None:
    path = fixtures / "catalogs" / "taipei_slice.json"
    rows = json.loads(path.read_text(encoding="utf-8"))
    records = _records(path)
    assert [r["title"] for r in records] == [row["資料集名稱"] for row in rows]
    assert records[1]["publisher"] == "臺北市市場處"
    assert records[1]["fields"] == ["日期", "種類", "市場", "品名", "平均(元/公斤)"]
    assert all(r["generated_identifier"] for r in records)
    assert len({r["identifier"] for r in records}) == len(records)


def test_generated_identifiers_are_stable_under_reordering(tmp_path: Path, fixtures: Path) -> None:
    rows = json.loads((fixtures / "catalogs" / "taipei_slice.json").read_text(encoding="utf-8"))
    shuffled = tmp_path / "taipei_slice.json"
    shuffled.write_text(json.dumps(list(reversed(rows)), ensure_ascii=False), encoding="utf-8")
    original = {r["title"]: r["identifier"] for r in _records(fixtures / "catalogs" / "taipei_slice.json")}
    again = {r["title"]: r["identifier"] for r in _records(shuffled)}
    assert original == again


def test_headerless_csv_with_sidecar_mapping(fixtures: Path) -> None:
    path = fixtures / "catalogs" / "tainan_slice.csv"
    options = OptionsResolver().resolve(path, fixtures / "catalogs")
    records = _records(path, options)
    assert len(records) == 40
    assert records[0]["title"] == "臺南市公共管線圖資"
    assert records[0]["landing_page"] == "https://data.tainan.gov.tw/dataset/pubpipe"
    assert records[0]["publisher"] == "臺南市政府"


def test_headerless_csv_without_mapping_is_read_by_cell_shapes(fixtures: Path) -> None:
    loaded = _load(fixtures / "catalogs" / "tainan_slice.csv")
    records = [item.payload for item in loaded.items]
    assert len(records) == 40
    assert records[0]["title"] == "臺南市公共管線圖資"
    assert records[0]["description"].startswith("提供臺南市公共管線圖資")
    assert records[0]["landing_page"] == "/dataset/pubpipe"
    assert "headerless" in loaded.warnings[0]


def test_csv_without_any_title_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("code\n101\n102\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no title column"):
        _load(path)


def test_datapackage(fixtures: Path) -> None:
    [record] = _records(fixtures / "catalogs" / "population.datapackage.json")
    assert record["identifier"] == "population"
    assert record["title"] == "Population figures for countries, regions (e.g. Asia) and the world"
    assert record["modified"] == "2023-05-04"
    assert record["distributions"][0]["format"] == "csv"
    assert any(f.startswith("Country Name") for f in record["fields"])


def test_unknown_access_level_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "c.data.json"
    path.write_text(json.dumps({"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": [
        {"identifier": "x-1", "title": "Secret list", "accessLevel": "top secret"}]}), encoding="utf-8")
    loaded = _load(path)
    assert loaded.items[0].payload["access_level"] == "non-public"
    assert "treated as non-public" in loaded.warnings[0]


def test_folder_access_level_only_makes_records_stricter(fixtures: Path) -> None:
    path = fixtures / "catalogs" / "dol_slice.data.json"
    levels = {r["access_level"] for r in _records(path, SourceOptions(access_level="restricted public"))}
    assert levels == {"restricted public", "non-public"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("truncated.data.json", "invalid JSON"),
        ("fake.pdf", "not a readable PDF"),
        ("empty.md", "empty file"),
        ("wrong_mapping.csv", "column mapping names missing column"),
    ],
)
def test_broken_files_raise_one_clear_error(fixtures: Path, name: str, reason: str) -> None:
    path = fixtures / "broken" / name
    options = OptionsResolver().resolve(path, fixtures / "broken")
    with pytest.raises(IngestError, match=reason) as info:
        _load(path, options)
    assert name in str(info.value) and "\n" not in str(info.value)


def test_truncated_json_names_the_line(fixtures: Path) -> None:
    with pytest.raises(IngestError) as info:
        _load(fixtures / "broken" / "truncated.data.json")
    assert info.value.line is not None and info.value.line > 1


def test_unrecognised_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": "world"}', encoding="utf-8")
    with pytest.raises(IngestError, match="not a recognised catalog"):
        _load(path)
