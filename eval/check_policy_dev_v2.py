"""Check eval/policy_dev_v2.jsonl against the policy corpus (standard library only).

    python eval/check_policy_dev_v2.py [--corpus ../shared/data/policy] [--file eval/policy_dev_v2.jsonl] [-v]

What is checked, and why:
- every line has the fields, a known group and part, a unique id, and answerable lines have sources, articles
  and facts while unanswerable ones have none;
- every `sources` entry names exactly one document. `govdata eval ask` counts a citation as right when a
  `sources` entry is a case-insensitive substring of the cited passage's title or file path, so an entry is
  matched here the same way against each corpus file's title (read as ingest reads it: front matter `title:`,
  else the first `#` heading, else the file name) and its path under the corpus. Files that share a title and
  hold the same text (the same regulation saved twice) count as one document; anything else matching two or
  more documents, or none, is an error;
- every `articles` entry is found in one of the line's source documents: a 第…条 article number for a law
  (cut the way ingest/documents/chunking.py cuts laws), a heading or title for an English page;
- every answerable line has 1-3 `must_contain_any` entries, at least one of which appears (case-insensitively,
  as the scorer compares) in the text of the cited articles. Laws must match inside the cited articles; for English
  pages the section under the cited heading is tried first, then the whole page (reported with -v, because
  setext and HTML headings are not sections to the chunker either);
- the held-back part is split by document: no document cited by a held-back line is cited by a tuning line;
- no question repeats one of eval/policy_dev.jsonl (the old set, which was tuned on).
Prints counts per group x part and the held-back documents. Exit status 1 when anything is wrong.
"""

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "data" / "policy"
SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
GROUPS = ("zh-zh", "en-en", "en-zh", "zh-en", "none")
PARTS = ("tune", "held_back")
FIELDS = ("id", "group", "part", "question", "sources", "articles", "must_contain_any", "answerable")

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_NUM = "一二三四五六七八九十百千零〇两0-9０-９"
_ARTICLE = re.compile(rf"^\s*(第[{_NUM}]+条(?:之[{_NUM}]+)?)(?=[\s　]|$)")
_CHAPTER = re.compile(rf"^#{{0,6}}\s*第[{_NUM}]+[编章节]")
_ATX = re.compile(r"^(#{1,6})\s*(\S.*?)\s*#*\s*$")
_HTML_HEADING = re.compile(r"^\s*<h[1-6][^>]*>(.*?)</h[1-6]>", re.I)


class Doc:
    def __init__(self, path: Path, root: Path):
        self.path = path
        self.rel = path.relative_to(root).as_posix()
        raw = unicodedata.normalize("NFC", path.read_text(encoding="utf-8-sig", errors="replace"))
        title, text = "", raw
        front = _FRONT.match(raw)
        if front:
            found = re.search(r"^title:\s*[\"']?(.+?)[\"']?\s*$", front.group(1), re.M)
            title = found.group(1).strip() if found else ""
            text = raw[front.end():]
        if not title:
            heading = re.search(r"^#\s*(.+?)\s*#*\s*$", text, re.M)
            title = heading.group(1).strip() if heading else path.stem
        self.title, self.text = title, text
        self.articles = self._law_articles() if self._is_law() else {}

    def _is_law(self) -> bool:
        return sum(1 for line in self.text.splitlines() if _ARTICLE.match(line)) >= 3

    def _law_articles(self) -> dict[str, str]:
        articles: dict[str, list[str]] = {}
        current = None
        for line in self.text.splitlines():
            if _CHAPTER.match(line):
                current = None
                continue
            match = _ARTICLE.match(line)
            if match:
                current = match.group(1)
                articles.setdefault(current, [])
            if current and line.strip():
                articles[current].append(line.strip())
        return {number: "\n".join(lines) for number, lines in articles.items()}

    def section(self, heading: str) -> tuple[str | None, bool]:
        """(text under `heading`, whether it is a real section); None when the heading is not in the page."""
        if heading == self.title:
            return self.text, True
        lines = self.text.splitlines()
        for i, line in enumerate(lines):
            atx = _ATX.match(line)
            if atx and atx.group(2).strip() == heading:
                level, body = len(atx.group(1)), []
                for following in lines[i + 1:]:
                    nxt = _ATX.match(following)
                    if nxt and len(nxt.group(1)) <= level:
                        break
                    body.append(following)
                return "\n".join(body), True
        if heading in self.text:  # HTML or setext heading, a table row, a field name: not a section
            return self.text, False
        return None, False


def load_corpus(root: Path) -> list[Doc]:
    docs = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUFFIXES and not any(
                part.startswith(".") for part in path.relative_to(root).parts):
            docs.append(Doc(path, root))
    return docs


def match_source(source: str, docs: list[Doc]) -> list[Doc]:
    needle = source.lower()
    return [d for d in docs if needle in d.title.lower() or needle in d.rel.lower()]


