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
    english = {w for g in found.reading("养老院住民健康状况统计") for w in g.english}
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
