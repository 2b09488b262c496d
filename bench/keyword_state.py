"""Keyword search where the shared state is (issue 34): what each way costs at N catalog records.

    python bench/keyword_state.py --base H/chroma/contents.sqlite --sizes 100000 1000000 \\
        --out bench/results/keyword_state.json

H is a GOVDATA_HOME that ingested real catalogs (e.g. `govdata ingest ../shared/data/catalogs`); its dataset
records are the base. The N records are copies of the base (new ids; access levels 80/15/5% public/restricted/
non-public), so texts and token statistics are real, and each base record appears N/base times. A real
PostgreSQL cluster is started from Debian's packages (tests/e2e/conftest.py's) on 127.0.0.1.

Measured, for the citizen's filter (public only), 16 queries (8 Chinese, 8 English), each run 3 times warm:
1. shared table, local index (what the product does): pulling (id, tokens, level) of every row from PostgreSQL
   and building the BM25 index, which each host does when the shared generation moves; then search in memory.
2. PostgreSQL full-text: the same tokens (jieba words + character bigrams, made by the app at ingest, so no
   Chinese parser runs in PostgreSQL) stored as `array_to_tsvector(tokens)` with a GIN index; a query is the OR
   of its tokens, ranked by `ts_rank`, top 100.
3. BM25 in PostgreSQL: postings (term, doc, tf) with a (term, doc, tf) index, document lengths and per-term idf;
   a query sums Okapi BM25 (k1=1.2, b=0.75, as vectorstore/bm25.py) over its terms' postings, top 100.
Quality proxy: overlap of each top-10 with the local BM25 top-10, by base record (copies of a record are one
result; Jaccard of the two sets).
"""

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.conftest import postgres_cluster  # noqa: E402
from vectorstore.bm25 import Bm25Index  # noqa: E402
from vectorstore.tokenize import tokenize  # noqa: E402

QUERIES = ["air quality monitoring", "空气质量", "unemployment insurance claims", "公車路線", "energy efficiency",
           "federal buildings", "workplace safety inspections", "人口統計", "solar power", "contract awards",
           "停車場", "budget and spending", "交通事故", "wage and hour", "natural gas prices", "圖書館"]
LEVELS = ("public", "restricted public", "non-public")
REPEATS = 3


def base_rows(path: Path) -> list[tuple[str, list[str]]]:
    """(id, tokens) of every dataset record of a content table (tokens made now where none were cached)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = con.execute("SELECT item_id, text, tokens FROM contents WHERE collection = 'datasets'").fetchall()
    con.close()
    return [(i, tokens.split() if tokens is not None else tokenize(text)) for i, text, tokens in rows]


def replicas(base: list[tuple[str, list[str]]], n: int, seed: int = 7) -> tuple[list[str], list[list[str]], list[str]]:
    rng = random.Random(seed)
    ids, tokens, levels = [], [], []
    for k in range(n):
        item_id, words = base[k % len(base)]
        ids.append(f"{item_id}#{k // len(base)}")
        tokens.append(words)
        levels.append(rng.choices(LEVELS, weights=(80, 15, 5))[0])
    return ids, tokens, levels


def load_postgres(con: Any, ids: list[str], tokens: list[list[str]], levels: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    con.execute("DROP TABLE IF EXISTS kw")
    con.execute("CREATE TABLE kw (item_id text PRIMARY KEY, level text NOT NULL, tokens text[] NOT NULL)")
    with con.cursor() as cur, cur.copy("COPY kw (item_id, level, tokens) FROM STDIN") as copy:
        for row in zip(ids, levels, tokens, strict=True):
            copy.write_row(row)
    copied = time.perf_counter()
    con.execute("ALTER TABLE kw ADD COLUMN lexemes tsvector")
    con.execute("UPDATE kw SET lexemes = array_to_tsvector(tokens)")
    con.execute("CREATE INDEX kw_lexemes ON kw USING gin (lexemes)")
    con.execute("VACUUM ANALYZE kw")
    done = time.perf_counter()
    size = con.execute("SELECT pg_total_relation_size('kw')").fetchone()[0]
    return {"copy_s": round(copied - started, 1), "index_s": round(done - copied, 1),
            "rows_per_s": round(len(ids) / (done - started)), "bytes_per_row": round(size / len(ids))}


_SEARCH = """
SELECT item_id, ts_rank(lexemes, q) AS score
FROM kw, (SELECT (SELECT string_agg(quote_literal(t), ' | ') FROM unnest(%s::text[]) t)::tsquery AS q) query
WHERE lexemes @@ q AND level = ANY(%s)
ORDER BY score DESC, item_id LIMIT 100
"""


def search_postgres(con: Any, query: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    rows = con.execute(_SEARCH, (sorted(set(tokenize(query))), ["public"])).fetchall()
    return [r[0] for r in rows], (time.perf_counter() - started) * 1000


def load_postings(con: Any, ids: list[str], tokens: list[list[str]], levels: list[str]) -> dict[str, float]:
    started = time.perf_counter()
    for table in ("postings", "docs", "idf"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("CREATE TABLE docs (doc integer PRIMARY KEY, item_id text NOT NULL, level text NOT NULL, "
                "len integer NOT NULL)")
    con.execute("CREATE TABLE postings (term text NOT NULL, doc integer NOT NULL, tf smallint NOT NULL)")
    with con.cursor() as cur:
        with cur.copy("COPY docs (doc, item_id, level, len) FROM STDIN") as copy:
            for doc, (item_id, level, words) in enumerate(zip(ids, levels, tokens, strict=True)):
                copy.write_row((doc, item_id, level, len(words)))
        with cur.copy("COPY postings (term, doc, tf) FROM STDIN") as copy:
            for doc, words in enumerate(tokens):
                bag: dict[str, int] = {}
                for word in words:
                    bag[word] = bag.get(word, 0) + 1
                for term, tf in bag.items():
                    copy.write_row((term, doc, min(tf, 32767)))
    copied = time.perf_counter()
    con.execute("CREATE INDEX postings_term ON postings (term, doc, tf)")
    n = len(ids)
    con.execute("CREATE TABLE idf AS SELECT term, ln(1 + (%s - count(*) + 0.5) / (count(*) + 0.5))::real AS idf "
                "FROM postings GROUP BY term", (n,))
    con.execute("ALTER TABLE idf ADD PRIMARY KEY (term)")
    con.execute("VACUUM ANALYZE postings")
    con.execute("VACUUM ANALYZE docs")
    done = time.perf_counter()
    size = con.execute("SELECT pg_total_relation_size('postings') + pg_total_relation_size('docs') "
                       "+ pg_total_relation_size('idf')").fetchone()[0]
    return {"copy_s": round(copied - started, 1), "index_s": round(done - copied, 1),
            "rows_per_s": round(n / (done - started)), "bytes_per_row": round(size / n)}


_BM25 = """
SELECT d.item_id, s.score FROM (
    SELECT p.doc, sum(i.idf * p.tf * 2.2 / (p.tf + 1.2 * (0.25 + 0.75 * d.len / %(avg)s))) AS score
    FROM postings p JOIN idf i ON i.term = p.term JOIN docs d ON d.doc = p.doc
    WHERE p.term = ANY(%(terms)s) AND d.level = ANY(%(levels)s)
    GROUP BY p.doc ORDER BY score DESC LIMIT 100
) s JOIN docs d ON d.doc = s.doc ORDER BY s.score DESC, d.item_id
"""


def search_bm25(con: Any, query: str, average: float) -> tuple[list[str], float]:
    started = time.perf_counter()
    rows = con.execute(_BM25, {"avg": average, "terms": sorted(set(tokenize(query))), "levels": ["public"]}).fetchall()
    return [r[0] for r in rows], (time.perf_counter() - started) * 1000


def pull_and_build(con: Any) -> tuple[Bm25Index, np.ndarray, float]:
    """What a host does when the shared generation moves: every row's id, tokens and level, then the index."""
    started = time.perf_counter()
    rows = con.execute("SELECT item_id, tokens, level FROM kw ORDER BY item_id").fetchall()
    index = Bm25Index.from_tokens([r[0] for r in rows], [r[1] for r in rows])
    public = np.array([r[2] == "public" for r in rows])
    return index, public, time.perf_counter() - started


