"""Access levels of public data (DCAT-US accessLevel), normalised from what sources write."""

from typing import Final

PUBLIC: Final = "public"
RESTRICTED: Final = "restricted public"
NON_PUBLIC: Final = "non-public"
ACCESS_LEVELS: Final = (PUBLIC, RESTRICTED, NON_PUBLIC)

_ALIASES: Final = {
    "public": PUBLIC,
    "open": PUBLIC,
    "公开": PUBLIC,
    "公開": PUBLIC,
    "restricted public": RESTRICTED,
    "restricted-public": RESTRICTED,
    "restricted_public": RESTRICTED,
    "restricted": RESTRICTED,
    "有条件公开": RESTRICTED,
    "有條件公開": RESTRICTED,
    "non-public": NON_PUBLIC,
    "non public": NON_PUBLIC,
    "non_public": NON_PUBLIC,
    "nonpublic": NON_PUBLIC,
    "private": NON_PUBLIC,
    "不公开": NON_PUBLIC,
    "不公開": NON_PUBLIC,
}


def normalize_access_level(value: object) -> str:
    """Map a source's access value to one of ACCESS_LEVELS; raise ValueError if unknown.

    Unknown values are refused rather than guessed, since guessing "public" could leak data.
    """
    key = str(value).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    raise ValueError(f"unknown access level {value!r} (expected one of: {', '.join(ACCESS_LEVELS)})")


def most_restrictive(*levels: str | None) -> str | None:
    """The strictest of the given levels (None entries ignored); None when none is given."""
    given = [level for level in levels if level is not None]
    return max(given, key=ACCESS_LEVELS.index) if given else None
