"""UI helpers of app.py that decide what the page renders."""

from app import _link


def test_dataset_links_are_only_clickable_for_web_urls() -> None:
    assert _link("https://data.gov/x?a=1&b=2").startswith('<a href="https://data.gov/x?a=1&amp;b=2"')
    assert "<a" not in _link("javascript:alert(1)") and "alert(1)" in _link("javascript:alert(1)")
    assert _link("") == ""
