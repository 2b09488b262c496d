"""Which bundled embedding model finds the right datasets? Recall@10 and MRR per query group, and speed.

Usage: python bench/embeddings.py [--queries bench/data/sample_search.jsonl] [--catalogs data/sample/catalogs]
Groups: en (English query, English records), zh-en (Chinese query, English records), zh-zh (Chinese, Chinese).
Plain dense search over every dataset record's text, so the numbers measure the model, not the retriever.
"""

import argparse
import json
import os
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import EmbeddingSettings, Settings  # noqa: E402
from ingest.items import load_source  # noqa: E402
from ingest.options import OptionsResolver  # noqa: E402
from ingest.pipeline import discover  # noqa: E402
from vectorstore.embeddings import build_embeddings  # noqa: E402


def _records(root: Path) -> tuple[list[str], list[set[str]]]:
    resolver, texts, keys = OptionsResolver(), [], []
    for path, top in discover([root.resolve()], resolver):
        loaded = load_source(path, path.read_bytes(), resolver.resolve(path, top), Settings())
        for item in loaded.items:
            texts.append(item.embed_text)
            keys.append({str(item.payload["identifier"]), str(item.payload["title"])})
    return texts, keys


def _score(model: str, texts: list[str], keys: list[set[str]], queries: list[dict]) -> dict:
    embeddings = build_embeddings(EmbeddingSettings(model=model))  # type: ignore[arg-type]
    embeddings.embed_array(["warm-up"])
    start = time.perf_counter()
    matrix = embeddings.embed_array(texts)
    per_second = len(texts) / (time.perf_counter() - start)
    vectors = embeddings.embed_array([q["query"] for q in queries])
    groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for query, vector in zip(queries, vectors, strict=True):
        ranking = np.argsort(-(matrix @ vector))[:10]
        relevant = set(query["relevant"])
        ranks = [r for r, idx in enumerate(ranking, 1) if keys[idx] & relevant]
        groups[query["group"]].append((1.0 if ranks else 0.0, 1.0 / ranks[0] if ranks else 0.0))
    report = {g: {"recall@10": round(float(np.mean([h for h, _ in v])), 3),
                  "mrr": round(float(np.mean([m for _, m in v])), 3), "queries": len(v)} for g, v in groups.items()}
    return {"texts_per_s": round(per_second, 1), "groups": report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=Path, default=Path("bench/data/sample_search.jsonl"))
    parser.add_argument("--catalogs", type=Path, default=Path("data/sample/catalogs"))
    parser.add_argument("--models", nargs="+", default=["use-multilingual-v3", "all-minilm-l6-v2"])
    args = parser.parse_args()
    queries = [json.loads(line) for line in args.queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts, keys = _records(args.catalogs)
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "records": len(texts),
        "models": {model: _score(model, texts, keys, queries) for model in args.models},
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
