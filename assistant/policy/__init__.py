"""Access policy in one place: access levels (`access`), roles with named actions and the one `allowed`
decision (`roles`), signed-in users (`users`), and personal-data detection and masking (`pii`). Every use case
in `assistant.services` asks these modules; no shell decides access itself."""
