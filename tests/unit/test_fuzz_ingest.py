"""Issue 11: real-world catalog mess (tests/fixtures/fuzz, written by its make.py). Each file gives its exact
one-line message, and everything else in the run still lands."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.errors import IngestError
from core.settings import Settings
from ingest.clean import clean_text, clean_tree
from ingest.items import load_source
from ingest.manifest import Manifest
from ingest.options import OptionsResolver
from ingest.pipeline import Pipeline

FUZZ = Path(__file__).resolve().parents[1] / "fixtures" / "fuzz"
SETTINGS = Settings(home=Path("/nonexistent-home"))


def _load(name: str, folder: Path = FUZZ) -> Any:
    path = folder / name
    return load_source(path, path.read_bytes(), OptionsResolver(None).resolve(path, folder), SETTINGS)


def _titles(name: str) -> list[str]:
    return [item.payload["title"] for item in _load(name).items]


# ---- text normalised once, in one place ----

@pytest.mark.parametrize(("raw", "clean"), [
    ("Agency\udc92s", "Agency’s"),  # cp1252 apostrophe kept as an escaped byte
    ("\udce2\udc80\udc99", "’"),  # escaped bytes that form UTF-8
    ("half \ud83d pair", "half \ufffd pair"),  # a lone high surrogate
    ("\ud83d\ude00", "😀"),  # a split pair
    ("a\x00b\x07c\x1bd", "abcd"),
    ("\ufeffbom\ufeff", "bom"),
    ("\uffff\ufffe", ""),
])
def test_clean_text_repairs(raw: str, clean: str) -> None:
    assert clean_text(raw) == (clean, True)


def test_clean_text_leaves_good_text_and_only_normalises_line_endings() -> None:
    for good in ("plain", "中文\t表格\n第二行", "naïve café ’quotes’ 😀"):
        assert clean_text(good) == (good, False)
    assert clean_text("a\r\nb\rc") == ("a\nb\nc", False)
    assert clean_text("cafe\u0301") == ("café", False)  # NFC is normalising, not a repair
    assert clean_tree({"k\udc92": ["x\x00", 1, None, {"y": "ok"}]}) == ({"k’": ["x", 1, None, {"y": "ok"}]}, 2)


def test_surrogates_are_repaired_and_counted() -> None:
    loaded = _load("surrogates.data.json")
    assert loaded.repaired == 3 and loaded.errors == []
    records = {item.payload["identifier"]: item.payload for item in loaded.items}
    assert records["fuzz-1"]["title"] == "Agency’s budget 1"
    assert records["fuzz-2"]["description"] == "café menu bell bom"
    assert records["fuzz-3"]["description"] == "half \ufffd pair 😀 ok"


@pytest.mark.parametrize(("name", "titles"), [
    ("bom_utf8.data.json", ["Record 10"]),
    ("bom_utf16.data.json", ["Record 11"]),
    ("gbk_catalog.csv", ["空气质量日报", "公交线路"]),
    ("big5_catalog.csv", ["臺南市公共管線圖資", "臺南市登革熱病媒蚊密度調查", "臺南市機車定檢站地址"]),
    ("mixed_endings.csv", ["First", "Second", "Third"]),
    ("numbers.data.json", ["2019"]),
])
def test_encodings_boms_line_endings_and_numbers_land_readable(name: str, titles: list[str]) -> None:
    assert _titles(name)[: len(titles)] == titles


def test_numbers_where_strings_belong_become_text() -> None:
    (item,) = _load("numbers.data.json").items
    assert item.payload["keywords"] == ["1", "2.5"] and item.payload["publisher"] == "42"
    assert item.payload["modified"] == "20190101" and item.payload["description"] == "3.14"


# ---- failures are per record and per file ----

def test_records_without_titles_are_error_lines_and_the_others_land() -> None:
    loaded = _load("missing_titles.data.json")
    assert [i.payload["title"] for i in loaded.items] == ["Record 40", "Record 44"]
    assert loaded.errors == ["record 2 (identifier fuzz-41): no title", "record 3 (identifier none): no title",
                             "record 4 (identifier fuzz-43): no title",
                             "record 5 (identifier none): a str where a record object belongs"]


def test_a_dataset_object_instead_of_a_list_is_one_record() -> None:
    loaded = _load("dataset_object.data.json")
    assert [i.payload["title"] for i in loaded.items] == ["Lone object 20"]
    assert loaded.warnings == ['"dataset" is an object, not a list; read as one record']


def test_duplicated_identifiers_within_a_file_keep_the_last() -> None:
    loaded = _load("duplicates_a.data.json")
    assert loaded.duplicates == 1 and [i.payload["title"] for i in loaded.items] == ["Again 30", "Record 31"]


@pytest.mark.parametrize(("name", "message"), [
    ("html_page.json", "this .json file holds an HTML page, not JSON (a portal's error or login page saved in its "
                       "place?)"),
    ("nested.json", "JSON nested too deeply to read (a catalog is a few levels deep)"),
    ("truncated.pdf", "not a readable PDF: Stream has ended unexpectedly"),
    ("encrypted.pdf", "encrypted PDF (a password or a cipher this reader lacks protects it); ingest an unencrypted "
                      "copy"),
    ("zip_bomb.docx", "DOCX unpacks to 11,154,746 bytes from 60,470 (limit 50,000,000 bytes, 100x); refusing a "
                      "possible zip bomb"),
])
def test_files_that_cannot_load_give_one_line(name: str, message: str) -> None:
    with pytest.raises(IngestError) as failed:
        _load(name)
    assert str(failed.value) == f"{FUZZ / name}: {message}"


def test_a_file_whose_every_record_fails_fails_whole(tmp_path: Path) -> None:
    path = tmp_path / "untitled.data.json"
    path.write_text(json.dumps({"dataset": [{"identifier": "a", "accessLevel": "public", "title": ""}]}))
    with pytest.raises(IngestError, match=r"no record could be loaded \(1 failed; first: record 1 \(identifier a\): "
                                          r"no title\)"):
        _load(path.name, tmp_path)


def test_a_five_megabyte_description_is_cut_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "huge.data.json"
    path.write_text(json.dumps({"conformsTo": "x", "dataset": [
        {"identifier": "big", "title": "Big", "accessLevel": "public", "description": "x" * 5_000_000}]}))
    loaded = _load(path.name, tmp_path)
    assert len(loaded.items[0].payload["description"]) == 100_000
    assert loaded.warnings == ["record big: description of 5,000,000 characters cut to 100,000"]


# ---- the whole corpus in one run (control flow: a store that only counts) ----

class _Store:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    def upsert(self, collection: str, ids: list[str], *args: Any) -> None:
        self.ids.update(ids)

    def delete(self, collection: str, ids: list[str]) -> None:
        self.ids.difference_update(ids)


class _Embeddings:
    def embed_array(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), 4), dtype=np.float32)


def test_the_whole_fuzz_corpus_in_one_run(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    manifest = Manifest(settings.manifest_path)
    store = _Store()
    summary = Pipeline(settings, store, _Embeddings, manifest).run([FUZZ])  # type: ignore[arg-type]
    failed = {"html_page.json", "nested.json", "truncated.pdf", "encrypted.pdf", "zip_bomb.docx"}
    file_lines = [f for f in summary.failures if "record " not in f.split(": ", 1)[1][:7]]
    assert sorted(Path(f.split(": ")[0]).name for f in file_lines) == sorted(failed)
    assert summary.files == 16 and summary.files_failed == 5 and summary.files_landed == 11
    assert summary.records_failed == 4 and summary.repaired == 3
    assert f"{FUZZ / 'surrogates.data.json'}: 3 values had invalid characters, repaired" in summary.warnings
    assert f"{FUZZ / 'duplicates_a.data.json'}: 1 records repeat an earlier record's identifier in this file; the " \
           "last one is kept" in summary.warnings
    assert f"{FUZZ / 'duplicates_b.data.json'}: 1 identifiers also appear in other files (first: fuzz-31); " \
           "searches show the record ingested last" in summary.warnings
    # big5 6, two BOM files 1 each, dataset object 1, duplicates 2 + 2, gbk 2, missing titles 2, mixed endings 3,
    # numbers 1, surrogates 3
    assert summary.datasets == 6 + 1 + 1 + 1 + 2 + 2 + 2 + 2 + 3 + 1 + 3
    assert len(store.ids) == summary.datasets - 1  # fuzz-31 is in two files, stored once
    assert len(manifest.sources()) == 11
