from pathlib import Path

from ingest.documents.chunking import chunk_law, chunk_markdown, chunk_text, is_law
from ingest.documents.readers import read_markdown
from ingest.textutil import count_tokens


def _law(fixtures: Path) -> str:
    return (fixtures / "docs" / "政府信息公开条例(2019-04-03).md").read_text(encoding="utf-8")


def test_real_law_is_split_by_article_with_chapters(fixtures: Path) -> None:
    passages = chunk_law(_law(fixtures), 350)
    articles = [p.article for p in passages if p.article]
    assert len(set(articles)) == 56  # the regulation has 56 articles
    art33 = next(p for p in passages if p.article == "第三十三条")
    assert art33.chapter == "第四章 依申请公开"
    assert art33.text.startswith("第三十三条 行政机关收到政府信息公开申请")
    assert "20个工作日内予以答复" in art33.text
    assert art33.heading_path == ("第四章 依申请公开",)


def test_article_keeps_its_following_paragraphs(fixtures: Path) -> None:
    art4 = next(p for p in chunk_law(_law(fixtures), 350) if p.article == "第四条")
    assert "(五)本行政机关规定的与政府信息公开有关的其他职能。" in art4.text


def test_preamble_is_kept_without_article(fixtures: Path) -> None:
    first = chunk_law(_law(fixtures), 350)[0]
    assert first.article == "" and "国务院令第711号修订" in first.text


def test_long_article_split_under_cap_keeps_article_number() -> None:
    text = "## 第一章 总则\n\n第一条 " + "行政机关应当公开信息。" * 80 + "\n\n第二条 短。\n\n第三条 短。\n"
    passages = chunk_law(text, 100)
    first = [p for p in passages if p.article == "第一条"]
    assert len(first) > 1 and all(count_tokens(p.text) <= 100 for p in first)


def test_law_detection(fixtures: Path) -> None:
    assert is_law(_law(fixtures))
    assert not is_law("# Guide\n\nSome text about 第一条 in passing.\n")


def test_markdown_heading_path_and_front_matter(fixtures: Path) -> None:
    doc = read_markdown((fixtures / "docs" / "increasing-digital-takeup.md").read_bytes(),
                        fixtures / "docs" / "increasing-digital-takeup.md")
    assert doc.title == "Increasing digital take-up"
    passages = chunk_text(doc.text, 350)
    assert not any("layout: detailed-guidance" in p.text for p in passages)
    background = next(p for p in passages if p.heading_path == ("Background",))
    assert background.text.startswith("Digital Landscape Research found in 2012")
    nested = [p for p in passages if len(p.heading_path) == 2]
    assert nested and nested[0].heading_path[0] == "How to increase your digital take-up"


def test_markdown_links_and_code_fences() -> None:
    text = "# A\n\nSee [the guide](http://x/y) now.\n\n```\n# not a heading\n```\n\n## B\n\nBody."
    passages = chunk_markdown(text, 100)
    assert passages[0].text.startswith("See the guide now.")
    assert [p.heading_path for p in passages] == [("A",), ("A", "B")]
