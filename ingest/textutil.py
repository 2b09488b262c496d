"""Language-aware text helpers: language guess, token estimate, sentence splitting and packing."""

import re
from collections.abc import Iterable

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’.-][A-Za-z0-9]+)*")
_PIECE = re.compile(r"\s*(?:[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=[.:])\s+(?=[A-Z0-9\"“(\[])|\n+")


def detect_language(text: str) -> str:
    """'zh' when CJK characters make up a real share of the letters, else 'en'."""
    cjk = len(_CJK.findall(text))
    latin = sum(len(w) for w in _LATIN_WORD.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk * 3 >= latin else "en"


def _weight(text: str) -> float:
    return len(_CJK.findall(text)) + len(_LATIN_WORD.findall(text)) * 4 / 3


def count_tokens(text: str) -> int:
    """Cheap token estimate: one per CJK character, four per three Latin words."""
    return round(_weight(text))


def split_sentences(text: str) -> list[str]:
    """Split on Chinese and Western sentence ends and line breaks, keeping the punctuation."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _hard_split(sentence: str, max_tokens: int) -> list[str]:
    """Cut an over-long sentence into pieces under the cap (by words for Latin, by characters for CJK)."""
    pieces: list[str] = []
    current, size = "", 0.0
    for token in _PIECE.findall(sentence):
        weight = _weight(token)
        if current and size + weight > max_tokens:
            pieces.append(current.strip())
            current, size = token, weight
        else:
            current, size = current + token, size + weight
    if current.strip():
        pieces.append(current.strip())
    return pieces


def pack_sentences(sentences: Iterable[str], max_tokens: int) -> list[str]:
    """Greedily join sentences into passages of at most max_tokens (estimated)."""
    passages: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in sentences:
        for piece in _hard_split(sentence, max_tokens) if count_tokens(sentence) > max_tokens else [sentence]:
            tokens = count_tokens(piece)
            if current and size + tokens > max_tokens:
                passages.append(_join(current))
                current, size = [], 0
            current.append(piece)
            size += tokens
    if current:
        passages.append(_join(current))
    return passages


def _join(parts: list[str]) -> str:
    """Join sentences with a space between Latin text, nothing between CJK text."""
    out = parts[0]
    for part in parts[1:]:
        sep = "" if _CJK.match(part[:1]) and _CJK.search(out[-1:]) else " "
        out += sep + part
    return out


def split_to_cap(text: str, max_tokens: int) -> list[str]:
    """A passage as-is when it fits, else packed sentence groups under the cap."""
    text = text.strip()
    if not text:
        return []
    if count_tokens(text) <= max_tokens:
        return [text]
    return pack_sentences(split_sentences(text), max_tokens)
