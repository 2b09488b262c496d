"""Route a question to documents (policy answers), datasets (catalog search) or SQL (approved tables).

Rules decide first, on cue words in Chinese and English; only when they do not (no cue, or a tie) does the
embedding similarity to example questions decide. Probing showed the 1.5B model routes right half the time,
so it is not used here.
"""

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

ROUTES = ("docs", "datasets", "sql")
# Below this mean similarity to the nearest examples a question is off-topic or too vague to route: documents
# (which decline with the closest sources) are the safe default. Leave-one-out over the 18 example questions
# gave 0.255 at the lowest; greetings and off-topic questions scored 0.03-0.23 (bundled USE model).
MIN_SIMILARITY = 0.25

_CUES: dict[str, tuple[str, ...]] = {
    "sql": (
        r"\bhow many\b", r"\bhow much\b", r"\baverage\b", r"\bmean\b", r"\btotal\b", r"\bsum of\b", r"\bcount\b",
        r"\bmost\b", r"\bleast\b", r"\bhighest\b", r"\blowest\b", r"\btop \d+", r"\bper (year|month|day)\b",
        r"\btrend\b", r"\bcompare\b", r"\bbetween \d{4} and \d{4}\b", r"\branked?\b",
        "多少个", "多少起", "多少人", "平均", "总数", "总和", "合计", "最高", "最低", "最多", "最少",
        "排名", "前十", "前\\d+", "趋势", "增长率", "每月", "每年", "每天", "统计一下",
    ),
    "datasets": (
        r"\bdata ?sets?\b", r"\bdata (on|about|for)\b", r"\bwhere can i (find|get|download)\b", r"\bdownload\b",
        r"\bopen data\b.*\b(find|list)\b", r"\bcsv\b", r"\bapi\b",
        "数据集", "資料集", "开放数据", "開放資料", "有没有.*(数据|资料|資料)", "哪里.*(下载|找到)", "下载",
        "找.*(数据|资料|資料)",
    ),
    "docs": (
        r"\blaw\b", r"\bregulation\b", r"\bpolicy\b", r"\brequire[sd]?\b", r"\bmust\b", r"\bdeadline\b",
        r"\bshould\b", r"\blegal(ly)?\b", r"\bguidance\b", r"\bhow (do|can|should) (i|we|agencies)\b",
        "条例", "法律", "法规", "规定", "办法", "应当", "是否", "期限", "义务", "权利", "条件", "程序",
        "怎么办", "如何申请",
    ),
}


@dataclass(frozen=True)
class Route:
    name: str
    reason: str


def rule_scores(question: str) -> dict[str, int]:
    text = question.lower()
    return {route: sum(1 for cue in cues if re.search(cue, text)) for route, cues in _CUES.items()}


@cache
def _examples() -> dict[str, list[str]]:
    raw = resources.files("assistant").joinpath("route_examples.json").read_text(encoding="utf-8")
    return {route: list(questions) for route, questions in json.loads(raw).items()}


def route(question: str, embed: Callable[[Sequence[str]], np.ndarray] | None = None,
          previous: str | None = None) -> Route:
    """The route for a question: by rules when they are decisive; a question with no cue in a conversation
    follows the previous turn's route (a follow-up); else the nearest example questions decide."""
    scores = rule_scores(question)
    best = max(scores.values())
    leaders = [r for r in ROUTES if scores[r] == best]
    if best > 0 and len(leaders) == 1:
        return Route(leaders[0], f"rules ({scores[leaders[0]]} cue(s))")
    if best == 0 and previous in ROUTES:
        return Route(previous, "follow-up of the previous question")
    if embed is None:
        choice = leaders[0] if best > 0 else "docs"
        return Route(choice, "default" if best == 0 else "rules tie, first route")
    candidates = leaders if best > 0 else list(ROUTES)
    examples = _examples()
    texts = [question] + [q for r in candidates for q in examples[r]]
    vectors = embed(texts)
    similarity = vectors[1:] @ vectors[0]
    offset, means = 0, {}
    for r in candidates:
        n = len(examples[r])
        means[r] = float(np.sort(similarity[offset : offset + n])[-3:].mean())
        offset += n
    choice = max(means, key=lambda r: means[r])
    if means[choice] < MIN_SIMILARITY:
        return Route("docs", f"no close example ({means[choice]:.2f}), documents by default")
    return Route(choice, f"nearest examples ({means[choice]:.2f})")
