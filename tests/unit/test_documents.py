from pathlib import Path

import pytest

from core.errors import IngestError
from core.settings import Settings
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


# ---- issue 18: hostile files are refused, each with one line naming it and why ----

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"


@pytest.mark.parametrize(("name", "message"), [
    ("broken_xml.docx", "broken_xml.docx: not a readable DOCX: Namespace prefix w on document is not defined"),
    ("entity_bomb.docx", "entity_bomb.docx: DOCX part word/document.xml declares a DTD or entities; refusing it"),
    ("ratio_bomb.docx", "ratio_bomb.docx: DOCX unpacks to 11,154,746 bytes from 60,470 (limit 50,000,000 bytes, "
                        "100x); refusing a possible zip bomb"),
    ("encrypted_aes256.pdf", "encrypted_aes256.pdf: encrypted PDF (a password or a cipher this reader lacks "
                             "protects it); ingest an unencrypted copy"),
])
def test_hostile_documents_are_refused_with_one_line(name: str, message: str) -> None:
    from core.errors import IngestError
    from ingest.documents.readers import read_document

    path = HOSTILE / name
    with pytest.raises(IngestError) as refused:
        read_document(path.read_bytes(), path)
    assert str(refused.value).startswith(f"{path}: ") and message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_big5_and_gbk_text_are_told_apart() -> None:
    from ingest.documents.readers import decode_text

    traditional = "臺南市機車定檢站地址,本資料集提供臺南市機車定檢站地址資訊。"
    simplified = "政府信息公开申请的答复期限是多少？行政机关收到申请后应当及时登记。"
    assert decode_text(traditional.encode("big5"), Path("x.csv")) == traditional
    assert decode_text(simplified.encode("gb18030"), Path("x.csv")) == simplified
    assert decode_text((HOSTILE / "big5_catalog.csv").read_bytes(), Path("x.csv")).startswith("臺南市公共管線圖資")


def test_big5_catalog_titles_land_readable() -> None:
    from core.settings import Settings
    from ingest.items import load_source
    from ingest.options import OptionsResolver

    path = HOSTILE / "big5_catalog.csv"
    options = OptionsResolver(None).resolve(path, HOSTILE)
    loaded = load_source(path, path.read_bytes(), options, Settings(home=Path("/nonexistent")))
    titles = [item.payload["title"] for item in loaded.items]
    assert titles[:2] == ["臺南市公共管線圖資", "臺南市登革熱病媒蚊密度調查"] and len(titles) == 6


def test_legacy_encoded_and_empty_csv_as_approved_tables(tmp_path: Path) -> None:
    from assistant.sql.approved import ApprovedTables
    from core.errors import GovDataError

    registry = ApprovedTables(tmp_path / "sql")
    (table,), _ = registry.add(HOSTILE / "big5_catalog.csv", name="tainan")
    assert table.row_count == 5 and "臺南市機車定檢站地址" in table.columns[0].samples
    with pytest.raises(GovDataError, match=r"empty.csv: empty file \(0 bytes\); there is no table to approve"):
        registry.add(HOSTILE / "empty.csv")
    assert [t.name for t in registry.tables()] == ["tainan"]


def test_a_document_names_its_web_address_and_date_from_front_matter_or_file_name(tmp_path: Path) -> None:
    """Issue 17: citations name a source as people do (title, article, date, a link where there is one)."""
    from ingest.documents.readers import date_in_name, read_document

    memo = tmp_path / "memo.md"
    memo.write_text("---\ntitle: M-13-13\nurl: https://example.gov/memo/\ndate: '2013-05-09'\n---\n\nText.\n",
                    encoding="utf-8")
    read = read_document(memo.read_bytes(), memo)
    assert (read.title, read.url, read.date) == ("M-13-13", "https://example.gov/memo/", "2013-05-09")
    law = tmp_path / "政府信息公开条例(2019-04-03).md"
    law.write_text("# 中华人民共和国政府信息公开条例\n\n第一条 正文。\n", encoding="utf-8")
    assert (read_document(law.read_bytes(), law).date, read_document(law.read_bytes(), law).url) == ("2019-04-03", "")
    relative = tmp_path / "page.md"
    relative.write_text("---\ntitle: P\nurl: /policy-memo/\n---\n\nText.\n", encoding="utf-8")
    assert read_document(relative.read_bytes(), relative).url == ""  # only web addresses become links
    assert date_in_name("report_2024-01-31.pdf") == "2024-01-31" and date_in_name("v2.md") == ""


def test_a_first_heading_of_any_level_is_the_title_without_its_marks(tmp_path: Path) -> None:
    """A file that starts at `## X` was titled "# X" (found while writing the issue-29 dev set)."""
    from ingest.documents.readers import read_markdown

    assert read_markdown("## 应用\n\ntext".encode(), tmp_path / "README.md").title == "应用"
    assert read_markdown(b"# Public Domain\n\ntext", tmp_path / "LICENSE.md").title == "Public Domain"
