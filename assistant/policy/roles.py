"""Roles and what each may see. The mapping is a JSON file (bundled default, or GOVDATA_ROLES_FILE)."""

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from core.access import ACCESS_LEVELS
from core.errors import GovDataError

DEFAULT_ROLE = "citizen"
SENSITIVE_POLICIES = ("deny", "mask", "allow")
PII_POLICIES = ("mask", "raw")
MICRODATA_POLICIES = ("deny", "allow")  # row-level output of tables about people (issue 35)
# Named actions beyond reading (datasette's named-permission style), with the words a refusal uses.
ACTIONS = {"audit.read": "read the audit log", "tables.approve": "approve tables for SQL questions",
           "sql.learn": "store verified question/SQL examples",
           "register.read": "read the public data resource register",
           "register.grade": "decide classification and grading suggestions",
           "register.review": "review passages held for instruction-like text",
           "tokens.manage": "create, list or revoke API tokens",
           "knowledge.propose": "propose knowledge (verified SQL, terms, table notes)",
           "knowledge.review": "review knowledge (approve, reject, import, re-check)",
           "grants.manage": "create, change or revoke grants, or decide requests for access",
           "users.manage": "add, list, disable or enable users"}
_LEGACY_STEWARD = "data_steward"  # a roles file written before actions existed keeps the steward's rights


class NotAllowed(GovDataError):
    """A role refused a named action (shells that speak HTTP answer 403)."""


@dataclass(frozen=True)
class Role:
    """Access levels a role may see, what happens to columns flagged sensitive (deny unless stated), whether
    personal data found in results and passages is masked (unless stated) or shown raw, and whether it may see rows
    of tables about people, households or businesses (`microdata`: deny unless stated: aggregates only, under
    disclosure control)."""

    name: str
    access_levels: tuple[str, ...]
    sensitive_columns: str = "deny"
    pii: str = "mask"
    actions: tuple[str, ...] = ()
    microdata: str = "deny"

    @property
    def masks_pii(self) -> bool:
        return self.pii != "raw"

    def allowed(self, action: str) -> bool:
        """Whether the role may take a named action (ACTIONS)."""
        return action in self.actions

    def within(self, other: "Role") -> bool:
        """Whether this role sees no more than `other` (the CLI's `--role` may only lower a known user's role):
        no other access level, no laxer sensitive-column or personal-data policy, no other action."""
        sensitive = SENSITIVE_POLICIES.index
        return (set(self.access_levels) <= set(other.access_levels)
                and sensitive(self.sensitive_columns) <= sensitive(other.sensitive_columns)
                and PII_POLICIES.index(self.pii) <= PII_POLICIES.index(other.pii)
                and set(self.actions) <= set(other.actions))

    def require(self, action: str) -> None:
        if not self.allowed(action):
            raise NotAllowed(f"role {self.name!r} may not {ACTIONS.get(action, action)}")


def config_text(path: Path | None, bundled: str) -> str:
    """The text of a JSON config file: the given path, else the copy bundled in this package."""
    if path:
        return path.read_text(encoding="utf-8")
    return resources.files("assistant.policy").joinpath(bundled).read_text(encoding="utf-8")


@cache
def load_roles(path: Path | None = None) -> dict[str, Role]:
    """role name -> Role; a malformed file is an error, never a silent default."""
    source = config_text(path, "roles.json")
    try:
        raw = json.loads(source)
        roles = {name: Role(name, tuple(spec["access_levels"]), str(spec.get("sensitive_columns", "deny")),
                            str(spec.get("pii", "mask")), _actions(name, spec),
                            str(spec.get("microdata", "allow" if name == _LEGACY_STEWARD else "deny")))
                 for name, spec in raw.items()}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise GovDataError(f"roles file {path or 'assistant/policy/roles.json'} is malformed: {exc}") from None
    for role in roles.values():
        unknown = set(role.access_levels) - set(ACCESS_LEVELS)
        if unknown:
            raise GovDataError(f"role {role.name!r} names unknown access level(s) {sorted(unknown)}")
        if role.sensitive_columns not in SENSITIVE_POLICIES:
            raise GovDataError(f"role {role.name!r}: sensitive_columns must be one of {', '.join(SENSITIVE_POLICIES)}")
        if role.pii not in PII_POLICIES:
            raise GovDataError(f"role {role.name!r}: pii must be one of {', '.join(PII_POLICIES)}")
        if role.microdata not in MICRODATA_POLICIES:
            raise GovDataError(f"role {role.name!r}: microdata must be one of {', '.join(MICRODATA_POLICIES)}")
        unknown_actions = sorted(set(role.actions) - set(ACTIONS))
        if unknown_actions:
            raise GovDataError(f"role {role.name!r} names unknown action(s) {unknown_actions}; known: "
                               f"{', '.join(ACTIONS)}")
    return roles


def _actions(name: str, spec: dict[str, object]) -> tuple[str, ...]:
    if "actions" in spec:
        actions = spec["actions"]
        if not isinstance(actions, list):
            raise TypeError(f"role {name!r}: actions must be a list")
        return tuple(str(a) for a in actions)
    return tuple(ACTIONS) if name == _LEGACY_STEWARD else ()


def get_role(role: str, path: Path | None = None) -> Role:
    roles = load_roles(path)
    if role not in roles:
        raise GovDataError(f"unknown role {role!r}; known roles: {', '.join(roles)}")
    return roles[role]


def allowed_levels(role: str, path: Path | None = None) -> tuple[str, ...]:
    return get_role(role, path).access_levels
