"""Errors are values with context, printed as one line to the user."""

from pathlib import Path


def first_line(exc: BaseException, limit: int = 400) -> str:
    """An exception as one line for the user: its message's first line (at most `limit` characters), or its
    type's name when it has no message."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


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


class FieldError(GovDataError):
    """Bad input in one named field (`db`, `since`, `access_level`, ...). The core names the field; each shell
    names it its own way (the CLI as a flag, the web app as a form label) with `named`."""

    def __init__(self, field: str, problem: str, value: object | None = None) -> None:
        self.field = field
        self.problem = problem
        self.value = value
        super().__init__(self.named(field))

    def named(self, name: str) -> str:
        return f"{name} {self.value}: {self.problem}" if self.value is not None else f"{name}: {self.problem}"


class NotFound(FieldError):
    """A named thing (a dataset, a passage) that does not exist, or that the caller may not see: the two are told
    the same way, so a refusal never confirms that something hidden exists."""
