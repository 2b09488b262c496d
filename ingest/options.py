"""Per-folder and per-file ingest options from `.govdata.json` sidecars, plus CLI overrides.

A sidecar applies to its folder and everything below it; deeper sidecars override shallower ones key by
key, and a sidecar's "files" entry overrides its folder settings for one file name.
"""

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.access import ACCESS_LEVELS, most_restrictive, normalize_access_level
from core.errors import IngestError

SIDECAR_NAME = ".govdata.json"
_KNOWN_KEYS = {"access_level", "exclude", "catalog", "files", "language"}


@dataclass(frozen=True)
class SourceOptions:
    """Effective options for one source file."""

    access_level: str | None = None
    catalog: dict[str, Any] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    language: str | None = None

    def fingerprint(self) -> str:
        """A stable text of the options: a change re-ingests the file even if its bytes did not change."""
        return json.dumps(
            {"access_level": self.access_level, "catalog": self.catalog, "language": self.language},
            sort_keys=True,
            ensure_ascii=False,
        )

    def excludes(self, path: Path) -> bool:
        return any(fnmatch.fnmatch(path.name, pattern) for pattern in self.exclude)


def read_sidecar(path: Path) -> dict[str, Any]:
    """Parse and validate one sidecar file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError(path, f"unreadable options file: {exc}") from None
    if not isinstance(data, dict):
        raise IngestError(path, "options file must hold a JSON object")
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise IngestError(path, f"unknown option(s) {sorted(unknown)}; known: {sorted(_KNOWN_KEYS)}")
    entries = [data, *data.get("files", {}).values()]
    for entry in entries:
        if "access_level" in entry:
            try:
                entry["access_level"] = normalize_access_level(entry["access_level"])
            except ValueError as exc:
                raise IngestError(path, str(exc)) from None
    return data


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if key == "files":
            continue
        if key == "catalog" and isinstance(value, dict):
            merged["catalog"] = {**merged.get("catalog", {}), **value}
        else:
            merged[key] = value
    return merged


class OptionsResolver:
    """Finds the sidecars that apply to a file, caching each folder's parsed sidecar."""

    def __init__(self, cli_access_level: str | None = None) -> None:
        if cli_access_level is not None and cli_access_level not in ACCESS_LEVELS:
            cli_access_level = normalize_access_level(cli_access_level)
        self._cli_access_level = cli_access_level
        self._cache: dict[Path, dict[str, Any]] = {}

    def _sidecar(self, folder: Path) -> dict[str, Any]:
        if folder not in self._cache:
            candidate = folder / SIDECAR_NAME
            self._cache[folder] = read_sidecar(candidate) if candidate.is_file() else {}
        return self._cache[folder]

    def resolve(self, path: Path, root: Path) -> SourceOptions:
        """Options for `path`, found in sidecars from `root` down to the file's folder."""
        path, root = path.resolve(), root.resolve()
        folders = [root] if root.is_dir() else [path.parent]
        if root.is_dir():
            for part in path.parent.relative_to(root).parts:
                folders.append(folders[-1] / part)
        merged: dict[str, Any] = {}
        for folder in folders:
            sidecar = self._sidecar(folder)
            merged = _merge(merged, sidecar)
            if folder == path.parent:
                merged = _merge(merged, sidecar.get("files", {}).get(path.name, {}))
        return SourceOptions(
            access_level=most_restrictive(merged.get("access_level"), self._cli_access_level),
            catalog=dict(merged.get("catalog", {})),
            exclude=tuple(merged.get("exclude", ())),
            language=merged.get("language"),
        )
