"""Ingest on the real stack: real Chroma PersistentClient in a temp dir, the bundled USE model, the CLI."""

import shutil
from pathlib import Path

import chromadb
import pytest

from .conftest import FIXTURES, govdata

pytestmark = pytest.mark.e2e

DATASETS_IN_FIXTURES = 40 + 60 + 40 + 5 + 1  # DOL slice, Taipei, Tainan CSV, CKAN search, datapackage


def _ids(home: Path) -> dict[str, set[str]]:
    """Every id in every Chroma collection of the store (each logical collection is split by access level)."""
    client = chromadb.PersistentClient(path=str(home / "chroma"))
    out: dict[str, set[str]] = {}
    for collection in client.list_collections():
        name = collection if isinstance(collection, str) else collection.name
        out[name] = set(client.get_collection(name).get(include=[])["ids"])
    return out


def test_counts_then_unchanged_reingest_skips_everything(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    first = govdata(home, "ingest", str(corpus), "--json")
    assert first.code == 0, first.stderr
    summary = first.json()
    assert summary["datasets"] == DATASETS_IN_FIXTURES and summary["documents"] == 5
    status = govdata(home, "status", "--json").json()
    assert status["datasets"] == DATASETS_IN_FIXTURES
    assert status["documents"] == 5
    assert status["chunks"] == summary["added"] - DATASETS_IN_FIXTURES
    assert status["embedding_model"] == "use-multilingual-v3"

    again = govdata(home, "ingest", str(corpus), "--json").json()
    assert again["files_skipped"] == again["files"] == summary["files"]
    assert again["added"] == again["updated"] == 0
    assert again["skipped"] == summary["added"]


def test_changed_file_is_replaced_and_prune_removes_vanished(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    assert govdata(home, "ingest", str(corpus)).code == 0
    before = _ids(home)
    guide = corpus / "docs" / "increasing-digital-takeup.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("82% of the population", "85% of the population"),
                     encoding="utf-8")
    changed = govdata(home, "ingest", str(corpus), "--json").json()
    assert changed["files_skipped"] == changed["files"] - 1
    assert changed["added"] == 1 and changed["removed"] == 1  # one passage's text changed: new id, old gone
    after = _ids(home)
    assert len(after["passages__public"]) == len(before["passages__public"])
    assert after["passages__public"] != before["passages__public"]

    (corpus / "docs" / "retention.docx").unlink()
    kept = govdata(home, "ingest", str(corpus), "--json").json()
    assert kept["files_removed"] == 0  # without --prune nothing is forgotten
    pruned = govdata(home, "ingest", str(corpus), "--prune", "--json").json()
    assert pruned["files_removed"] == 1 and pruned["removed"] > 0
    assert govdata(home, "status", "--json").json()["documents"] == 4


def test_changed_catalog_record_is_updated_in_place(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    assert govdata(home, "ingest", str(corpus)).code == 0
    catalog = corpus / "catalogs" / "dol_slice.data.json"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace('"modified": "', '"modified": "1', 1),
                       encoding="utf-8")
    result = govdata(home, "ingest", str(corpus), "--json").json()
    assert result["updated"] == 1 and result["added"] == 0 and result["skipped"] > 0
    assert govdata(home, "status", "--json").json()["datasets"] == DATASETS_IN_FIXTURES


def test_broken_files_are_named_and_change_nothing(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    assert govdata(home, "ingest", str(corpus)).code == 0
    before_ids, before_status = _ids(home), govdata(home, "status", "--json").json()

    broken = tmp_path / "broken"
    shutil.copytree(FIXTURES / "broken", broken)
    law = corpus / "docs" / "政府信息公开条例(2019-04-03).md"
    law.write_bytes(b"")  # a file that was good is now empty: its old passages must stay
    result = govdata(home, "ingest", str(broken), str(corpus))
    assert result.code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 5
    for name in ("truncated.data.json", "fake.pdf", "empty.md", "wrong_mapping.csv", law.name):
        assert sum(name in line for line in errors) == 1
    assert "Traceback" not in result.stderr
    assert _ids(home) == before_ids
    assert govdata(home, "status", "--json").json() == before_status


def test_docs_search_contract_and_chinese_article(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    assert govdata(home, "ingest", str(corpus / "docs")).code == 0
    result = govdata(home, "docs", "search", "政府信息公开申请的答复期限是多少？", "--k", "3", "--json")
    assert result.code == 0, result.stderr
    passages = result.json()
    assert isinstance(passages, list) and len(passages) == 3
    assert {"source", "title", "chunk_id", "text", "score"} <= set(passages[0])
    assert any(p["text"].startswith("第三十三条") for p in passages)
    assert passages[0]["score"] >= passages[-1]["score"]


def test_access_level_is_enforced_inside_search(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    assert govdata(home, "ingest", str(corpus / "docs"), "--access-level", "restricted public").code == 0
    for k in ("1", "50", "200"):
        citizen = govdata(home, "docs", "search", "政府信息公开", "--k", k, "--json")
        assert citizen.code == 0 and citizen.json() == []
    servant = govdata(home, "docs", "search", "政府信息公开", "--role", "civil_servant", "--json").json()
    assert servant and all(p["access_level"] == "restricted public" for p in servant)


def test_store_built_with_another_model_is_refused(tmp_path: Path, corpus: Path) -> None:
    home = tmp_path / "home"
    assert govdata(home, "ingest", str(corpus / "docs")).code == 0
    other = govdata(home, "status", "--json", env={"GOVDATA_EMBEDDING__MODEL": "all-minilm-l6-v2"})
    assert other.code == 1
    assert "use-multilingual-v3" in other.stderr and "all-minilm-l6-v2" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1 and other.stdout == ""


def test_hostile_files_are_named_one_by_one_and_the_rest_lands(tmp_path: Path, corpus: Path) -> None:
    """Issue 18: a broken, entity-bomb and zip-bomb DOCX, an AES-256 PDF and an empty CSV each get their own
    error line; the Big5 catalog lands readable, and so does everything beside them."""
    hostile = corpus / "hostile"
    shutil.copytree(FIXTURES / "hostile", hostile, ignore=shutil.ignore_patterns("*.py"))
    home = tmp_path / "home"
    result = govdata(home, "ingest", str(corpus), "--json")
    assert result.code == 1 and "internal failure" not in result.stderr and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    names = ("broken_xml.docx", "entity_bomb.docx", "ratio_bomb.docx", "encrypted_aes256.pdf", "empty.csv")
    assert len(errors) == len(names) and all(sum(n in line for line in errors) == 1 for n in names), errors
    summary = result.json()
    assert summary["files_failed"] == 5 and summary["datasets"] == DATASETS_IN_FIXTURES + 6
    found = govdata(home, "datasets", "search", "臺南市機車定檢站", "--k", "3", "--json").json()
    assert "臺南市機車定檢站地址" in [r["title"] for r in found]


def test_links_out_of_the_folder_are_one_warning_each_and_the_rest_lands(tmp_path: Path) -> None:
    """Issue 26: `portal/readme.txt -> a host file` is neither indexed (by the folder or by portal/*) nor the end
    of the run."""
    host = tmp_path / "host.txt"
    host.write_text("host secret: root password hint\n", encoding="utf-8")
    portal = tmp_path / "portal"
    portal.mkdir()
    shutil.copy(FIXTURES / "docs" / "increasing-digital-takeup.md", portal / "guide.md")
    (portal / "readme.txt").symlink_to(host)
    home = tmp_path / "home"
    for args in ([str(portal)], [str(p) for p in sorted(portal.iterdir())]):
        result = govdata(home, "ingest", *args)
        assert result.code == 0 and "internal failure" not in result.stderr, result.stderr
        warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
        assert warnings == [f"warning: {portal / 'readme.txt'}: a symbolic link out of {portal}, skipped (name its "
                            "target to include it)"]
    assert govdata(home, "status", "--json").json()["sources"] == 1
    found = govdata(home, "docs", "search", "host secret root password", "--json").json()
    assert all(p["source"] != str(host) for p in found)


# ---- issue 11: the whole shared catalog set plus the fuzz corpus; interrupted runs resume ----

SHARED_CATALOGS = (Path(__file__).resolve().parents[3] / "shared" / "data" / "catalogs").resolve()
FUZZ_FILES, FUZZ_FAILED, FUZZ_RECORD_ERRORS, FUZZ_REPAIRED, FUZZ_LANDED = 16, 5, 4, 3, 24  # test_fuzz_ingest.py


def _raw_records(root: Path) -> tuple[int, int]:
    """Files and records in the shared catalogs, counted without our loaders: JSON lists and DCAT `dataset`
    lists, the rows of the (headerless) CSV lists, and README documents as files without records."""
    import csv
    import json

    files = records = 0
    for path in sorted(root.rglob("*")):
        if path.suffix == ".md":  # the portals' README files: documents, no records
            files += 1
            continue
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8-sig"))
            records += len(data["dataset"] if isinstance(data, dict) else data)
        elif path.suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as handle:
                records += sum(1 for row in csv.reader(handle) if any(cell.strip() for cell in row))
        else:
            continue
        files += 1
    return files, records


def test_shared_catalogs_and_the_fuzz_corpus_in_one_run(tmp_path: Path) -> None:
    assert SHARED_CATALOGS.is_dir(), f"{SHARED_CATALOGS}: CI lays shared/ beside the clone; copy it there"
    fuzz = tmp_path / "fuzz"
    shutil.copytree(FIXTURES / "fuzz", fuzz)
    shared_files, shared_records = _raw_records(SHARED_CATALOGS)
    result = govdata(tmp_path / "home", "ingest", str(SHARED_CATALOGS), str(fuzz), "--json")
    assert result.code == 1 and "internal failure" not in result.stderr and "Traceback" not in result.stderr
    summary = result.json()
    repeated = sum(int(w.split(": ")[1].split()[0]) for w in summary["warnings"]
                   if w.startswith(str(SHARED_CATALOGS)) and "repeat an earlier record's identifier" in w)
    assert summary["files"] == shared_files + FUZZ_FILES
    assert summary["files_failed"] == FUZZ_FAILED and summary["files_landed"] == shared_files + FUZZ_FILES - 5
    assert summary["records_failed"] == FUZZ_RECORD_ERRORS and summary["repaired"] >= FUZZ_REPAIRED
    assert summary["datasets"] == shared_records - repeated + FUZZ_LANDED
    assert summary["documents"] == 2  # the two README.md files
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == FUZZ_FAILED + FUZZ_RECORD_ERRORS
    assert f"{fuzz / 'surrogates.data.json'}: 3 values had invalid characters, repaired" in summary["warnings"]


def _catalogs(root: Path, files: int, per_file: int) -> None:
    import json

    root.mkdir()
    for f in range(files):
        records = [{"identifier": f"r-{f}-{n}", "title": f"Record {n} of catalog {f}", "accessLevel": "public",
                    "description": f"Statistics series {n} published in catalog {f}"} for n in range(per_file)]
        (root / f"c{f:03d}.data.json").write_text(json.dumps({"conformsTo": "x", "dataset": records}))


def _committed(home: Path) -> int:
    import sqlite3

    if not (home / "manifest.sqlite").is_file():
        return 0
    try:
        with sqlite3.connect(home / "manifest.sqlite", timeout=1) as connection:
            return int(connection.execute("SELECT count(*) FROM sources").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGINT"])
def test_an_interrupted_ingest_resumes_with_what_was_not_committed(tmp_path: Path, signal_name: str) -> None:
    import os
    import signal
    import subprocess
    import time

    from .conftest import GOVDATA

    files, per_file = 60, 25
    corpus, home = tmp_path / "corpus", tmp_path / "home"
    _catalogs(corpus, files, per_file)
    env = {**os.environ, "GOVDATA_HOME": str(home), "OMP_WAIT_POLICY": "PASSIVE"}
    # a shell that starts the tests in the background ignores SIGINT, and children inherit that: undo it
    process = subprocess.Popen([*GOVDATA, "ingest", str(corpus)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    deadline = time.monotonic() + 300
    while _committed(home) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(getattr(signal, signal_name))
    _, stderr = process.communicate(timeout=120)
    committed = _committed(home)
    assert 0 < committed < files, f"not interrupted halfway ({committed} of {files} committed)"
    if signal_name == "SIGINT":
        assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
    else:
        assert process.returncode == -signal.SIGKILL
    again = govdata(home, "ingest", str(corpus), "--json")
    assert again.code == 0, again.stderr
    summary = again.json()
    assert summary["files"] == files and summary["files_skipped"] == committed  # committed files are not redone
    assert summary["files_landed"] == files - committed and summary["failures"] == []
    ids = _ids(home)
    assert sum(len(v) for k, v in ids.items() if k.startswith("datasets")) == files * per_file
    assert govdata(home, "status", "--json").json()["datasets"] == files * per_file
