"""The one atomic write and the one file lock that the registry, the audit log, the examples and ingest share."""

import threading
import time
from pathlib import Path

import pytest

from core.files import atomic_write, file_lock


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    atomic_write(path, "old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(path, "new \udc92")  # cannot be encoded: fails after the temporary was opened
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["registry.json"]
    atomic_write(tmp_path / "new" / "folder" / "file.txt", "made")
    assert (tmp_path / "new" / "folder" / "file.txt").read_text() == "made"


def test_the_lock_lets_one_holder_in_at_a_time(tmp_path: Path) -> None:
    order: list[str] = []
    lock = tmp_path / "sub" / ".lock"

    def second() -> None:
        with file_lock(lock):
            order.append("second")

    with file_lock(lock):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append("first done")
    thread.join(timeout=10)
    assert order == ["first done", "second"]
