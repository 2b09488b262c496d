"""Use cases of users (issue 33): a steward (`users.manage`) adds users with a role and an organisation, lists them
and disables them, each with a receipt. The users file is GOVDATA_USERS_FILE, else GOVDATA_HOME/users.json (made by
the first `users add`; from then on it replaces the bundled demo users). The web app, the CLI's GOVDATA_USER and
every grant check read it again when it changes, so a change holds at the next request without a restart."""

from pathlib import Path
from typing import Any

from assistant.policy.users import add_user, disable_user, load_users
from assistant.usecases.desk import Desk, _entry
from core.errors import FieldError


class UserUseCases(Desk):

    @property
    def users_file(self) -> Path:
        """Where `users add` writes: the file in force, or GOVDATA_HOME/users.json when none was written yet."""
        return self.settings.users_path or self.settings.home / "users.json"

    @_entry("users.manage")
    def add_user(self, name: str, user_role: str, *, password: str, org: str | None = None, role: str,
                 user: str | None = None) -> dict[str, Any]:
        """A new user in `user_role`, belonging to `org` (a registered organisation) if given (`users.manage`)."""
        with self._receipt("users.manage", role, user, question=f"add user {name} as {user_role}") as receipt:
            self.role(role).require("users.manage")
            self.role(user_role)  # an unknown role is refused, naming the known ones
            member = self.grant_file.book().organisation(org.strip().lower(), "org").name if org else ""
            added = add_user(self.users_file, name.strip(), user_role, password, member)
            receipt.outcome = f"added: user {added.name} ({user_role}" + (f", {member})" if member else ")")
        return added.public()

    @_entry("users.manage")
    def list_users(self, *, role: str, user: str | None = None) -> list[dict[str, Any]]:
        """Every user with their role, organisation and whether they are disabled; never a hash (`users.manage`)."""
        with self._receipt("users.manage", role, user, question="list users") as receipt:
            self.role(role).require("users.manage")
            found = [u.public() for u in load_users(self.settings.users_path).values()]
            receipt.row_count = len(found)
        return found

    @_entry("users.manage")
    def disable_user(self, name: str, *, role: str, user: str | None = None) -> dict[str, Any]:
        """The user can no longer sign in or act as GOVDATA_USER, and their grants' access ends with it
        (`users.manage`); names are never reused."""
        with self._receipt("users.manage", role, user, question=f"disable user {name}") as receipt:
            self.role(role).require("users.manage")
            if self.settings.users_path is None:
                raise FieldError("name", "the bundled demo users cannot be changed; add users first (users add)",
                                 name)
            done = disable_user(self.settings.users_path, name.strip())
            receipt.outcome = f"disabled: user {done.name}"
        return done.public()
