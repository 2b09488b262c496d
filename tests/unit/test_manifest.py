from pathlib import Path

import pytest

from ingest.manifest import Manifest, SourceRow


def test_replace_source_records_items_and_ownership(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "m.sqlite")
    manifest.replace_source(SourceRow("/a.json", "catalog", "h1", "a", 2),
                            {("datasets", "x"): "c1", ("datasets", "y"): "c2"})
    manifest.replace_source(SourceRow("/b.json", "catalog", "h2", "b", 1), {("datasets", "y"): "c3"})
    assert manifest.items_of("/a.json") == {("datasets", "x"): "c1", ("datasets", "y"): "c2"}
    assert manifest.stored_hashes([("datasets", "y"), ("datasets", "z")]) == {("datasets", "y"): "c3"}
    assert manifest.owned_elsewhere({("datasets", "x"), ("datasets", "y")}, "/a.json") == {("datasets", "y")}
    manifest.replace_source(SourceRow("/a.json", "catalog", "h4", "a", 1), {("datasets", "x"): "c1"})
    assert manifest.items_of("/a.json") == {("datasets", "x"): "c1"}
    manifest.remove_source("/b.json")
    assert manifest.source("/b.json") is None and manifest.items_of("/b.json") == {}
    assert [row.path for row in manifest.sources()] == ["/a.json"]


def test_manifest_persists_across_connections(tmp_path: Path) -> None:
    first = Manifest(tmp_path / "m.sqlite")
    first.replace_source(SourceRow("/doc.md", "document", "h", "Doc", 3), {("passages", "p1"): "c"})
    first.close()
    again = Manifest(tmp_path / "m.sqlite")
    assert again.source("/doc.md") == SourceRow("/doc.md", "document", "h", "Doc", 3)
    assert again.count_sources("document") == 1


def test_content_store_migrates_a_store_without_token_column(tmp_path: Path) -> None:
    import sqlite3

    from vectorstore.content import ContentStore

    old = sqlite3.connect(tmp_path / "c.sqlite")
    old.execute("CREATE TABLE contents (collection TEXT NOT NULL, item_id TEXT NOT NULL, text TEXT NOT NULL, "
                "payload TEXT NOT NULL, PRIMARY KEY (collection, item_id))")
    old.execute("INSERT INTO contents VALUES ('passages', 'a', 'old text', '{}')")
    old.commit()
    old.close()
    store = ContentStore(tmp_path / "c.sqlite")
    store.upsert("passages", ["b"], ["new text"], [{"k": 1}])
    assert store.get("passages", ["a", "b"]) == {"a": ("old text", {}), "b": ("new text", {"k": 1})}
    assert store.generation("passages") == 1


def test_an_unexpected_failure_in_one_file_is_that_files_error_line(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: a bug while loading one file (here a RuntimeError) never ends the run; the others land."""
    import numpy as np

    import ingest.pipeline as pipeline_module
    from core.settings import Settings
    from ingest.manifest import Manifest
    from ingest.pipeline import Pipeline

    class Store:
        def upsert(self, *args: object) -> None: ...
        def delete(self, *args: object) -> None: ...

    class Embeddings:
        def embed_array(self, texts: list[str]) -> np.ndarray:
            return np.zeros((len(texts), 4), dtype=np.float32)

    real = pipeline_module.load_source

    def flaky(path: Path, *args: object) -> object:
        if path.name == "b.md":
            raise RuntimeError("the reader tripped")
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline_module, "load_source", flaky)
    for name in ("a.md", "b.md", "c.md"):
        (tmp_path / name).write_text(f"# {name}\n\nSome text about {name}.\n", encoding="utf-8")
    settings = Settings(home=tmp_path / "home")
    manifest = Manifest(settings.manifest_path)
    summary = Pipeline(settings, Store(), Embeddings, manifest).run([tmp_path])  # type: ignore[arg-type]
    assert summary.failures == [f"{tmp_path / 'b.md'}: cannot load (RuntimeError: the reader tripped)"]
    assert summary.documents == 2 and summary.files_failed == 1
    assert {Path(row.path).name for row in manifest.sources()} == {"a.md", "c.md"}


def test_an_interrupted_run_starts_no_further_file_of_the_batch_in_hand() -> None:
    import threading

    import numpy as np

    from ingest.pipeline import IngestSummary, _Writer

    started, release = threading.Event(), threading.Event()
    written: list[str] = []

    class SlowPipeline:
        def write_batch(self, batch: list[str], vectors: object, summary: object, stop: threading.Event) -> None:
            for name in batch:
                if stop.is_set():
                    return
                written.append(name)
                started.set()
                release.wait(5)

    try:
        with _Writer(SlowPipeline(), IngestSummary()) as writer:  # type: ignore[arg-type]
            writer.submit(["a", "b", "c"], np.zeros((0, 1)))  # type: ignore[list-item]
            started.wait(5)
            threading.Timer(0.2, release.set).start()
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert written == ["a"]  # the file in hand finished; b and c were left for the next run
