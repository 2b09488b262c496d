"""How many passages of real policy text the instruction detector would hold: documents cut exactly as ingest cuts
them (readers, chunker, default passage size), each passage checked as ingest checks it. Every flag here is a
false positive to look at: these are published laws and guides.

    python bench/injection.py ../shared/data/policy [--show 20]
"""

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.settings import Settings  # noqa: E402
from ingest.documents.chunking import chunk_text  # noqa: E402
from ingest.documents.readers import DOCUMENT_SUFFIXES, read_document  # noqa: E402
from ingest.items import screen  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--show", type=int, default=20, help="Flagged passages to print.")
    args = parser.parse_args()
    max_tokens = Settings().chunk.max_tokens
    files = passages = 0
    rules: Counter[str] = Counter()
    flagged: list[tuple[Path, str, str]] = []
    for folder in args.folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES):
            try:
                document = read_document(path.read_bytes(), path)
            except Exception as exc:  # noqa: BLE001  (a file ingest would refuse is not counted)
                print(f"skipped {path}: {exc}", file=sys.stderr)
                continue
            files += 1
            for passage in chunk_text(document.text, max_tokens):
                passages += 1
                finding = screen(passage.text, document.title, passage.heading_path)
                if finding is not None:
                    rules[finding.rule] += 1
                    flagged.append((path, finding.rule, finding.match))
    print(f"{files} files, {passages} passages, {len(flagged)} flagged ({len(flagged) / max(passages, 1):.3%})")
    for rule, count in rules.most_common():
        print(f"  {count:>5}  {rule}")
    for path, rule, match in flagged[: args.show]:
        print(f"{path}: {rule}: {match!r}")


if __name__ == "__main__":
    main()
