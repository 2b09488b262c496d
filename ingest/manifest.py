"""What has been ingested: each source file's hash and the store items it owns (SQLite, under GOVDATA_HOME).

The manifest row of a file is written only after its items are in the store, so it is the commit marker:
a run that dies midway leaves the old hash and the next run redoes that file.
"""

import functools
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY, kind TEXT NOT NULL, sha256 TEXT NOT NULL, title TEXT NOT NULL,
    items INTEGER NOT NULL, ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    collection TEXT NOT NULL, item_id TEXT NOT NULL, source TEXT NOT NULL, content_hash TEXT NOT NULL,
    PRIMARY KEY (collection, item_id, source)
);
CREATE INDEX IF NOT EXISTS items_by_source ON items(source);
"""


@dataclass(frozen=True)
class SourceRow:
    path: str
    kind: str
    sha256: str
    title: str
    items: int


ItemKey = tuple[str, str]  # (collection, item_id)
F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: "Manifest", *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return cast(F, wrapper)


class Manifest:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # shared by the pipeline's reader (main) and writer threads; every call holds the lock
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()

    @_locked
    def close(self) -> None:
        self._db.close()

    @_locked
    def source(self, path: str) -> SourceRow | None:
        row = self._db.execute(
            "SELECT path, kind, sha256, title, items FROM sources WHERE path = ?", (path,)
        ).fetchone()
        return SourceRow(*row) if row else None

    @_locked
    def sources(self) -> list[SourceRow]:
        rows = self._db.execute("SELECT path, kind, sha256, title, items FROM sources ORDER BY path")
        return [SourceRow(*row) for row in rows]

    @_locked
    def items_of(self, path: str) -> dict[ItemKey, str]:
        rows = self._db.execute("SELECT collection, item_id, content_hash FROM items WHERE source = ?", (path,))
        return {(c, i): h for c, i, h in rows}

    @_locked
    def stored_hashes(self, keys: Iterable[ItemKey]) -> dict[ItemKey, str]:
        """The content hash each item has in the store now (from whichever source last wrote it)."""
        by_collection: dict[str, list[str]] = {}
        for collection, item_id in keys:
            by_collection.setdefault(collection, []).append(item_id)
        out: dict[ItemKey, str] = {}
        for collection, ids in by_collection.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = self._db.execute(
                    f"SELECT item_id, content_hash FROM items WHERE collection = ? AND item_id IN "
                    f"({','.join('?' * len(chunk))}) ORDER BY rowid",
                    [collection, *chunk],
                )
                out.update({(collection, item_id): content_hash for item_id, content_hash in rows})
        return out

    @_locked
    def owned_elsewhere(self, keys: Iterable[ItemKey], path: str) -> set[ItemKey]:
        query = "SELECT 1 FROM items WHERE collection = ? AND item_id = ? AND source != ? LIMIT 1"
        return {key for key in keys if self._db.execute(query, (*key, path)).fetchone()}

    @_locked
    def replace_source(self, row: SourceRow, items: dict[ItemKey, str]) -> None:
        """Record a file and exactly the items it now owns, in one transaction."""
        with self._db:
            self._db.execute("DELETE FROM items WHERE source = ?", (row.path,))
            self._db.executemany(
                "INSERT INTO items(collection, item_id, source, content_hash) VALUES (?, ?, ?, ?)",
                [(c, i, row.path, h) for (c, i), h in items.items()],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO sources(path, kind, sha256, title, items, ingested_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (row.path, row.kind, row.sha256, row.title, row.items, datetime.now(UTC).isoformat()),
            )

    @_locked
    def remove_source(self, path: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM items WHERE source = ?", (path,))
            self._db.execute("DELETE FROM sources WHERE path = ?", (path,))

    @_locked
    def count_sources(self, kind: str) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM sources WHERE kind = ? AND items > 0", (kind,)).fetchone()
        return int(row[0])
