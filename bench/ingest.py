"""Ingest throughput: the pipeline's items/s against the raw embedder encoding the same texts, and re-ingest time.

Usage: python bench/ingest.py [PATH ...]   (default: data/sample). Prints a JSON report on stdout.
Goal (issue 2): pipeline/raw ratio >= 0.9; unchanged re-ingest >= 10x faster than the first.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.config import Settings  # noqa: E402
from assistant.services import Services  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("data/sample")])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home))
        services = Services(settings)
        services.embeddings.embed_array(["warm-up"])
        texts = _texts(args.paths, settings)

        start = time.perf_counter()
        services.embeddings.embed_array(texts)
        raw_seconds = time.perf_counter() - start

        start = time.perf_counter()
        summary = services.ingest(args.paths)
        first_seconds = time.perf_counter() - start

        start = time.perf_counter()
        again = services.ingest(args.paths)
        second_seconds = time.perf_counter() - start

    items = summary.added + summary.updated
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "paths": [str(p) for p in args.paths],
        "items": items,
        "raw_embedder_items_per_s": round(len(texts) / raw_seconds, 1),
        "pipeline_items_per_s": round(items / first_seconds, 1),
        "ratio": round((items / first_seconds) / (len(texts) / raw_seconds), 3),
        "first_ingest_s": round(first_seconds, 2),
        "unchanged_reingest_s": round(second_seconds, 2),
        "reingest_speedup": round(first_seconds / second_seconds, 1),
        "reingest_skipped": again.skipped,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
