"""Ingest throughput: the pipeline's items/s against the raw embedder encoding the same texts, and re-ingest time.

Usage: python bench/ingest.py [PATH ...]   (default: data/sample). Prints a JSON report on stdout.
Goal (issue 2): pipeline/raw ratio >= 0.9; unchanged re-ingest >= 10x faster than the first.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402
from ingest.items import load_source  # noqa: E402
from ingest.options import OptionsResolver  # noqa: E402
from ingest.pipeline import discover  # noqa: E402


def _texts(paths: list[Path], settings: Settings) -> list[str]:
    resolver = OptionsResolver()
    texts: list[str] = []
    for path, root in discover([p.resolve() for p in paths], resolver):
        try:
            loaded = load_source(path, path.read_bytes(), resolver.resolve(path, root), settings)
        except Exception:  # broken inputs are not part of the throughput measurement
            continue
        texts.extend(item.embed_text for item in loaded.items)
    return texts


def _one_round(paths: list[Path], texts: list[str], services_home: Path) -> dict[str, float]:
    """Raw embedder and pipeline on the same texts, back to back, in a fresh store."""
    services = Services(Settings(home=services_home))
    services.embeddings.embed_array(["warm-up"])
    start = time.perf_counter()
    services.embeddings.embed_array(texts)
    raw_seconds = time.perf_counter() - start
    start = time.perf_counter()
    summary = services.ingest(paths)
    first_seconds = time.perf_counter() - start
    start = time.perf_counter()
    again = services.ingest(paths)
    second_seconds = time.perf_counter() - start
    items = summary.added + summary.updated
    return {
        "raw_per_s": len(texts) / raw_seconds, "pipeline_per_s": items / first_seconds,
        "ratio": (items / first_seconds) / (len(texts) / raw_seconds), "first_s": first_seconds,
        "reingest_s": second_seconds, "items": items, "skipped_again": again.skipped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("data/sample")])
    parser.add_argument("--rounds", type=int, default=3, help="Repeat and report medians (the CPU is noisy).")
    args = parser.parse_args()
    texts = _texts(args.paths, Settings())
    rounds = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as home:
            rounds.append(_one_round(args.paths, texts, Path(home)))

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "paths": [str(p) for p in args.paths],
        "items": int(rounds[0]["items"]),
        "rounds": args.rounds,
        "raw_embedder_items_per_s": round(median("raw_per_s"), 1),
        "pipeline_items_per_s": round(median("pipeline_per_s"), 1),
        "ratio": round(median("ratio"), 3),
        "ratios": [round(r["ratio"], 3) for r in rounds],
        "first_ingest_s": round(median("first_s"), 2),
        "unchanged_reingest_s": round(median("reingest_s"), 3),
        "reingest_speedup": round(median("first_s") / median("reingest_s"), 1),
        "reingest_skipped": int(rounds[0]["skipped_again"]),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
