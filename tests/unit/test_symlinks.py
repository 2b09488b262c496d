"""Issue 26, item 3: a symbolic link never carries ingest or the table loaders out of the folder named. Real links
in tmp_path; the pipeline runs with a store and embeddings that only record what they are given."""

from pathlib import Path

import numpy as np
import pytest

from assistant.sql.approved import ApprovedTables
from core.errors import FieldError, GovDataError
from core.settings import Settings
from ingest.manifest import Manifest
from ingest.pipeline import IngestSummary, Pipeline
from ingest.tables import adhoc_database


class Store:
    def __init__(self) -> None:
        self.documents: list[str] = []

    def upsert(self, collection: str, ids: list[str], vectors: object, documents: list[str], *rest: object) -> None:
        self.documents += documents

    def delete(self, *args: object) -> None: ...


class Embeddings:
    def embed_array(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), 4), dtype=np.float32)


@pytest.fixture
def portal(tmp_path: Path) -> Path:
    """portal/ with one guide, a link to it, and links to a host file and a host folder outside."""
    host = tmp_path / "host"
    (host / "etc").mkdir(parents=True)
    (host / "secret.txt").write_text("root:x:0:0 host secret\n", encoding="utf-8")
    (host / "etc" / "shadow.md").write_text("# Shadow\n\nanother host secret\n", encoding="utf-8")
    portal = tmp_path / "portal"
    (portal / "guides").mkdir(parents=True)
    (portal / "guides" / "guide.md").write_text("# Guide\n\nHow to apply for open data.\n", encoding="utf-8")
    (portal / "latest.md").symlink_to(Path("guides") / "guide.md")  # inside: followed
    (portal / "alias").symlink_to("guides", target_is_directory=True)  # inside: its files by their own path
    (portal / "readme.txt").symlink_to(host / "secret.txt")
    (portal / "etc").symlink_to(host / "etc", target_is_directory=True)
    (portal / "loop.md").symlink_to(portal / "loop.md")
    return portal


def run(tmp_path: Path, roots: list[Path], prune: bool = False) -> tuple[IngestSummary, Store, Manifest]:
    settings, store = Settings(home=tmp_path / "home"), Store()
    manifest = Manifest(settings.manifest_path)
    summary = Pipeline(settings, store, Embeddings, manifest).run(roots, prune=prune)  # type: ignore[arg-type]
    return summary, store, manifest


def test_links_out_of_an_ingested_folder_are_skipped_and_named_and_the_rest_lands(tmp_path: Path,
                                                                                 portal: Path) -> None:
    summary, store, manifest = run(tmp_path, [portal])
    assert [row.path for row in manifest.sources()] == [str(portal / "guides" / "guide.md")]  # once, not twice
    assert summary.files_landed == 1 and summary.failures == []
    assert not any("secret" in text for text in store.documents)
    assert sorted(summary.warnings) == sorted(
        f"{portal / name}: a symbolic link out of {portal}, skipped (name its target to include it)"
        for name in ("etc", "loop.md", "readme.txt"))


def test_links_named_one_by_one_as_the_shell_expands_a_star_are_skipped_too(tmp_path: Path, portal: Path) -> None:
    named = [p for p in sorted(portal.iterdir()) if p.name != "loop.md"]  # govdata ingest portal/*
    summary, store, manifest = run(tmp_path, named)
    assert [row.path for row in manifest.sources()] == [str(portal / "guides" / "guide.md")]
    assert not any("secret" in text for text in store.documents)
    assert summary.warnings == [f"{portal / n}: a symbolic link out of {portal}, skipped (name its target to "
                                "include it)" for n in ("etc", "readme.txt")]


def test_a_named_link_that_loops_is_a_warning_not_the_end_of_the_run(tmp_path: Path, portal: Path) -> None:
    summary, _, manifest = run(tmp_path, [portal / "loop.md", portal / "guides"])
    assert [row.path for row in manifest.sources()] == [str(portal / "guides" / "guide.md")]
    assert [w.split(": ")[0] for w in summary.warnings] == [str(portal / "loop.md")]


def test_a_named_link_inside_its_folder_is_followed(tmp_path: Path, portal: Path) -> None:
    summary, _, manifest = run(tmp_path, [portal / "latest.md"])
    assert [row.path for row in manifest.sources()] == [str(portal / "guides" / "guide.md")]
    assert summary.warnings == []


def test_prune_never_reaches_under_a_skipped_link(tmp_path: Path, portal: Path) -> None:
    """The host file was ingested on purpose by its own path; pruning through a skipped link must not forget it."""
    run(tmp_path, [tmp_path / "host" / "secret.txt"])
    summary, _, manifest = run(tmp_path, [portal / "readme.txt"], prune=True)
    assert summary.files_removed == 0
    assert [row.path for row in manifest.sources()] == [str(tmp_path / "host" / "secret.txt")]


def test_datasets_add_refuses_a_link_out_of_its_folder(tmp_path: Path) -> None:
    (tmp_path / "host").mkdir()
    (tmp_path / "host" / "people.csv").write_text("name,salary\nAnn,1\n", encoding="utf-8")
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "people.csv").symlink_to(tmp_path / "host" / "people.csv")
    registry = ApprovedTables(tmp_path / "sql")
    with pytest.raises(GovDataError, match="people.csv: a symbolic link out of .*tables; name its target"):
        registry.add(tmp_path / "tables" / "people.csv")
    assert registry.stored_tables() == []
    [table], _ = registry.add(tmp_path / "host" / "people.csv")  # named by its own path it is the steward's choice
    assert table.row_count == 1


def test_a_datapackage_resource_cannot_link_out_of_the_package_folder(tmp_path: Path) -> None:
    (tmp_path / "host.csv").write_text("a\n1\n", encoding="utf-8")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "data.csv").symlink_to(tmp_path / "host.csv")
    (package / "datapackage.json").write_text('{"resources": [{"name": "d", "path": "data.csv"}]}', encoding="utf-8")
    with pytest.raises(GovDataError, match="is not a file beside it"):
        ApprovedTables(tmp_path / "sql").add(package / "datapackage.json")


def test_an_adhoc_folder_with_a_link_out_of_it_is_refused(tmp_path: Path) -> None:
    (tmp_path / "host.csv").write_text("secret\n1\n", encoding="utf-8")
    folder = tmp_path / "db"
    folder.mkdir()
    (folder / "ok.csv").write_text("a\n1\n", encoding="utf-8")
    (folder / "copy.csv").symlink_to("ok.csv")
    _, tables = adhoc_database(folder, tmp_path / "cache")
    assert sorted(t.name for t in tables) == ["copy", "ok"]
    (folder / "leak.csv").symlink_to(tmp_path / "host.csv")
    with pytest.raises(FieldError, match="leak.csv is a symbolic link out of the folder"):
        adhoc_database(folder, tmp_path / "cache")
    (tmp_path / "named").mkdir()
    (tmp_path / "named" / "db").symlink_to(folder, target_is_directory=True)
    with pytest.raises(FieldError, match="a symbolic link out of its folder"):
        adhoc_database(tmp_path / "named" / "db", tmp_path / "cache")