def distinct(docs: list[Doc]) -> dict[str, list[Doc]]:
    by_title: dict[str, list[Doc]] = defaultdict(list)
    for doc in docs:
        by_title[doc.title].append(doc)
    return by_title


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--file", type=Path, default=HERE / "policy_dev_v2.jsonl")
    parser.add_argument("--old", type=Path, default=HERE / "policy_dev.jsonl")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    docs = load_corpus(args.corpus)
    if not docs:
        print(f"no documents under {args.corpus}")
        return 1
    errors: list[str] = []
    notes: list[str] = []
    rows = []
    for number, line in enumerate(args.file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: invalid JSON ({exc.msg})")

    ids = Counter(r.get("id") for r in rows)
    errors += [f"id {i!r} used {n} times" for i, n in ids.items() if n > 1]
    old_questions = set()
    if args.old.is_file():
        old_lines = args.old.read_text(encoding="utf-8").splitlines()
        old_questions = {json.loads(text)["question"].strip() for text in old_lines if text.strip()}

    cited: dict[str, dict[str, set[str]]] = {"tune": defaultdict(set), "held_back": defaultdict(set)}
    source_docs: dict[str, dict[str, list[Doc]]] = {}
    for row in rows:
        rid = row.get("id", "?")
        missing = [f for f in FIELDS if f not in row]
        if missing:
            errors.append(f"{rid}: missing {missing}")
            continue
        if row["group"] not in GROUPS or row["part"] not in PARTS:
            errors.append(f"{rid}: group {row['group']!r} / part {row['part']!r} unknown")
        if row["question"].strip() in old_questions:
            errors.append(f"{rid}: question repeats eval/policy_dev.jsonl")
        answerable = row["answerable"] is True
        if (row["group"] == "none") == answerable:
            errors.append(f"{rid}: group {row['group']} but answerable={row['answerable']}")
        if not answerable:
            if row["sources"] or row["articles"] or row["must_contain_any"]:
                errors.append(f"{rid}: unanswerable line with sources, articles or facts")
            continue
        if not (row["sources"] and row["articles"] and row["must_contain_any"]):
            errors.append(f"{rid}: answerable line needs sources, articles and must_contain_any")
            continue
        if len(row["must_contain_any"]) > 3:
            errors.append(f"{rid}: {len(row['must_contain_any'])} alternative facts (at most 3)")

        line_docs: list[Doc] = []
        for source in row["sources"]:
            if source not in source_docs:
                source_docs[source] = distinct(match_source(source, docs))
            titles = source_docs[source]
            if len(titles) != 1:
                shown = "; ".join(f"{t} ({', '.join(d.rel for d in ds)})" for t, ds in list(titles.items())[:6])
                errors.append(f"{rid}: source {source!r} matches {len(titles)} documents"
                              + (f": {shown}" if shown else ""))
                continue
            (title, copies), = titles.items()
            if len({d.text for d in copies}) > 1:
                errors.append(f"{rid}: source {source!r}: {len(copies)} files titled {title!r} with different text")
            line_docs.append(copies[0])
            cited[row["part"]][title].add(rid)

        texts, found_any, section_level = [], True, True
        for article in row["articles"]:
            hit = False
            for doc in line_docs:
                if doc.articles:
                    if article in doc.articles:
                        texts.append(doc.articles[article])
                        hit = True
                else:
                    body, real = doc.section(article)
                    if body is not None:
                        texts.append(body)
                        section_level = section_level and real
                        hit = True
            if not hit and line_docs:
                errors.append(f"{rid}: article {article!r} not found in {[d.rel for d in line_docs]}")
                found_any = False
        if not line_docs or not found_any:
            continue
        facts = [str(f) for f in row["must_contain_any"]]
        joined = "\n".join(texts).lower()
        if any(f.lower() in joined for f in facts):
            if not section_level:
                notes.append(f"{rid}: fact found in the page (cited heading is not a markdown section)")
            continue
        whole = "\n".join(d.text for d in line_docs if not d.articles).lower()
        if whole and any(f.lower() in whole for f in facts):
            notes.append(f"{rid}: fact found in the page, not under the cited heading")
            continue
        errors.append(f"{rid}: none of {facts} appears in the cited article(s) {row['articles']}")

    leaked = sorted(set(cited["tune"]) & set(cited["held_back"]))
    for title in leaked:
        errors.append(f"document {title!r} is cited by tuning lines {sorted(cited['tune'][title])[:3]} "
                      f"and held-back lines {sorted(cited['held_back'][title])[:3]}")

    counts = Counter((r.get("group"), r.get("part")) for r in rows)
    print(f"{len(rows)} lines, {len(docs)} corpus files\n")
    print(f"{'group':8} {'tune':>5} {'held_back':>10} {'total':>6}  held share")
    for group in GROUPS:
        tune, held = counts[(group, "tune")], counts[(group, "held_back")]
        total = tune + held
        print(f"{group:8} {tune:5} {held:10} {total:6}  {held / total if total else 0:.2f}")
    tune_all = sum(counts[(g, 'tune')] for g in GROUPS)
    held_all = sum(counts[(g, 'held_back')] for g in GROUPS)
    share = held_all / max(1, tune_all + held_all)
    print(f"{'all':8} {tune_all:5} {held_all:10} {tune_all + held_all:6}  {share:.2f}\n")
    print(f"documents cited by tuning lines: {len(cited['tune'])}; by held-back lines: {len(cited['held_back'])}")
    print("held-back documents:")
    for title in sorted(cited["held_back"]):
        print(f"  {title} ({len(cited['held_back'][title])} lines)")
    duplicates = {t: ds for t, ds in distinct(docs).items() if len(ds) > 1}
    if args.verbose:
        print("\ncorpus titles held by more than one file:")
        for title, copies in sorted(duplicates.items()):
            same = "same text" if len({d.text for d in copies}) == 1 else "different text"
            print(f"  {title}: {len(copies)} files, {same}")
        print("\nnotes:")
        for note in notes:
            print(f"  {note}")
    else:
        print(f"\n{len(notes)} notes, {len(duplicates)} titles shared by several corpus files (-v to list)")
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for error in errors:
            print(f"  {error}")
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
