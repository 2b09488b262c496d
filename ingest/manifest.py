"""What has been ingested: each source file's hash and the store items it owns (SQLite, under GOVDATA_HOME).

The manifest row of a file is written only after its items are in the store, so it is the commit marker:
a run that dies midway leaves the old hash and the next run redoes that file.
"""

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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


class Manifest:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30)
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def source(self, path: str) -> SourceRow | None:
        row = self._db.execute(
            "SELECT path, kind, sha256, title, items FROM sources WHERE path = ?", (path,)
        ).fetchone()
        return SourceRow(*row) if row else None

    def sources(self) -> list[SourceRow]:
        rows = self._db.execute("SELECT path, kind, sha256, title, items FROM sources ORDER BY path")
        return [SourceRow(*row) for row in rows]

    def items_of(self, path: str) -> dict[ItemKey, str]:
        rows = self._db.execute("SELECT collection, item_id, content_hash FROM items WHERE source = ?", (path,))
        return {(c, i): h for c, i, h in rows}

    def stored_hashes(self, keys: Iterable[ItemKey]) -> dict[ItemKey, str]:
        """The content hash each item has in the store now (from whichever source last wrote it)."""
        out: dict[ItemKey, str] = {}
        query = "SELECT content_hash FROM items WHERE collection = ? AND item_id = ? ORDER BY rowid DESC LIMIT 1"
        for key in keys:
            row = self._db.execute(query, key).fetchone()
            if row:
                out[key] = row[0]
        return out

    def owned_elsewhere(self, keys: Iterable[ItemKey], path: str) -> set[ItemKey]:
        query = "SELECT 1 FROM items WHERE collection = ? AND item_id = ? AND source != ? LIMIT 1"
        return {key for key in keys if self._db.execute(query, (*key, path)).fetchone()}

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

    def remove_source(self, path: str) -> None:
        with self._db:
            self._db.execute("DELETE FROM items WHERE source = ?", (path,))
            self._db.execute("DELETE FROM sources WHERE path = ?", (path,))

    def count_sources(self, kind: str) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM sources WHERE kind = ? AND items > 0", (kind,)).fetchone()
        return int(row[0])
