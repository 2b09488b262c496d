"""Claims checked against their sources (issue 29): each sentence of an answer must be supported by the passages it
cites — its numbers, dates, durations and article numbers, and (when it is written in the passage's language)
the bodies it names. A sentence that states what its passages do not is dropped, and the page says which.

Numbers are compared as numbers: 二十个工作日 in a Chinese article supports "20 working days" in an English
answer, and 第三十三条 supports "Article 33".
"""

import re
from collections.abc import Sequence

_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]?|[^.]+(?:\.(?!\d)|$)")
_SPLIT = re.compile(r"(?<=[。！？!?])|(?<=[.;])\s+(?=[A-Z\[（(\"“])")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
_CN_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_BODY = re.compile(r"[\u4e00-\u9fff]{2,14}?(?:委员会|办公室|人民政府|人民法院|人民检察院|国务院|部门|部|局|署|厅"
                      r"|委|院)")
_EN_BODY = re.compile(r"\b(?:[A-Z][a-z]+|of|and|the|for)(?:\s+(?:[A-Z][a-z]+|of|and|the|for)){1,6}\b")


def chinese_number(text: str) -> int | None:
    """The value of a Chinese numeral (二十 -> 20, 三千五百 -> 3500, 一万二 -> 12000); None when it is not one."""
    if not text or not _CN_NUMBER.fullmatch(text):
        return None
    total, section, digit = 0, 0, None
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            section += (digit if digit is not None else 1) * _CN_UNITS[char]
            digit = None
        elif char == "万":
            total += (section + (digit or 0)) * 10_000
            section, digit = 0, None
    if digit is not None and len(text) > 1 and text[-2] in "万千百" and not section % 10:
        digit *= {"万": 1000, "千": 100, "百": 10}[text[-2]]  # 一万二 = 12000, 三千五 = 3500
    return total + section + (digit or 0)


def numbers_in(text: str) -> set[str]:
    """Every number a text states, as plain digits (Chinese numerals read, thousands separators dropped)."""
    found = {n.replace(",", "") for n in _DIGITS.findall(_MARKER.sub("", text))}
    for numeral in _CN_NUMBER.findall(text):
        value = chinese_number(numeral)
        if value is not None and (len(numeral) > 1 or numeral not in "一两"):
            found.add(str(value))
    return found


def sentences(text: str) -> list[str]:
    """An answer cut into sentences (Chinese and English punctuation), citation markers kept with theirs."""
    parts = [p.strip() for p in _SPLIT.split(text) if p and p.strip()]
    return parts or [text]


def _bodies(text: str) -> set[str]:
    """Names of bodies a text states: Chinese ones by their ending (局, 委员会, ...), English ones as runs of
    capitalised words (a leading article dropped), lower-cased so "the Office of ..." meets "The Office of ..."."""
    english = set()
    for match in _EN_BODY.finditer(text):
        words = match.group(0).split()
        while words and words[0].lower() in ("the", "a", "an", "of", "and", "for"):
            words = words[1:]
        if len(words) > 1 and words[0][0].isupper():
            english.add(" ".join(words).lower())
    return {m.group(0) for m in _ZH_BODY.finditer(text)} | english


def unsupported(sentence: str, passages: Sequence[str], question: str) -> list[str]:
    """The facts of one sentence that neither its passages nor the question state (empty: supported)."""
    evidence = " ".join([question, *passages])
    missing = sorted(numbers_in(sentence) - numbers_in(evidence))
    if not _is_chinese(sentence) == _is_chinese(" ".join(passages)):
        return missing  # names are checked only within one language
    known, lowered = _bodies(evidence), evidence.lower()
    return missing + sorted(b for b in _bodies(_MARKER.sub("", sentence))
                            if b not in lowered and not any(b in k or k in b for k in known))


def check_claims(answer: str, passages: dict[int, str], question: str) -> tuple[str, list[str]]:
    """The answer with its unsupported sentences dropped, and those sentences. A sentence is read against the
    passages it cites, or, when it cites none, against every passage the answer cites."""
    cited_anywhere = [passages[n] for n in sorted(passages)]
    kept, dropped = [], []
    for sentence in sentences(answer):
        own = [passages[int(n)] for n in _MARKER.findall(sentence) if int(n) in passages]
        if unsupported(sentence, own or cited_anywhere, question):
            dropped.append(sentence)
        else:
            kept.append(sentence)
    joiner = "" if _is_chinese(answer) else " "
    return joiner.join(kept).strip(), dropped


def _is_chinese(text: str) -> bool:
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    return han > len(re.findall(r"[A-Za-z]", text)) / 3
