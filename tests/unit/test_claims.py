"""Issue 29: each sentence of an answer is checked against the passages it cites — numbers (as numbers, across
languages), article numbers, durations, named bodies — and a sentence they do not support is dropped."""

import json

import pytest

from assistant.claims import check_claims, chinese_number, numbers_in, sentences
from tests.unit.test_answer import _answerer, _ranked

ARTICLE = ("第三十三条 行政机关不能当场答复的，应当自收到申请之日起二十个工作日内予以答复；需要延长答复期限的，"
           "应当经政府信息公开工作机构负责人同意，延长的期限最长不得超过二十个工作日。")


@pytest.mark.parametrize(("numeral", "value"), [("二十", 20), ("三十三", 33), ("一百零五", 105), ("三千五百", 3500),
                                                ("一万二", 12000), ("五千万", 50_000_000), ("十", 10), ("两", 2)])
def test_chinese_numerals_are_read_as_numbers(numeral: str, value: int) -> None:
    assert chinese_number(numeral) == value


def test_an_english_answer_about_a_chinese_article_is_supported_by_its_numerals() -> None:
    assert numbers_in(ARTICLE) >= {"20", "33"}
    kept, dropped = check_claims("Under Article 33, an agency must reply within 20 working days [1]. It may "
                                 "extend the period by up to 20 working days [1].", {1: ARTICLE}, "how long?")
    assert dropped == [] and kept.startswith("Under Article 33")


def test_a_sentence_its_passage_does_not_state_is_dropped_and_the_rest_kept() -> None:
    kept, dropped = check_claims("应当在二十个工作日内答复[1]。逾期的，处99元罚款[1]。国家发展改革委负责审批[1]。",
                                 {1: ARTICLE}, "期限多久？")
    assert kept == "应当在二十个工作日内答复[1]。"
    assert dropped == ["逾期的，处99元罚款[1]。", "国家发展改革委负责审批[1]。"]


def test_a_sentence_is_read_against_the_passage_it_cites_not_another() -> None:
    passages = {1: "The fee is 35 dollars.", 2: "Requests are answered within 10 days."}
    assert check_claims("Requests are answered within 35 days [2].", passages, "?")[1] == [
        "Requests are answered within 35 days [2]."]
    assert check_claims("The fee is 35 dollars [1].", passages, "?")[1] == []


def test_named_bodies_must_be_in_the_passage_when_both_are_in_one_language() -> None:
    passage = {1: "Agencies consult the Office of Management and Budget before they publish."}
    kept, dropped = check_claims("The Office of Management and Budget is consulted [1]. The General Services "
                                 "Administration approves it [1].", passage, "who?")
    assert dropped == ["The General Services Administration approves it [1]."] and kept


def test_sentences_are_cut_in_both_languages() -> None:
    assert sentences("第一句[1]。第二句！") == ["第一句[1]。", "第二句！"]
    assert sentences("One is 1.5 km [1]. Two [2].") == ["One is 1.5 km [1].", "Two [2]."]


def test_an_answer_whose_every_sentence_is_unsupported_is_declined_and_says_what_was_removed() -> None:
    reply = json.dumps({"answer": "The deadline is 99 days [1].", "citations": [1]})
    answer = _answerer([reply], _ranked(1)).ask("What is the deadline?", "citizen")
    assert not answer.found and answer.dropped == ["The deadline is 99 days [1]."]
