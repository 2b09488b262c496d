"""Use cases of web users in the shared state (issue 34): a steward adds, disables, enables and lists them
(`users.manage`, each with a receipt). Embedded, the users file is the list (GOVDATA_USERS_FILE), edited by hand."""

from typing import Any

from assistant.policy.users import User, UserTable, hash_password, user_table
from assistant.usecases.desk import Desk, _entry
from core.errors import GovDataError


class UserUseCases(Desk):

    def _users(self) -> UserTable:
        table = user_table(self.settings)
        if table is None:
            raise GovDataError("users are managed here only with shared state (GOVDATA_STATE__POSTGRES_DSN); "
                               "embedded, edit the users file (GOVDATA_USERS_FILE)")
        return table

    @_entry("users.manage")
    def add_user(self, name: str, user_role: str, password: str, *, role: str,
                 user: str | None = None) -> dict[str, Any]:
        """Add a web user with `user_role` (or set a known one's role and password, enabling it)."""
        with self._receipt("users.manage", role, user, question=f"add {name} as {user_role}") as receipt:
            self.role(role).require("users.manage")
            self.role(user_role)  # an unknown role is refused, naming the known ones
            if len(password) < 8:
                raise GovDataError("a password needs at least 8 characters")
            salt, digest = hash_password(password)
            users = self._users()
            users.put(User(name, user_role, salt, digest))
            receipt.outcome = f"added: {name} ({user_role})"
        return next(u for u in users.listing() if u["name"] == name)

    @_entry("users.manage")
    def set_user_enabled(self, name: str, *, enabled: bool, role: str, user: str | None = None) -> dict[str, Any]:
        """Disable a user (refused by every app server at their next request) or enable them again."""
        verb = "enable" if enabled else "disable"
        with self._receipt("users.manage", role, user, question=f"{verb} {name}") as receipt:
            self.role(role).require("users.manage")
            changed = self._users().set_enabled(name, enabled)
            receipt.outcome = f"{verb}d: {name}"
        return changed

    @_entry("users.manage")
    def list_users(self, *, role: str, user: str | None = None) -> list[dict[str, Any]]:
        """Every user with role and status; never a password hash."""
        with self._receipt("users.manage", role, user, question="list") as receipt:
            self.role(role).require("users.manage")
            users = self._users().listing()
            receipt.row_count = len(users)
        return users
