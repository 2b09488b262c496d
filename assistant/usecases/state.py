"""Operator use cases of the shared state (issue 34): where the state lives, and the one-time copy of an embedded
home into PostgreSQL. They act for no user and leave no receipt of their own: the copy moves the audit chain
itself, and verifies it afterwards."""

from collections.abc import Callable
from typing import Any

from assistant.statecopy import MigrationReport, migrate_to_postgres
from assistant.usecases.desk import Desk
from core.state import shared_state
from core.state.postgres import where


class StateUseCases(Desk):

    def state_status(self) -> dict[str, Any]:
        """Embedded or shared; for shared state the server (never a password), the schema and its migrations."""
        state = shared_state(self.settings.state)
        if state is None:
            return {"backend": "embedded", "home": str(self.settings.home)}
        status: dict[str, Any] = {"backend": "postgres", "server": where(state.dsn), "schema": state.schema,
                                  "migrations": state.versions()}
        if not self.settings.chroma.url:
            status["warning"] = ("vectors are in the embedded store under this GOVDATA_HOME: other app servers "
                                 "cannot search what this one ingests; set GOVDATA_CHROMA__URL")
        return status

    def migrate_state(self, progress: Callable[[str], None] | None = None) -> MigrationReport:
        """Copy this home's embedded state into the shared state (idempotent, resumable; the chain verified)."""
        return migrate_to_postgres(self.settings, progress)
