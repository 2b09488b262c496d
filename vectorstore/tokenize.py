"""Keyword tokens for BM25: jieba words and character bigrams for Chinese (traditional folded to simplified
with OpenCC), lower-cased words for Latin text."""

import logging
import re
from collections.abc import Callable
from functools import cache
from typing import Any

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_STOP = frozenset(
    "a an and are as at be by for from has have how i in is it its of on or that the this to was what when "
    "where which who why will with do does can my me we our you your "
    "的 了 和 是 在 有 与 及 或 等 吗 呢 什么 哪些 如何 怎么".split()
)


@cache
def _to_simplified() -> Callable[[str], str]:
    import opencc

    convert: Callable[[str], str] = opencc.OpenCC("t2s").convert
    return convert


@cache
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str) -> list[str]:
    """Tokens of a text for keyword matching; traditional Chinese is folded to simplified first, so 臺北 and
    台北 meet; order is kept, stop words dropped."""
    lowered = text.lower()
    if _CJK_RUN.search(lowered):
        lowered = _to_simplified()(lowered)
    tokens = [w for w in _WORD.findall(lowered) if w not in _STOP]
    for run in _CJK_RUN.findall(lowered):
        tokens.extend(w for w in _jieba().lcut(run) if w.strip() and w not in _STOP)
        tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


def has_cjk(text: str) -> bool:
    return bool(_CJK_RUN.search(text))


def simplified(text: str) -> str:
    """Traditional Chinese folded to simplified (the dictionary and the index read simplified)."""
    return _to_simplified()(text) if _CJK_RUN.search(text) else text


def words_of(text: str) -> list[str]:
    """The lower-cased Latin words of a text, as the index reads them (stop words left in)."""
    return _WORD.findall(text.lower())
