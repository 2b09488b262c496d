"""Where shared state lives (issue 34): embedded under GOVDATA_HOME (files, SQLite, JSON; the default) or one
PostgreSQL schema shared by every app server (`GOVDATA_STATE__POSTGRES_DSN`).

Each store keeps one small interface with two implementations, an embedded one (what it has always been) and a
PostgreSQL one; the store's factory asks `shared_state(settings)` which to build. A store added later (knowledge
items, grants, disclosure) does the same and appends its tables to `core/state/migrations.py`.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import StateSettings
    from core.state.postgres import PostgresState


def shared_state(settings: "StateSettings") -> "PostgresState | None":
    """The PostgreSQL state of these settings (opened and migrated once per process), or None: embedded."""
    if not settings.postgres_dsn:
        return None
    from core.state.postgres import open_state

    return open_state(settings.postgres_dsn, settings.postgres_password_env, settings.postgres_schema)
