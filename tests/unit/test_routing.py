import numpy as np
import pytest

from assistant.routing import Route, route, rule_scores


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("政府信息公开申请的答复期限是多少？", "docs"),
        ("处理个人信息应当遵守哪些规定？", "docs"),
        ("What does the law require agencies to publish?", "docs"),
        ("有没有台北市停水的资料？", "datasets"),
        ("Where can I find data on mine inspections?", "datasets"),
        ("我想下载空气质量数据集", "datasets"),
        ("How many 311 complaints were there per month?", "sql"),
        ("2014年北京PM2.5的平均值是多少？", "sql"),
        ("Which country had the highest GDP in 2010?", "sql"),
        ("人口最多的前10个国家是哪些？", "sql"),
    ],
)
def test_rules_route_clear_questions(question: str, expected: str) -> None:
    assert route(question).name == expected


def test_no_cue_defaults_to_docs_without_embeddings() -> None:
    assert rule_scores("hello there") == {"sql": 0, "datasets": 0, "docs": 0}
    assert route("hello there").name == "docs"


def test_embeddings_break_ties_toward_nearest_examples() -> None:
    def embed(texts):  # type: ignore[no-untyped-def]
        # the question lies next to every SQL example and far from the others
        out = []
        for text in texts:
            is_sql = any(k in text for k in ("平均", "most", "前十", "GDP", "How many", "多少起"))
            out.append(np.array([1.0, 0.0]) if is_sql or text == "tell me about beijing air" else np.array([0.0, 1.0]))
        return np.array(out)

    chosen = route("tell me about beijing air", embed)
    assert chosen.name == "sql" and chosen.reason.startswith("nearest examples")


def test_ranking_metrics_count_each_relevant_name_once() -> None:
    from assistant.evaluation import ranking_metrics

    ranked = [{"a-1", "Title A"}, {"a-2", "Title A"}, {"x", "Other"}, {"b", "Title B"}]
    metrics = ranking_metrics(ranked, {"Title A", "Title B"}, 10)
    assert metrics["recall@10"] == 1.0 and metrics["mrr"] == 1.0
    assert ranking_metrics(ranked, {"Title B"}, 3) == {"recall@3": 0.0, "mrr": 0.0,
                                                       "ndcg@10": pytest.approx(1 / np.log2(5))}


def test_a_follow_up_without_cues_keeps_the_previous_route() -> None:
    assert route("可以延长吗？", previous="docs") == Route("docs", "follow-up of the previous question")
    assert route("And for 2019?", previous="sql").name == "sql"
    assert route("平均每月有多少起投诉？", previous="docs").name == "sql"  # a clear cue still wins


def test_a_question_far_from_every_example_goes_to_documents() -> None:
    def embed(texts):  # type: ignore[no-untyped-def]
        # the question is orthogonal to every example: similarity 0
        return np.array([[1.0, 0.0] if text == "tell me a joke" else [0.0, 1.0] for text in texts])

    chosen = route("tell me a joke", embed)
    assert chosen.name == "docs" and chosen.reason.startswith("no close example")
