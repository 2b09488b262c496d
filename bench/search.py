"""Dataset search latency at scale (answer latency: bench/ask.py).

1. Dataset search p50/p95 over a store of --items records (default 100,000) with the citizen access filter on:
   real catalog records from --corpus are embedded once and replicated (vectors jittered and re-normalised,
   access levels drawn 60/25/15 public/restricted/non-public) up to the size, written straight into a real
   Chroma + content store. Query embedding included, no LLM.

Usage: python bench/search.py [--items 100000] [--queries 200]
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402
from ingest.items import load_source  # noqa: E402
from ingest.options import OptionsResolver  # noqa: E402
from ingest.pipeline import discover  # noqa: E402
from vectorstore.store import DATASETS  # noqa: E402
from vectorstore.tokenize import tokenize  # noqa: E402

LEVELS = ("public", "restricted public", "non-public")


def _dataset_items(corpus: Path) -> list:  # type: ignore[type-arg]
    resolver, items = OptionsResolver(), []
    for path, root in discover([corpus.resolve()], resolver):
        loaded = load_source(path, path.read_bytes(), resolver.resolve(path, root), Settings())
        items += [i for i in loaded.items if i.collection == DATASETS]
    return items


def _fill(services: Services, items: list, total: int, seed: int = 7) -> None:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    base = services.embeddings.embed_array([i.embed_text for i in items])
    tokens = {i.item_id: " ".join(tokenize(i.embed_text)) for i in items}
    batch = 4000
    for start in range(0, total, batch):
        n = min(batch, total - start)
        picks = rng.integers(0, len(items), n)
        vectors = base[picks] + rng.normal(0, 0.02, (n, base.shape[1])).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        levels = rng.choice(LEVELS, n, p=[0.6, 0.25, 0.15])
        ids = [f"{items[p].item_id}#{start + j}" for j, p in enumerate(picks)]
        metadatas = [{**items[p].metadata, "access_level": str(levels[j])} for j, p in enumerate(picks)]
        payloads = [{**items[p].payload, "access_level": str(levels[j])} for j, p in enumerate(picks)]
        services.store.upsert(DATASETS, ids, vectors, [items[p].document for p in picks], metadatas, payloads)
        services.store.contents.save_tokens(DATASETS, {ids[j]: tokens[items[p].item_id] for j, p in enumerate(picks)})


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1)}


def search_latency(items_total: int, queries: list[str], corpus: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as home:
        services = Services(Settings(home=Path(home)))
        start = time.perf_counter()
        _fill(services, _dataset_items(corpus), items_total)
        fill_s = time.perf_counter() - start
        start = time.perf_counter()
        services.retriever.keywords.get(DATASETS)
        index_s = time.perf_counter() - start
        report: dict[str, object] = {"items": services.store.count(DATASETS), "fill_s": round(fill_s, 1),
                                     "keyword_index_build_s": round(index_s, 1)}
        for mode in ("weighted", "dense"):
            services.search_datasets(queries[0], k=10, role="citizen", fusion=mode)  # warm
            times, leaks = [], 0
            for query in queries:
                start = time.perf_counter()
                results = services.search_datasets(query, k=10, role="citizen", fusion=mode)  # type: ignore[arg-type]
                times.append(time.perf_counter() - start)
                leaks += sum(r.access_level != "public" for r in results)
            report[mode] = {**_percentiles(times), "queries": len(queries), "non_public_results": leaks}
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--corpus", type=Path, default=Path("data/sample/catalogs"))
    args = parser.parse_args()
    lines = Path("eval/datasets_dev.jsonl").read_text(encoding="utf-8").splitlines()
    dev = [json.loads(line)["query"] for line in lines]
    queries = [dev[i % len(dev)] for i in range(args.queries)]
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "search": search_latency(args.items, queries, args.corpus)}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
