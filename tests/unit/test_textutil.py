import pytest

from ingest.textutil import count_tokens, detect_language, pack_sentences, split_sentences, split_to_cap


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("政府信息公开申请的答复期限是多少？", "zh"),
        ("What is the reply deadline for an information request?", "en"),
        ("What does 数据安全法 say about exports of data?", "en"),
        ("政府信息公开条例 GDPR 比较", "zh"),
        ("", "en"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_split_sentences_chinese_and_english() -> None:
    text = "第一条 为了保障。公民有权！Data is public. It is shared."
    assert split_sentences(text) == ["第一条 为了保障。", "公民有权！", "Data is public.", "It is shared."]


def test_pack_respects_cap_and_keeps_all_text() -> None:
    sentences = ["行政机关应当及时公开政府信息。"] * 40 + ["An English sentence with several words."] * 20
    passages = pack_sentences(sentences, 60)
    assert all(count_tokens(p) <= 60 for p in passages)
    assert "".join(passages).replace(" ", "") == "".join(sentences).replace(" ", "")


def test_overlong_sentence_is_hard_split_under_cap() -> None:
    passages = split_to_cap("数" * 500, 100)
    assert len(passages) == 5
    assert all(count_tokens(p) <= 100 for p in passages)


def test_short_text_is_one_passage() -> None:
    assert split_to_cap("  short text  ", 100) == ["short text"]
    assert split_to_cap("   ", 100) == []
