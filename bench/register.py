"""How long the register takes to build, and how much memory, for the whole shared catalog set.

    python bench/register.py --out bench/results/register.json

Every catalog file under ../shared/data/catalogs is read by the product's own loader (`ingest.items.load_source`,
no embedding: the register does not need vectors), its records written to a content table the way ingest
stores them, and then the register is built from that table exactly as `govdata register list` does it:
read every record, score every rule, find duplicates across the whole set. Reported: records, seconds to read
and to build, peak Python memory of the build, and the score distribution.
"""

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.register.entries import build, from_record  # noqa: E402
from core.errors import GovDataError  # noqa: E402
from core.settings import Settings  # noqa: E402
from ingest.items import load_source  # noqa: E402
from ingest.options import SourceOptions  # noqa: E402
from vectorstore.content import ContentStore  # noqa: E402
from vectorstore.store import DATASETS  # noqa: E402

CATALOGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "catalogs"
KINDS = (".json", ".csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogs", type=Path, default=CATALOGS)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govdata-register-"))
    settings = Settings(home=work)
    contents = ContentStore(work / "contents.sqlite")
    files, skipped = 0, []
    started = time.perf_counter()
    for path in sorted(p for p in args.catalogs.rglob("*") if p.suffix.lower() in KINDS):
        try:
            loaded = load_source(path, path.read_bytes(), SourceOptions(), settings)
        except GovDataError as exc:
            skipped.append(f"{path.name}: {str(exc)[:80]}")
            continue
        if loaded.kind != "catalog":
            continue
        files += 1
        items = loaded.items
        contents.upsert(DATASETS, [i.item_id for i in items], [i.document for i in items], [i.payload for i in items])
    load_s = time.perf_counter() - started

    tracemalloc.start()
    started = time.perf_counter()
    rows = contents.all_rows(DATASETS)
    read_s = time.perf_counter() - started
    entries = build(from_record(item_id, payload) for item_id, _, _, payload in rows)
    build_s = time.perf_counter() - started - read_s
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    scores = [e.quality.score for e in entries]
    rules = Counter(loss.rule for e in entries for loss in e.quality.losses)
    report = {"machine": f"{platform.machine()}, Python {platform.python_version()}", "command": " ".join(sys.argv),
              "catalog_files": files, "records": len(entries), "skipped_files": skipped,
              "parse_and_store_s": round(load_s, 1), "read_s": round(read_s, 2), "build_s": round(build_s, 2),
              "peak_python_mb": round(peak / 2**20, 1), "score_median": statistics.median(scores) if scores else None,
              "stale": sum(e.quality.stale for e in entries), "losses_by_rule": dict(rules.most_common()),
              "score_deciles": [round(q) for q in statistics.quantiles(scores, n=10)] if len(scores) > 10 else []}
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
