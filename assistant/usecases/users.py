"""Use cases of users (issue 33): a steward (`users.manage`) adds users with a role and an organisation, lists them,
disables them and enables them again, each with a receipt. Embedded, the users file is GOVDATA_USERS_FILE, else
GOVDATA_HOME/users.json (made by the first `users add`; from then on it replaces the bundled demo users). With shared
state (issue 34, GOVDATA_STATE__POSTGRES_DSN) the users are the state's `users` table, so every app server sees a
change at once. The web app, the CLI's GOVDATA_USER and every grant check read them again at every call, so a change
holds at the next request without a restart."""

from pathlib import Path
from typing import Any

from assistant.policy.users import UserStore, new_user, user_store
from assistant.usecases.desk import Desk, _entry


class UserUseCases(Desk):

    @property
    def users_file(self) -> Path:
        """Where `users add` writes when embedded: the file in force, or GOVDATA_HOME/users.json when none was
        written yet."""
        return self.settings.users_path or self.settings.home / "users.json"

    @property
    def user_store(self) -> UserStore:
        """The users file, or the shared state's users table."""
        return user_store(self.settings)

    @_entry("users.manage")
    def add_user(self, name: str, user_role: str, *, password: str, org: str | None = None, role: str,
                 user: str | None = None) -> dict[str, Any]:
        """A new user in `user_role`, belonging to `org` (a registered organisation) if given (`users.manage`)."""
        with self._receipt("users.manage", role, user, question=f"add user {name} as {user_role}") as receipt:
            self.role(role).require("users.manage")
            self.role(user_role)  # an unknown role is refused, naming the known ones
            member = self.grant_file.book().organisation(org.strip().lower(), "org").name if org else ""
            added = self.user_store.add(new_user(name.strip(), user_role, password, member))
            receipt.outcome = f"added: user {added.name} ({user_role}" + (f", {member})" if member else ")")
        return added.public()

    @_entry("users.manage")
    def list_users(self, *, role: str, user: str | None = None) -> list[dict[str, Any]]:
        """Every user with their role, organisation and whether they are disabled; never a hash (`users.manage`)."""
        with self._receipt("users.manage", role, user, question="list users") as receipt:
            self.role(role).require("users.manage")
            found = [u.public() for u in self.user_store.current().values()]
            receipt.row_count = len(found)
        return found

    @_entry("users.manage")
    def disable_user(self, name: str, *, role: str, user: str | None = None) -> dict[str, Any]:
        """The user can no longer sign in or act as GOVDATA_USER, and their grants' access ends with it
        (`users.manage`); names are never reused."""
        return self.set_user_enabled(name, enabled=False, role=role, user=user)

    @_entry("users.manage")
    def set_user_enabled(self, name: str, *, enabled: bool, role: str, user: str | None = None) -> dict[str, Any]:
        """Disable a user (refused at their next request, on every app server with shared state) or enable a
        disabled one again (`users.manage`)."""
        verb = "enable" if enabled else "disable"
        with self._receipt("users.manage", role, user, question=f"{verb} user {name}") as receipt:
            self.role(role).require("users.manage")
            done = self.user_store.set_disabled(name.strip(), not enabled)
            receipt.outcome = f"{verb}d: user {done.name}"
        return done.public()
