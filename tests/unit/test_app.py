"""What the web app renders: links, escaping, pages, interface language (no browser needed)."""

from types import SimpleNamespace

from assistant.models import Answer, Citation
from assistant.ui_render import (
    PAGE_ROWS,
    answer_markdown,
    approved_tables,
    dataset_cards,
    link,
    page_of,
    table_markdown,
)
from assistant.ui_text import TEXT, language_of, text


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
    assert "<details><summary>[1] 条例 第三十三条</summary>" in rendered and "<code>/laws/a.md</code>" in rendered


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
