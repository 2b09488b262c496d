"""The incremental ingest pipeline: walk, hash, load, embed what changed, write, record.

Per file, everything that can fail on bad input (reading, parsing, chunking, embedding) happens in memory
before the store is touched, so a broken file changes nothing that was there before.
"""

import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import GovDataError, IngestError
from core.files import file_lock
from core.settings import Settings
from ingest.detect import is_supported
from ingest.items import LOADER_VERSION, Item, LoadedSource, load_source
from ingest.links import leaves, leaves_its_folder, skip_warning
from ingest.manifest import ItemKey, Manifest, SourceRow
from ingest.options import OptionsResolver
from vectorstore.embeddings import GovDataEmbeddings
from vectorstore.store import COLLECTIONS, ChromaStore


@dataclass
class IngestSummary:
    """Counts for the end-of-run summary (and `--json`)."""

    files: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    files_removed: int = 0
    datasets: int = 0
    documents: int = 0
    added: int = 0
    updated: int = 0
    skipped: int = 0
    removed: int = 0
    records_failed: int = 0  # records skipped with an error line while the rest of their file landed
    repaired: int = 0  # text values whose invalid characters were repaired
    held: int = 0  # passages held for review (instruction-like text), in the files read this run
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def files_landed(self) -> int:
        return self.files - self.files_skipped - self.files_failed

    def as_dict(self) -> dict[str, object]:
        values = {key: value for key, value in self.__dict__.items() if key != "lock"}
        return values | {"files_landed": self.files_landed}


_EMBED_BATCH = 512  # changed items gathered across files before one embedding call


@dataclass
class _Prepared:
    """A parsed file waiting for its vectors."""

    key: str
    sha: str
    loaded: LoadedSource
    stored: dict[ItemKey, str]
    changed: list[Item]


