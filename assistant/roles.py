"""Roles and what each may see. The mapping is a JSON file (bundled default, or GOVDATA_ROLES_FILE)."""

import json
from functools import cache
from importlib import resources
from pathlib import Path

from assistant.access import ACCESS_LEVELS
from assistant.errors import GovDataError

DEFAULT_ROLE = "citizen"


@cache
def load_roles(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """role -> allowed access levels; a malformed file is an error, never a silent default."""
    source = path.read_text(encoding="utf-8") if path else (
        resources.files("assistant").joinpath("roles.json").read_text(encoding="utf-8"))
    try:
        raw = json.loads(source)
        roles = {name: tuple(spec["access_levels"]) for name, spec in raw.items()}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise GovDataError(f"roles file {path or 'assistant/roles.json'} is malformed: {exc}") from None
    for name, levels in roles.items():
        unknown = set(levels) - set(ACCESS_LEVELS)
        if unknown:
            raise GovDataError(f"role {name!r} names unknown access level(s) {sorted(unknown)}")
    return roles


def allowed_levels(role: str, path: Path | None = None) -> tuple[str, ...]:
    roles = load_roles(path)
    if role not in roles:
        raise GovDataError(f"unknown role {role!r}; known roles: {', '.join(roles)}")
    return roles[role]

