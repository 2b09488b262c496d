"""Dataset search at 10^5 and 10^6 catalog records: embedded Chroma vs a Chroma server, same run, same data.

    python bench/scale.py --sizes 100000 1000000 --out bench/results/scale.json

How the records are made: real catalog records from ../shared/data/catalogs are ingested with the product's
own pipeline and bundled encoder (their vectors, texts and records are the base); the N records are copies
of the base, each vector moved by a small random offset and renormalised, so neighbourhoods stay realistic
(embedding 10^6 records on 2 cores would take hours and measure the encoder, not the store). Access levels
are 80% public, 15% restricted public, 5% non-public. Both stores get the same records through
`ChromaStore.upsert` (the product's write path, content table included), and are searched through
`ChromaStore.query` with the citizen's filter (public only) and the steward's (all levels), with real query
vectors of the bundled encoder. Reported: p50/p95 ms per search, records/s written, disk bytes per record,
and the server's resident memory.
"""

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.factories import model_info  # noqa: E402
from assistant.services import Services  # noqa: E402
from core.settings import Settings  # noqa: E402
from vectorstore.store import DATASETS, ChromaServer, ChromaStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = ROOT.parent / "shared" / "data" / "catalogs"
BASE_FILES = ["us_federal_datajson/energy.data.json", "us_federal_datajson/dol.data.json",
              "us_federal_datajson/gsa.data.json", "tw_ckan_2018/kaohsiung.2018.03.20.OD.csv"]
QUERIES = ["air quality monitoring", "空气质量", "unemployment insurance claims", "公車路線", "energy efficiency",
           "federal buildings", "workplace safety inspections", "人口統計", "solar power", "contract awards",
           "停車場", "budget and spending", "交通事故", "wage and hour", "natural gas prices", "圖書館"]
LEVELS = ("public", "restricted public", "non-public")
WRITE_BATCH = 2000


def base_records(work: Path) -> tuple[np.ndarray, list[str], list[dict[str, Any]], list[dict[str, Any]], Any]:
    """Real records through the product's ingest: vectors, texts, filter metadata and records."""
    services = Services(Settings(home=work / "base"))
    services.ingest([CATALOGS / f for f in BASE_FILES])
    store = services.store
    database = sqlite3.connect(work / "base" / "chroma" / "contents.sqlite")
    rows = database.execute("SELECT item_id, text, payload FROM contents WHERE collection = ?", (DATASETS,)).fetchall()
    vectors = store.vectors(DATASETS, [r[0] for r in rows])
    keep = [r for r in rows if r[0] in vectors]
    payloads = [json.loads(r[2]) for r in keep]
    metadatas = [{"access_level": "public", "catalog": str(p.get("catalog", "")),
                  "publisher": str(p.get("publisher", ""))[:200]} for p in payloads]
    return (np.stack([vectors[r[0]] for r in keep]), [r[1] for r in keep], metadatas, payloads,
            services.embeddings)


def synthetic(base: np.ndarray, start: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Vectors `start..start+count`: base vector (i mod B) plus a small offset, renormalised; their levels."""
    index = np.arange(start, start + count) % len(base)
    vectors = base[index] + rng.normal(0, 0.03, (count, base.shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    draw = rng.random(count)
    levels = [LEVELS[0] if d < 0.80 else LEVELS[1] if d < 0.95 else LEVELS[2] for d in draw]
    return vectors.astype(np.float32), levels


def fill(store: ChromaStore, size: int, base: np.ndarray, texts: list[str], metadatas: list[dict[str, Any]],
         payloads: list[dict[str, Any]], seed: int) -> float:
    """Write records until the store holds `size` (same records for every store: same seed); seconds taken."""
    rng = np.random.default_rng(seed)
    have = store.count(DATASETS)  # records already written: the stream is regenerated and they are skipped
    started = time.perf_counter()
    written = 0
    for start in range(0, size, WRITE_BATCH):
        count = min(WRITE_BATCH, size - start)
        vectors, levels = synthetic(base, start, count, rng)
        if start + count <= have:
            continue
        n = [(start + i) % len(base) for i in range(count)]
        ids = [f"r{start + i}" for i in range(count)]
        store.upsert(DATASETS, ids, vectors, [texts[j] for j in n],
                     [{**metadatas[j], "access_level": level} for j, level in zip(n, levels, strict=True)],
                     [{**payloads[j], "identifier": ids[i], "access_level": levels[i]} for i, j in enumerate(n)])
        written += count
    return time.perf_counter() - started if written else 0.0


def searches(store: ChromaStore, queries: list[list[float]], levels: tuple[str, ...], rounds: int) -> dict[str, float]:
    for vector in queries[:3]:  # warm the index into memory
        store.query(DATASETS, vector, k=10, levels=levels)
    times = []
    for _ in range(rounds):
        for vector in queries:
            started = time.perf_counter()
            hits = store.query(DATASETS, vector, k=10, levels=levels)
            times.append((time.perf_counter() - started) * 1000)
            assert hits and all(h.payload.get("access_level") in levels for h in hits)
    times.sort()
    return {"searches": len(times), "p50_ms": round(times[len(times) // 2], 2),
            "p95_ms": round(times[int(len(times) * 0.95)], 2)}


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def start_server(path: Path, port: int) -> subprocess.Popen[bytes]:
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).close()  # noqa: S310
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("chroma run did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=10, help="passes over the query set per measurement")
    parser.add_argument("--work", type=Path, help="folder for the stores (default: a temporary one)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="govdata-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    base, texts, metadatas, payloads, encoder = base_records(work)
    queries = [v.tolist() for v in encoder.embed_array(QUERIES)]
    model = model_info(Settings(home=work / "base"))
    port = 18000 + os.getpid() % 1000
    server = start_server(work / "server", port)
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "command": " ".join(sys.argv), "base_records": len(base), "queries": len(QUERIES), "sizes": {}}
    try:
        stores = {"embedded": ChromaStore(work / "embedded", model, lambda: encoder),
                  "server": ChromaStore(work / "server-contents", model, lambda: encoder,
                                        ChromaServer(f"http://127.0.0.1:{port}"))}
        for size in sorted(args.sizes):
            row: dict[str, Any] = {}
            for name, store in stores.items():
                added = size - store.count(DATASETS)
                seconds = fill(store, size, base, texts, metadatas, payloads, seed=7)
                row[name] = {"records": store.count(DATASETS),
                             "write_records_per_s": round(added / seconds) if seconds else None,
                             "citizen": searches(store, queries, ("public",), args.rounds),
                             "steward": searches(store, queries, LEVELS, args.rounds)}
                print(size, name, json.dumps(row[name]), flush=True)
            embedded_bytes = folder_bytes(work / "embedded")
            row["embedded"]["disk_bytes_per_record"] = round(embedded_bytes / size)
            row["server"]["server_disk_bytes_per_record"] = round(folder_bytes(work / "server") / size)
            row["server"]["server_rss_bytes"] = rss_bytes(server.pid)
            row["content_table_bytes_per_record"] = round(
                (work / "embedded" / "contents.sqlite").stat().st_size / size)
            first, second = row["embedded"]["write_records_per_s"], row["server"]["write_records_per_s"]
            row["write_ratio_server_to_embedded"] = round(second / first, 2) if first and second else None
            report["sizes"][str(size)] = row
            args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    finally:
        server.terminate()
        server.wait(timeout=60)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
