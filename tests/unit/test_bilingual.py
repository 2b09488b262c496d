"""Issue 28: Chinese needs read in English (CC-CEDICT), coverage by word, why a record matched, and dev-set
scoring of needs no record answers."""

from pathlib import Path

from assistant.evaluation import evaluate_search
from vectorstore.bilingual import Gloss, Glossary, glossary, matched
from vectorstore.bm25 import Bm25Index

SAMPLE = """# CC-CEDICT sample
失業 失业 [shi1 ye4] /unemployment/to lose one's job/
保險 保险 [bao3 xian3] /insurance/to insure/safe/secure/be sure/CL:份[fen4]/
每周 每周 [mei3 zhou1] /every week/
煤礦 煤矿 [mei2 kuang4] /coal mine/coal seam/
礦 矿 [kuang4] /ore/mine/
王 王 [Wang2] /surname Wang/
"""


def test_a_chinese_need_is_read_word_by_word_from_traditional_or_simplified(tmp_path: Path) -> None:
    path = tmp_path / "cedict.txt"
    path.write_text(SAMPLE, encoding="utf-8")
    words = Glossary(path)
    assert words.reading("失業保險") == [Gloss("失业", ("unemployment", "lose", "job")),
                                       Gloss("保险", ("insurance", "insure", "safe"))]
    assert [g.word for g in words.reading("煤矿每周")] == ["煤矿", "每周"]  # the longest word, not 矿 alone
    assert words.reading("unemployment insurance") == []
    assert "wang" not in {w for g in Glossary(path).words.values() for w in g}  # "surname ..." senses are left out


def test_the_bundled_dictionary_reads_a_real_need() -> None:
    found = glossary()
    assert found is not None and len(found.words) > 100_000
    english = {w for g in found.reading("养老院住民健康状况统计") for w in g.written}
    assert {"nursing", "home", "health", "statistics"} <= english


def test_group_coverage_counts_chinese_words_met_not_synonyms_listed() -> None:
    index = Bm25Index.build(["a", "b", "c"], ["Unemployment Insurance Weekly Claims", "Insurance rates",
                                              "Coal mine accidents"])
    groups = [("unemployment", "lose", "job"), ("insurance", "insure", "safe")]
    share = index.group_coverage(groups, ["a", "b", "c"])
    assert share["a"] == 1.0 and 0 < share["b"] < 1 and share["c"] == 0.0


def test_why_a_record_matched_names_own_and_translated_words() -> None:
    reading = [Gloss("失业", ("unemployment", "lose")), Gloss("保险", ("insurance",))]
    assert matched("失业保险", reading, "Unemployment Insurance Weekly Claims") == ["失业 → unemployment",
                                                                                 "保险 → insurance"]
    assert matched("weekly claims data", [], "Unemployment Insurance Weekly Claims") == ["weekly", "claims"]


def test_the_dev_set_scores_needs_no_record_answers_and_reports_parts() -> None:
    rows = [{"id": "1", "group": "en", "part": "tune", "query": "coal", "relevant": ["Coal"]},
            {"id": "2", "group": "none", "part": "tune", "query": "trains in Japan", "relevant": []},
            {"id": "3", "group": "none", "part": "held_back", "query": "weather on Mars", "relevant": []}]
    answers = {"coal": [{"Coal"}], "trains in Japan": [], "weather on Mars": [{"Something"}]}
    report = evaluate_search(rows, lambda q, k, mode: answers[q], 10, ["weighted"])["weighted"]
    assert report["en"]["recall@10"] == 1.0 and report["en"]["false_nothing"] == 0.0
    assert report["none"]["nothing"] == 0.5 and report["all"]["queries"] == 3
    assert report["part:tune"]["none"]["nothing"] == 1.0 and report["part:held_back"]["none"]["nothing"] == 0.0


REVERSE = """# CC-CEDICT sample for English read in Chinese
答覆 答复 [da2 fu4] /to answer/to reply/
政府 政府 [zheng4 fu3] /government/CL:個|个[ge4]/
機關 机关 [ji1 guan1] /mechanism/gear/office/agency/organ/
申請 申请 [shen1 qing3] /to apply for sth/application (form etc)/
請求 请求 [qing3 qiu2] /to request/to ask/request/
個人信息 个人信息 [ge4 ren2 xin4 xi1] /personal information/
信息 信息 [xin4 xi1] /information/news/message/
罰款 罚款 [fa2 kuan3] /to fine/penalty/fine (monetary)/
答 答 [da2] /to answer/
"""


def test_an_english_question_is_read_in_chinese_for_passages(tmp_path: Path) -> None:
    path = tmp_path / "cedict.txt"
    path.write_text(REVERSE, encoding="utf-8")
    words = Glossary(path)
    reading = words.chinese_reading("How long does an agency have to answer requests for government information?")
    assert [g.word for g in reading] == ["agency", "answer", "requests", "government", "information"]
    assert dict(reading)["agency"] == ("机关",) and dict(reading)["requests"] == ("请求",)  # a plural, stemmed
    assert "答" not in dict(reading)["answer"]  # one character says too many things
    assert words.chinese_reading("fines for leaking personal information") == [
        Gloss("fines", ("罚款",)), Gloss("leaking", ()), Gloss("personal information", ("个人信息",))]
    # "fines" is found as "fine"; a word with no reading is a miss; the longest phrase is read whole
    assert words.reading("How long does an agency have?") == []  # the Chinese -> English reading is unchanged
    assert words.chinese_reading("exempt from M-13-13") == [Gloss("exempt", ())]  # no reading: a miss; "m", "13" noise
    assert words.chinese_reading("失业保险") == []

