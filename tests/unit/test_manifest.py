from pathlib import Path

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
