"""Cut document text into passages: by article (第X条) for laws, by heading for everything else."""

import re
from dataclasses import dataclass

from ingest.textutil import split_to_cap

_NUM = "一二三四五六七八九十百千零〇两0-9０-９"
_ARTICLE = re.compile(rf"^\s*(第[{_NUM}]+条(?:之[{_NUM}]+)?)(?=[\s　]|$)")
_CHAPTER = re.compile(rf"^#{{0,6}}\s*(第[{_NUM}]+[编章])[\s　]*(.*)$")
_SECTION = re.compile(rf"^#{{0,6}}\s*(第[{_NUM}]+节)[\s　]*(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s*(\S.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_NOISE = re.compile(r"^\s*(\{:.*\}|<!--.*-->|\*\s*Table of Contents|\{:toc\})\s*$", re.I)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


@dataclass(frozen=True)
class Passage:
    text: str
    heading_path: tuple[str, ...] = ()
    article: str = ""
    chapter: str = ""


def is_law(text: str) -> bool:
    """Law-shaped text: several lines that open with an article number."""
    return sum(1 for line in text.splitlines() if _ARTICLE.match(line)) >= 3


def _clean(line: str) -> str:
    return _TAG.sub("", _LINK.sub(r"\1", line)).rstrip()


def chunk_law(text: str, max_tokens: int) -> list[Passage]:
    """One passage per article (split further only when over the cap), keeping chapter and section."""
    passages: list[Passage] = []
    chapter = section = article = ""
    body: list[str] = []

    def flush() -> None:
        path = tuple(p for p in (chapter, section) if p)
        for piece in split_to_cap("\n".join(body), max_tokens):
            passages.append(Passage(piece, path, article, chapter))
        body.clear()

    for raw in text.splitlines():
        line = _clean(raw)
        if not line.strip() or _NOISE.match(raw):
            continue
        chapter_match, section_match, article_match = _CHAPTER.match(line), _SECTION.match(line), _ARTICLE.match(line)
        if chapter_match or section_match:
            flush()
            article = ""
            if chapter_match:
                chapter, section = " ".join(p for p in chapter_match.groups() if p).strip(), ""
            elif section_match:
                section = " ".join(p for p in section_match.groups() if p).strip()
        elif article_match:
            flush()
            article = article_match.group(1)
            body.append(line.strip())
        elif line.startswith("# "):
            continue
        else:
            body.append(line.strip().lstrip("#").strip())
    flush()
    return passages


def chunk_markdown(text: str, max_tokens: int) -> list[Passage]:
    """One passage per heading section (split by sentences when over the cap), with the heading path."""
    passages: list[Passage] = []
    headings: list[tuple[int, str]] = []
    body: list[str] = []
    in_fence = False

    def flush() -> None:
        path = tuple(title for _, title in headings)
        for piece in split_to_cap("\n".join(body), max_tokens):
            passages.append(Passage(piece, path))
        body.clear()

    for raw in text.splitlines():
        if raw.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING.match(raw)
        if heading and not raw.startswith("#!"):
            flush()
            level = len(heading.group(1))
            headings[:] = [h for h in headings if h[0] < level] + [(level, _clean(heading.group(2)))]
        elif not _NOISE.match(raw):
            body.append(_clean(raw))
    flush()
    return passages


def chunk_text(text: str, max_tokens: int) -> list[Passage]:
    return chunk_law(text, max_tokens) if is_law(text) else chunk_markdown(text, max_tokens)
