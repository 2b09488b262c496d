from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import IngestError
from ingest.documents.readers import read_document
from ingest.items import load_source
from ingest.options import SourceOptions


@pytest.mark.parametrize(
    ("name", "title", "phrase"),
    [
        ("open-data-policy.html", "Open Data Policy (M-13-13) excerpt", "Information is a valuable national resource"),
        ("retention.docx", "Records retention guidance", "answered within twenty working days"),
        ("data-inventory.pdf", "data-inventory", "public data listing"),
    ],
)
def test_readers_extract_title_and_text(fixtures: Path, name: str, title: str, phrase: str) -> None:
    path = fixtures / "docs" / name
    document = read_document(path.read_bytes(), path)
    assert document.title == title
    assert phrase in document.text


def test_html_drops_scripts_and_keeps_headings(fixtures: Path) -> None:
    path = fixtures / "docs" / "open-data-policy.html"
    text = read_document(path.read_bytes(), path).text
    assert "var x" not in text and "## Definitions" in text


def test_docx_headings_become_heading_path(fixtures: Path) -> None:
    path = fixtures / "docs" / "retention.docx"
    loaded = load_source(path, path.read_bytes(), SourceOptions(), Settings())
    paths = [item.payload["heading_path"] for item in loaded.items]
    assert "Records retention guidance > Requests" in paths


def test_chunks_carry_metadata_and_stable_ids(fixtures: Path) -> None:
    path = fixtures / "docs" / "政府信息公开条例(2019-04-03).md"
    first = load_source(path, path.read_bytes(), SourceOptions(access_level="restricted public"), Settings())
    again = load_source(path, path.read_bytes(), SourceOptions(access_level="restricted public"), Settings())
    assert [i.item_id for i in first.items] == [i.item_id for i in again.items]
    item = next(i for i in first.items if i.payload["article"] == "第三十三条")
    assert item.payload["language"] == item.metadata["language"] == "zh"
    assert item.payload["access_level"] == item.metadata["access_level"] == "restricted public"
    assert item.payload["title"] == "中华人民共和国政府信息公开条例"
    assert item.payload["source"] == item.metadata["source"] == str(path)
    assert item.embed_text.startswith("中华人民共和国政府信息公开条例 > 第四章 依申请公开\n第三十三条")


def test_binary_data_in_markdown_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    path.write_bytes(b"\x00\x01\x02 binary")
    with pytest.raises(IngestError, match="binary data"):
        read_document(path.read_bytes(), path)
