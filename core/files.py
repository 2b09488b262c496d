"""The two file primitives every store uses: a write that readers never see half done, and a lock that lets one
process at a time change a folder. Both assume one local filesystem (POSIX rename and flock)."""

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def atomic_write(path: Path, text: str) -> None:
    """Replace PATH with TEXT (UTF-8) in one rename: a reader sees the old file or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on PATH (created if missing) while the block runs; others wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def private_folder(path: Path) -> None:
    """Create PATH readable by its owner only (0700); an existing one of ours loses every right of other accounts
    (its group's stay), so the approved tables, profiles and audit log under it are not readable by any local
    account but the service's (issue 26)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o007:
            path.chmod(info.st_mode & 0o770)
    except OSError:
        pass