class _Writer:
    """One background thread that stores embedded batches in order, one batch in flight at a time, so store
    writes overlap the embedding of the next batch instead of adding to it."""

    def __init__(self, pipeline: "Pipeline", summary: IngestSummary) -> None:
        self._pipeline, self._summary = pipeline, summary
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="govdata-writer")
        self._in_flight: Future[None] | None = None
        self._stop = threading.Event()

    def submit(self, batch: list[_Prepared], vectors: np.ndarray) -> None:
        self.wait()
        self._in_flight = self._executor.submit(self._pipeline.write_batch, batch, vectors, self._summary,
                                                self._stop)

    def wait(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            in_flight.result()

    def __enter__(self) -> "_Writer":
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is not None:  # interrupted or failed: finish the file being written, start no other
            self._stop.set()
        try:
            self.wait()
        finally:
            self._executor.shutdown(wait=True)


def exclusive_lock(home: Path) -> AbstractContextManager[None]:
    """One writer at a time per GOVDATA_HOME; a second ingest waits for the first."""
    return file_lock(home / "ingest.lock")


def discover(roots: list[Path], resolver: OptionsResolver,
             skipped: list[str] | None = None) -> Iterator[tuple[Path, Path]]:
    """(file, root) pairs under the given paths, sorted, each file once, skipping hidden, excluded and
    unsupported files. A symbolic link out of the path named (ingest/links.py) or an unreadable folder is
    skipped with a warning line added to `skipped`."""
    found: set[Path] = set()
    for named in roots:
        if leaves_its_folder(named):
            _note(skipped, skip_warning(named, named.parent.resolve()))
            continue
        root = named.resolve()
        files = [root] if root.is_file() else [
            p for p in _walk(root, root, skipped) if is_supported(p) and not resolver.resolve(p, root).excludes(p)]
        for path in files:
            target = path.resolve()
            if target not in found:
                found.add(target)
                yield path, root


def _walk(folder: Path, root: Path, skipped: list[str] | None) -> Iterator[Path]:
    """The files under FOLDER, sorted, depth first, hidden ones left out. A link that stays inside ROOT is
    followed to a file but not into a folder (what that holds is reached by its own path; no loop starts)."""
    try:
        entries = sorted(folder.iterdir()) if folder.is_dir() else []
    except OSError as exc:
        _note(skipped, f"{folder}: cannot read the folder ({exc.strerror or exc}), skipped")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            outside, inner, file = leaves(entry, root), entry.is_dir() and not entry.is_symlink(), entry.is_file()
        except OSError as exc:
            _note(skipped, f"{entry}: cannot read ({exc.strerror or exc}), skipped")
            continue
        if outside:
            _note(skipped, skip_warning(entry, root))
        elif inner:
            yield from _walk(entry, root, skipped)
        elif file:
            yield entry


def _note(skipped: list[str] | None, line: str) -> None:
    if skipped is not None:
        skipped.append(line)


class Pipeline:
    def __init__(self, settings: Settings, store: ChromaStore, embeddings: Callable[[], GovDataEmbeddings],
                 manifest: Manifest, record_levels: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.record_levels = dict(record_levels or {})  # a steward's accepted record levels, by record id
        self.store = store
        self._embeddings_factory = embeddings
        self._embeddings: GovDataEmbeddings | None = None
        self.manifest = manifest

    @property
    def embeddings(self) -> GovDataEmbeddings:
        if self._embeddings is None:
            self._embeddings = self._embeddings_factory()
        return self._embeddings

    def run(self, roots: list[Path], *, access_level: str | None = None, prune: bool = False,
            progress: Callable[[Path], None] | None = None) -> IngestSummary:
        summary = IngestSummary()
        resolver = OptionsResolver(access_level)
        missing = [root for root in roots if not root.exists() and not leaves_its_folder(root)]
        if missing:
            raise GovDataError(f"no such file or folder: {missing[0]}")
        seen: set[str] = set()
        with exclusive_lock(self.settings.home), _Writer(self, summary) as writer:
            pending: list[_Prepared] = []
            for path, root in self._safe_discover(roots, resolver, summary.warnings):
                seen.add(str(path.resolve()))
                prepared = self._prepare(path, root, resolver, summary)
                if prepared is not None:
                    pending.append(prepared)
                if sum(len(p.changed) for p in pending) >= _EMBED_BATCH:
                    self._flush(pending, writer, summary)
                if progress:
                    progress(path)
            self._flush_last(pending, writer, summary)
            writer.wait()
            if prune:  # never under a link that was skipped: it names what it points at, not what was walked
                self._prune([r for r in roots if not leaves_its_folder(r)], seen, summary)
        return summary

    def _safe_discover(self, roots: list[Path], resolver: OptionsResolver,
                       skipped: list[str]) -> list[tuple[Path, Path]]:
        try:
            return list(discover(roots, resolver, skipped))
        except IngestError as exc:  # a broken options file stops the run: its rules may restrict access
            raise GovDataError(str(exc)) from None

    def _prepare(self, path: Path, root: Path, resolver: OptionsResolver,
                 summary: IngestSummary) -> "_Prepared | None":
        """Read and parse one file and decide what must be embedded; None when skipped or failed."""
        with summary.lock:
            summary.files += 1
        key = str(path.resolve())
        try:
            options = resolver.resolve(path, root)
            data = path.read_bytes()
            sha = hashlib.sha256(data + options.fingerprint().encode() + LOADER_VERSION.encode()).hexdigest()
            previous = self.manifest.source(key)
            if previous is not None and previous.sha256 == sha:
                with summary.lock:
                    summary.files_skipped += 1
                    summary.skipped += previous.items
                return None
            loaded = load_source(path.resolve(), data, options, self.settings, self.record_levels)
        except Exception as exc:  # whatever one file does, it is that file's error line, never the run's
            reason = _failure(path, exc)
            with summary.lock:
                summary.files_failed += 1
                summary.failures.append(reason)
            return None
        with summary.lock:
            summary.warnings.extend(f"{path}: {w}" for w in loaded.warnings)
            summary.failures.extend(f"{path}: {e}" for e in loaded.errors)
            summary.records_failed += len(loaded.errors)
            summary.repaired += loaded.repaired
            summary.held += loaded.held
            if loaded.repaired:
                noun = "values" if path.suffix.lower() == ".json" else "lines" if loaded.kind == "catalog" else "parts"
                summary.warnings.append(f"{path}: {loaded.repaired} {noun} had invalid characters, repaired")
            if loaded.duplicates:
                summary.warnings.append(f"{path}: {loaded.duplicates} records repeat an earlier record's "
                                        "identifier in this file; the last one is kept")
        stored = self.manifest.stored_hashes((i.collection, i.item_id) for i in loaded.items)
        changed = [i for i in loaded.items if stored.get((i.collection, i.item_id)) != i.content_hash]
        return _Prepared(key, sha, loaded, stored, changed)

    def _flush(self, pending: list["_Prepared"], writer: "_Writer", summary: IngestSummary) -> None:
        """Embed the changed items of several files in one call (bigger batches run faster) and hand them to
        the writer, which stores each file on its own (all or none) while the next batch is embedded."""
        if not pending:
            return
        batch = list(pending)
        pending.clear()
        texts = [item.embed_text for prepared in batch for item in prepared.changed]
        try:
            vectors = self.embeddings.embed_array(texts) if texts else np.zeros((0, 1), dtype=np.float32)
        except Exception as exc:
            with summary.lock:
                for prepared in batch:
                    summary.files_failed += 1
                    summary.failures.append(f"{prepared.key}: embedding failed: {exc}")
            return
        writer.submit(batch, vectors)

    def _flush_last(self, pending: list["_Prepared"], writer: "_Writer", summary: IngestSummary) -> None:
        """The last write has nothing left to overlap with: embed the remaining files in two halves so only
        the smaller second half's write is left waiting."""
        total = sum(len(p.changed) for p in pending)
        count, split = 0, len(pending)
        for index, prepared in enumerate(pending):
            count += len(prepared.changed)
            if count >= total / 2:
                split = index + 1
                break
        first, second = pending[:split], pending[split:]
        pending.clear()
        self._flush(first, writer, summary)
        self._flush(second, writer, summary)

    def write_batch(self, batch: list["_Prepared"], vectors: np.ndarray, summary: IngestSummary,
                    stop: threading.Event | None = None) -> None:
        """Store each file of the batch on its own (all or none); after `stop` is set, no further file starts
        (an interrupted run stops after the file in hand, and the next run redoes the rest)."""
        offset = 0
        for prepared in batch:
            if stop is not None and stop.is_set():
                return
            count = len(prepared.changed)
            try:
                self._write(prepared, vectors[offset : offset + count], summary)
            except Exception as exc:
                with summary.lock:
                    summary.files_failed += 1
                    summary.failures.append(_failure(Path(prepared.key), exc))
            offset += count

    def _write(self, prepared: "_Prepared", vectors: np.ndarray, summary: IngestSummary) -> None:
        key, loaded, stored, changed = prepared.key, prepared.loaded, prepared.stored, prepared.changed
        new_keys = {(i.collection, i.item_id) for i in loaded.items}
        shared = self.manifest.owned_elsewhere(new_keys, key)
        if shared:
            first = min(item_id for _, item_id in shared)
            with summary.lock:
                summary.warnings.append(f"{key}: {len(shared)} identifiers also appear in other files (first: "
                                        f"{first}); searches show the record ingested last")
        stale = set(self.manifest.items_of(key)) - new_keys
        orphaned = stale - self.manifest.owned_elsewhere(stale, key)
        try:
            self._upsert(changed, vectors)
            self._delete(orphaned)
        except Exception as exc:  # store failure: undo what this file added, keep the old manifest row
            self._delete({(i.collection, i.item_id) for i in changed if (i.collection, i.item_id) not in stored})
            raise IngestError(key, f"store write failed: {exc}") from None
        self.manifest.replace_source(
            SourceRow(key, loaded.kind, prepared.sha, loaded.title, len(loaded.items)),
            {(i.collection, i.item_id): i.content_hash for i in loaded.items},
        )
        updated = sum(1 for i in changed if (i.collection, i.item_id) in stored)
        with summary.lock:
            summary.added += len(changed) - updated
            summary.updated += updated
            summary.skipped += len(loaded.items) - len(changed)
            summary.removed += len(orphaned)
            if loaded.kind == "catalog":
                summary.datasets += len(loaded.items)
            else:
                summary.documents += 1

    def _upsert(self, items: list[Item], vectors: np.ndarray) -> None:
        for collection in COLLECTIONS:
            rows = [n for n, item in enumerate(items) if item.collection == collection]
            if rows:
                self.store.upsert(
                    collection, [items[n].item_id for n in rows], vectors[rows],
                    [items[n].document for n in rows], [items[n].metadata for n in rows],
                    [items[n].payload for n in rows],
                )

    def _delete(self, keys: set[ItemKey]) -> None:
        for collection in COLLECTIONS:
            ids = sorted(item_id for c, item_id in keys if c == collection)
            if ids:
                self.store.delete(collection, ids)

    def _prune(self, roots: list[Path], seen: set[str], summary: IngestSummary) -> None:
        """Forget files under the given roots that are gone (or no longer ingestible) since the last run."""
        prefixes = [str(r.resolve()) for r in roots]
        for row in self.manifest.sources():
            under = any(row.path == p or row.path.startswith(p.rstrip("/") + "/") for p in prefixes)
            if not under or row.path in seen:
                continue
            owned = set(self.manifest.items_of(row.path))
            self._delete(owned - self.manifest.owned_elsewhere(owned, row.path))
            self.manifest.remove_source(row.path)
            summary.files_removed += 1
            summary.removed += len(owned)


def _failure(path: Path, exc: Exception) -> str:
    """One line naming the file and what went wrong with it."""
    if isinstance(exc, IngestError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{path}: cannot read: {exc.strerror or exc}"
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{path}: cannot load ({type(exc).__name__}{': ' + text if text else ''})"
