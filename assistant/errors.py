"""Errors are values with context, printed as one line to the user."""

from pathlib import Path


class GovDataError(Exception):
    """A user-facing failure: bad input or a failed operation, never a bug."""


class IngestError(GovDataError):
    """A source file that cannot be ingested, with where and why."""

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {reason}")


class StoreMismatchError(GovDataError):
    """The store on disk was built with a different embedding model than the settings select."""
