"""Passages cut to the sentences that matter to the question."""

from assistant.excerpts import GAP, estimate_tokens, key_sentences, sentences

ARTICLE = ("第三十三条 行政机关收到政府信息公开申请，能够当场答复的，应当当场予以答复。"
           "行政机关不能当场答复的，应当自收到申请之日起20个工作日内予以答复。"
           "需要延长答复期限的，应当经政府信息公开工作机构负责人同意并告知申请人，延长的期限最长不得超过20个工作日。"
           "行政机关征求第三方和其他机关意见所需时间不计算在前款规定的期限内。"
           "本条例所称政府信息，是指行政机关在履行行政管理职能过程中制作或者获取的，以一定形式记录、保存的信息。")


def test_a_passage_within_budget_is_left_whole() -> None:
    assert key_sentences(ARTICLE, "答复期限", estimate_tokens(ARTICLE)) == ARTICLE


def test_a_long_passage_keeps_its_opening_and_the_matching_sentences_in_order() -> None:
    cut = key_sentences(ARTICLE, "延长答复期限需要谁同意？", 90)
    assert cut.startswith("第三十三条") and "负责人同意" in cut
    assert "本条例所称政府信息" not in cut and cut.endswith(GAP)
    assert estimate_tokens(cut) <= 90 + estimate_tokens(GAP) * 3
    assert cut.index("行政机关收到") < cut.index("负责人同意")


def test_english_sentences_are_joined_with_spaces_and_gaps_marked() -> None:
    text = ("Departments must publish data. Publishing takes time. "
            "Requests for data must be answered within 20 working days. Fees are not charged.")
    cut = key_sentences(text, "How fast must requests for data be answered?", 20)
    assert cut == (f"Departments must publish data. {GAP} Requests for data must be answered within 20 working "
                   f"days. {GAP}")


def test_one_long_sentence_is_cut_to_the_budget() -> None:
    text = "申请" * 400
    cut = key_sentences(text, "申请", 50)
    assert cut.endswith(GAP) and estimate_tokens(cut) <= 50 + 1


def test_sentences_split_on_chinese_and_latin_ends_and_lines() -> None:
    assert sentences("一。二！三\nFour. Five? six") == ["一。", "二！", "三", "Four.", "Five?", "six"]
