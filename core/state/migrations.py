"""The shared state's schema as numbered migrations, applied in order and recorded in `schema_migrations`.

A migration is never edited once released: a change is a new, higher number. Every store that lives in the state
(the audit chain, users, tokens, the register's decisions, the approved-table registry, the content table, and the
stores later issues add) appends its own migration here; `docs/deploy.md` lists what each holds.
"""

from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


_AUDIT = f"""
CREATE TABLE receipts (
    id BIGINT PRIMARY KEY,
    time TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX receipts_who ON receipts (who);
CREATE INDEX receipts_time ON receipts (time);
CREATE TABLE audit_head (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    id BIGINT NOT NULL,
    hash TEXT NOT NULL,
    signature TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_head (one, id, hash) VALUES (TRUE, 0, '{GENESIS}');
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER receipts_no_change BEFORE UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER receipts_no_truncate BEFORE TRUNCATE ON receipts
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
"""

_PEOPLE = """
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    salt TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled TEXT NOT NULL DEFAULT '',
    changed TEXT NOT NULL
);
CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    expires TEXT NOT NULL,
    revoked TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT ''
);
"""

_DECISIONS = """
CREATE SEQUENCE decisions_order;
CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    entry TEXT NOT NULL,
    seq BIGINT NOT NULL DEFAULT nextval('decisions_order')
);
CREATE INDEX decisions_kind ON decisions (kind, status);
"""

_TABLES = """
CREATE TABLE approved_tables (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL
);
"""

_CONTENTS = """
CREATE TABLE contents (
    collection TEXT NOT NULL,
    item_id TEXT NOT NULL,
    text TEXT NOT NULL,
    payload TEXT NOT NULL,
    tokens TEXT,
    PRIMARY KEY (collection, item_id)
);
CREATE TABLE generations (collection TEXT PRIMARY KEY, generation BIGINT NOT NULL);
"""

_PROFILE_LOGINS = """
CREATE TABLE profile_logins (
    key TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password TEXT NOT NULL,
    schema TEXT NOT NULL
);
"""

_EXAMPLES = """
CREATE SEQUENCE examples_order;
CREATE TABLE examples (
    question TEXT PRIMARY KEY,
    sql TEXT NOT NULL,
    tables TEXT NOT NULL,
    added_at TEXT NOT NULL,
    seq BIGINT NOT NULL DEFAULT nextval('examples_order')
);
"""

_ORGANISATIONS = """
ALTER TABLE users ADD COLUMN org TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN org TEXT NOT NULL DEFAULT '';
"""

_KNOWLEDGE = """
CREATE TABLE knowledge (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    item TEXT NOT NULL
);
"""

_SECRETS = """
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_GRANTS = """
CREATE TABLE grant_book (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    document TEXT NOT NULL
);
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "audit receipts, the chain head, append-only triggers", _AUDIT),
    Migration(2, "users and API tokens", _PEOPLE),
    Migration(3, "the register's decisions", _DECISIONS),
    Migration(4, "the approved-table registry", _TABLES),
    Migration(5, "the content table (texts, records, keyword tokens) and its generations", _CONTENTS),
    Migration(6, "the PostgreSQL engine's access-profile logins, shared by every app server", _PROFILE_LOGINS),
    Migration(7, "verified question/SQL examples (sql learn)", _EXAMPLES),
    Migration(8, "users' and API tokens' organisations (issue 33)", _ORGANISATIONS),
    Migration(9, "knowledge items (issue 32: verified SQL, terms, table notes), one JSON document each", _KNOWLEDGE),
    Migration(10, "installation secrets shared by every app server (issue 35's disclosure-control key)", _SECRETS),
    Migration(11, "organisations, grants and requests for access (issue 33), one document", _GRANTS),
)