def search_local(index: Bm25Index, public: np.ndarray, query: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    hits = index.search(query, 100, allowed=public)
    return [h[0] for h in hits], (time.perf_counter() - started) * 1000


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1)}


def overlap(first: list[str], second: list[str], k: int = 10) -> float:
    base = [{i.split("#")[0] for i in ids[:k]} for ids in (first, second)]
    return len(base[0] & base[1]) / max(1, len(base[0] | base[1]))


def run_size(con: Any, base: list[tuple[str, list[str]]], n: int) -> dict[str, Any]:
    ids, tokens, levels = replicas(base, n)
    result: dict[str, Any] = {"records": n, "load_fts": load_postgres(con, ids, tokens, levels),
                              "load_bm25": load_postings(con, ids, tokens, levels)}
    del ids, tokens, levels
    average = float(con.execute("SELECT avg(len) FROM docs").fetchone()[0])
    index, public, pull_s = pull_and_build(con)
    result["local_rebuild_s"] = round(pull_s, 1)
    times: dict[str, list[float]] = {"postgres_fts": [], "postgres_bm25": [], "local_bm25": []}
    overlaps: dict[str, list[float]] = {"postgres_fts": [], "postgres_bm25": []}
    for query in QUERIES:
        for _ in range(REPEATS):
            fts_ids, fts_ms = search_postgres(con, query)
            bm25_ids, bm25_ms = search_bm25(con, query, average)
            local_ids, local_ms = search_local(index, public, query)
            for name, ms in (("postgres_fts", fts_ms), ("postgres_bm25", bm25_ms), ("local_bm25", local_ms)):
                times[name].append(ms)
        overlaps["postgres_fts"].append(overlap(fts_ids, local_ids))
        overlaps["postgres_bm25"].append(overlap(bm25_ids, local_ids))
    for name, values in times.items():
        result[name] = percentiles(values)
    result["top10_overlap_with_local_bm25"] = {k: round(statistics.mean(v), 2) for k, v in overlaps.items()}
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="a contents.sqlite with dataset records")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    base = base_rows(args.base)
    import psycopg

    with postgres_cluster() as server:
        dsn = server.owner_dsn.replace("govdata_owner@", f"govdata_owner:{os.environ[server.password_env]}@")
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute("SET work_mem = '64MB'")
            results = [run_size(con, base, n) for n in args.sizes]
            version = con.execute("SHOW server_version").fetchone()[0]
    report = {"base_records": len(base), "postgres": version, "machine": f"{platform.machine()}, "
              f"{os.cpu_count()} cores, Python {platform.python_version()}", "queries": len(QUERIES),
              "repeats": REPEATS, "sizes": results}
    if args.out:
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
