"""Item texts and full records, kept in SQLite beside Chroma.

Chroma holds the vectors and the short metadata that searches filter on; long texts live here. Measured on
2 cores: Chroma's local writes cost ~1.5 ms more per item for 500-byte Chinese documents (its full-text
index), which made the store, not the embedder, the ingest bottleneck. It also gives the keyword index and
result display one place to read texts from.

With shared state (issue 34) the same table lives in PostgreSQL (`PostgresContents`): every app server reads the
texts and records any host ingested, and the shared generation counter tells each host's keyword index when to
rebuild its cache (docs/deploy.md: what that costs at scale).
"""

import json
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from core.state.postgres import PostgresState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contents (
    collection TEXT NOT NULL, item_id TEXT NOT NULL, text TEXT NOT NULL, payload TEXT NOT NULL,
    tokens TEXT, PRIMARY KEY (collection, item_id)
);
CREATE TABLE IF NOT EXISTS generations (collection TEXT PRIMARY KEY, generation INTEGER NOT NULL);
"""


class Contents(Protocol):
    """Item texts and records by collection: SQLite under GOVDATA_HOME or the shared state's `contents`."""

    def upsert(self, collection: str, ids: Sequence[str], texts: Sequence[str],
               payloads: Sequence[dict[str, Any]]) -> None: ...

    def delete(self, collection: str, ids: Sequence[str]) -> None: ...

    def generation(self, collection: str) -> int: ...

    def all_rows(self, collection: str) -> list[tuple[str, str, str | None, dict[str, Any]]]: ...

    def payloads(self, collection: str) -> list[dict[str, Any]]: ...

    def flagged(self, collection: str, key: str) -> list[tuple[str, str, dict[str, Any]]]: ...

    def save_tokens(self, collection: str, tokens: dict[str, str]) -> None: ...

    def get(self, collection: str, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]: ...

    def close(self) -> None: ...


class ContentStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._migrate()
        self._lock = threading.Lock()

    def _migrate(self) -> None:
        """Stores written before keyword tokens were cached lack the column; add it in place."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(contents)")}
        if "tokens" not in columns:
            with self._db:
                self._db.execute("ALTER TABLE contents ADD COLUMN tokens TEXT")

    def upsert(self, collection: str, ids: Sequence[str], texts: Sequence[str],
               payloads: Sequence[dict[str, Any]]) -> None:
        rows = [(collection, i, t, json.dumps(p, ensure_ascii=False)) for i, t, p in zip(ids, texts, payloads,
                                                                                         strict=True)]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO contents VALUES (?, ?, ?, ?, NULL)", rows)
            self._bump(collection)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        with self._lock, self._db:
            self._db.executemany("DELETE FROM contents WHERE collection = ? AND item_id = ?",
                                 [(collection, i) for i in ids])
            self._bump(collection)

    def _bump(self, collection: str) -> None:
        self._db.execute(
            "INSERT INTO generations VALUES (?, 1) ON CONFLICT(collection) DO UPDATE SET generation = generation + 1",
            (collection,),
        )

    def generation(self, collection: str) -> int:
        """A counter that changes whenever the collection's contents change (keys derived caches)."""
        with self._lock:
            row = self._db.execute("SELECT generation FROM generations WHERE collection = ?", (collection,)).fetchone()
        return int(row[0]) if row else 0

    def all_rows(self, collection: str) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        """(id, text, cached tokens, payload) of every item, in a stable order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id, text, tokens, payload FROM contents WHERE collection = ? ORDER BY item_id",
                (collection,),
            ).fetchall()
        return [(item_id, text, tokens, json.loads(payload)) for item_id, text, tokens, payload in rows]

    def payloads(self, collection: str) -> list[dict[str, Any]]:
        """The record of every item, without its text (counting over a collection: the catalog overview)."""
        with self._lock:
            rows = self._db.execute("SELECT payload FROM contents WHERE collection = ? ORDER BY item_id",
                                    (collection,)).fetchall()
        return [json.loads(payload) for (payload,) in rows]

    def flagged(self, collection: str, key: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(id, text, payload) of the items whose record has KEY set to true (held passages), by id."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id, text, payload FROM contents WHERE collection = ? AND json_extract(payload, ?) = 1 "
                "ORDER BY item_id", (collection, f"$.{key}"),
            ).fetchall()
        return [(item_id, text, json.loads(payload)) for item_id, text, payload in rows]

    def save_tokens(self, collection: str, tokens: dict[str, str]) -> None:
        """Cache keyword tokens (space-joined) so an index rebuild only tokenizes new items."""
        with self._lock, self._db:
            self._db.executemany("UPDATE contents SET tokens = ? WHERE collection = ? AND item_id = ?",
                                 [(t, collection, i) for i, t in tokens.items()])

    def get(self, collection: str, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        out: dict[str, tuple[str, dict[str, Any]]] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT item_id, text, payload FROM contents WHERE collection = ? AND item_id IN ({marks})",
                    [collection, *chunk],
                )
                out.update({item_id: (text, json.loads(payload)) for item_id, text, payload in rows})
        return out

    def close(self) -> None:
        self._db.close()


class PostgresContents:
    """The content table in the shared state: the same rows and generation counter, for every host at once."""

    def __init__(self, state: "PostgresState") -> None:
        self.state = state

    def upsert(self, collection: str, ids: Sequence[str], texts: Sequence[str],
               payloads: Sequence[dict[str, Any]]) -> None:
        rows = [(collection, i, t, json.dumps(p, ensure_ascii=False)) for i, t, p in zip(ids, texts, payloads,
                                                                                         strict=True)]
        with self.state.transaction() as con, con.cursor() as cur:
            cur.executemany("INSERT INTO contents (collection, item_id, text, payload) VALUES (%s, %s, %s, %s) "
                            "ON CONFLICT (collection, item_id) DO UPDATE SET text = excluded.text, "
                            "payload = excluded.payload, tokens = NULL", rows)
            _bump(cur, collection)

    def delete(self, collection: str, ids: Sequence[str]) -> None:
        with self.state.transaction() as con, con.cursor() as cur:
            cur.execute("DELETE FROM contents WHERE collection = %s AND item_id = ANY(%s)", (collection, list(ids)))
            _bump(cur, collection)

    def generation(self, collection: str) -> int:
        with self.state.connection() as con:
            row = con.execute("SELECT generation FROM generations WHERE collection = %s", (collection,)).fetchone()
        return int(row[0]) if row else 0

    def all_rows(self, collection: str) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        with self.state.connection() as con:
            rows = con.execute("SELECT item_id, text, tokens, payload FROM contents WHERE collection = %s "
                               "ORDER BY item_id COLLATE \"C\"", (collection,)).fetchall()
        return [(item_id, text, tokens, json.loads(payload)) for item_id, text, tokens, payload in rows]

    def payloads(self, collection: str) -> list[dict[str, Any]]:
        with self.state.connection() as con:
            rows = con.execute("SELECT payload FROM contents WHERE collection = %s ORDER BY item_id COLLATE \"C\"",
                               (collection,)).fetchall()
        return [json.loads(payload) for (payload,) in rows]

    def flagged(self, collection: str, key: str) -> list[tuple[str, str, dict[str, Any]]]:
        with self.state.connection() as con:
            rows = con.execute("SELECT item_id, text, payload FROM contents WHERE collection = %s "
                               "AND (payload::jsonb -> %s) = 'true'::jsonb ORDER BY item_id COLLATE \"C\"",
                               (collection, key)).fetchall()
        return [(item_id, text, json.loads(payload)) for item_id, text, payload in rows]

    def save_tokens(self, collection: str, tokens: dict[str, str]) -> None:
        with self.state.transaction() as con, con.cursor() as cur:
            cur.executemany("UPDATE contents SET tokens = %s WHERE collection = %s AND item_id = %s",
                            [(t, collection, i) for i, t in tokens.items()])

    def get(self, collection: str, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        with self.state.connection() as con:
            rows = con.execute("SELECT item_id, text, payload FROM contents WHERE collection = %s "
                               "AND item_id = ANY(%s)", (collection, list(ids))).fetchall()
        return {item_id: (text, json.loads(payload)) for item_id, text, payload in rows}

    def close(self) -> None:
        """The pool belongs to the state; nothing of this store's own to close."""


def _bump(cur: Any, collection: str) -> None:
    cur.execute("INSERT INTO generations (collection, generation) VALUES (%s, 1) ON CONFLICT (collection) "
                "DO UPDATE SET generation = generations.generation + 1", (collection,))
