"""One frozen settings object; env prefix GOVDATA_, nested fields with `__` (GOVDATA_EMBEDDING__MODEL)."""

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EmbeddingModelName = Literal["use-multilingual-v3", "all-minilm-l6-v2", "sentence-transformers"]
AccessLevelName = Literal["public", "restricted public", "non-public"]


class EmbeddingSettings(BaseModel):
    """Which bundled (or local) embedding model vectors are made with."""

    model_config = ConfigDict(frozen=True)

    model: EmbeddingModelName = "use-multilingual-v3"
    path: Path | None = Field(
        default=None, description="Local sentence-transformers model folder (model=sentence-transformers)."
    )
    batch_size: int = Field(default=64, ge=1, le=4096)
    threads: int = Field(default=2, ge=1, le=64)


class ChromaServerSettings(BaseModel):
    """Where vectors live: the embedded store under GOVDATA_HOME (default), or a Chroma server (`chroma run`)."""

    model_config = ConfigDict(frozen=True)

    url: str | None = Field(default=None, description="A Chroma server, e.g. http://10.0.0.5:8000; unset: embedded.")
    token_env: str | None = Field(default=None, description="Environment variable holding the server's token.")
    header: str = Field(default="Authorization", description="The header the token is sent in (Bearer TOKEN for "
                                                           "Authorization, the bare token otherwise).")
    tenant: str = Field(default="default_tenant", description="Chroma tenant on the server.")
    database: str = Field(default="default_database", description="Chroma database on the server (one per "
                                                                  "GovData deployment sharing the server).")


class ChunkSettings(BaseModel):
    """How documents are cut into passages."""

    model_config = ConfigDict(frozen=True)

    max_tokens: int = Field(default=350, ge=32, le=4096)


class IngestSettings(BaseModel):
    """Defaults for `govdata ingest`."""

    model_config = ConfigDict(frozen=True)

    default_access_level: AccessLevelName = "public"


class RetrievalSettings(BaseModel):
    """How dense and keyword results are fused (measured in docs/retrieval.md)."""

    model_config = ConfigDict(frozen=True)

    fusion: Literal["weighted", "rrf", "dense", "bm25"] = "weighted"
    keyword_weight: float = Field(default=0.5, ge=0.0, le=10.0)
    candidates: int = Field(default=100, ge=10, le=1000, description="Dense and keyword candidates per search.")
    min_coverage: float = Field(default=0.0, ge=-1.0, le=1.0,
                                description="Dataset search answers nothing unless one of its top results holds more "
                                            "than this share of the query's keyword weight (0: a word; -1: off).")
    translate: bool = Field(default=True, description="Read a Chinese query in English too (CC-CEDICT, word by "
                                                      "word) for keyword search and coverage (issue 28).")
    disclose_hidden_levels: tuple[AccessLevelName, ...] = Field(
        default=("restricted public",),
        description="Levels whose matching records a role that cannot see them is told about (a count, never "
                    "titles); non-public is never counted unless listed here.")


class LlmSettings(BaseModel):
    """The chat model: embedded llama.cpp (default) or an OpenAI-compatible server."""

    model_config = ConfigDict(frozen=True)

    provider: Literal["embedded", "openai"] = "embedded"
    model: str = Field(default="qwen2.5-coder-1.5b-instruct-q4_k_m", description="Model name sent to the server.")
    model_path: Path | None = Field(default=None, description="Another GGUF file instead of the bundled one.")
    model_sha256: str | None = None
    base_url: str | None = None
    api_key_env: str = Field(default="GOVDATA_LLM_API_KEY", description="Name of the env variable with the key.")
    retries: int = Field(default=1, ge=0, le=10, description="Retries of a failed model-server request.")
    json_mode: Literal["json_object_schema", "json_schema", "none"] = "json_object_schema"
    n_ctx: int = Field(default=4096, ge=512, le=32768)
    n_threads: int = Field(default=2, ge=1, le=64)
    n_threads_batch: int = Field(default=2, ge=1, le=64)
    max_tokens: int = Field(default=512, ge=16, le=4096)
    warm_up: bool = Field(default=True, description="`govdata serve` loads the model and reads the answer "
                                                   "prompt's fixed prefix at start, not at the first question.")
    prefix_cache: int = Field(default=4, ge=0, le=64,
                              description="Embedded model: fixed prompt prefixes (system prompt and examples) "
                                          "whose context state is kept; 0 turns it off.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    timeout_s: float = Field(default=120.0, gt=0)
    mask_pii: bool = Field(default=True, description="Mask personal data in prompts sent to a remote model.")
    max_concurrent: int = Field(default=8, ge=1, le=1024,
                                description="Model calls (answers, SQL writing) at once in one process; the "
                                            "embedded model takes 2 (it writes one reply at a time).")
    max_concurrent_per_user: int = Field(default=1, ge=1, le=64,
                                         description="Model calls one user may have running at once.")
    queue_wait_s: float = Field(default=120.0, ge=0, le=3600,
                                description="How long a question waits for the user's model slot.")

    def workers(self) -> int:
        """Model calls worth running at once: the embedded model serialises generations behind one lock, so
        more than 2 would only hold threads."""
        return min(self.max_concurrent, 2) if self.provider == "embedded" else self.max_concurrent


class AnswerSettings(BaseModel):
    """Grounded answering: how many passages, and when evidence is too weak to answer."""

    model_config = ConfigDict(frozen=True)

    passages: int = Field(default=4, ge=1, le=20)
    passage_tokens: int = Field(default=150, ge=0, le=4000,
                                description="A longer passage is cut to the sentences that matter to the "
                                            "question (about this many model tokens); 0 keeps passages whole.")
    min_score: float = Field(default=0.45, ge=0.0, le=2.0, description="Best passage score needed to answer.")


class SqlSettings(BaseModel):
    """Limits and generation knobs for questions over approved tables."""

    model_config = ConfigDict(frozen=True)

    row_cap: int = Field(default=1000, ge=1, le=1_000_000, description="Most rows a query returns.")
    timeout_s: float = Field(default=10.0, gt=0, le=3600, description="Wall-clock limit per query.")
    memory_limit: str = Field(default="1GB", pattern=r"^\d+(\.\d+)?\s*[KMGT]i?B$",
                              description="DuckDB memory limit per query.")
    max_chars: int = Field(default=20_000, ge=100, le=1_000_000, description="Longest SQL text accepted.")
    max_cell_chars: int = Field(default=10_000, ge=16, le=10_000_000,
                                description="Longest value shown per cell; longer text is cut, in the engine.")
    max_result_bytes: int = Field(default=8_000_000, ge=1024, le=1_000_000_000,
                                  description="Largest result a query may return; a larger one is refused.")
    max_estimated_rows: int = Field(default=1_000_000_000, ge=0, le=10**15,
                                    description="Most rows the planner may expect at any step; 0 turns it off.")
    max_concurrent: int = Field(default=4, ge=1, le=256, description="Queries running at once in one process.")
    max_concurrent_per_role: int = Field(default=3, ge=1, le=256, description="Queries one role may run at once.")
    max_concurrent_per_user: int = Field(default=2, ge=1, le=256, description="Queries one user may run at once.")
    max_queries_per_user_per_minute: int = Field(default=300, ge=0, le=100_000,
                                                 description="Average query rate per user (bursts of 20); 0: off.")
    queue_wait_s: float = Field(default=5.0, ge=0, le=600, description="How long a query waits for a free slot.")
    retries: int = Field(default=2, ge=0, le=5, description="Fix-ups after a rejected or failed query.")
    max_tables: int = Field(default=6, ge=1, le=50, description="Tables shown to the model per question.")
    max_columns: int = Field(default=24, ge=0, le=1000,
                             description="Columns shown per table: a wider table shows its most relevant ones (plus "
                                         "join keys and hinted columns); 0 shows all.")
    examples: int = Field(default=3, ge=0, le=10, description="Verified question/SQL pairs shown per question.")
    knowledge_tokens: int = Field(default=600, ge=0, le=4000,
                                  description="Prompt tokens the taught knowledge (terms, pairs, notes) may take; "
                                              "0 teaches nothing.")
    candidates: int = Field(default=1, ge=1, le=16,
                            description="SQL candidates per question; more than 1 votes by result set.")
    candidate_temperature: float = Field(default=0.7, ge=0.0, le=2.0,
                                         description="Sampling temperature of the candidates after the first.")
    candidate_budget_s: float = Field(default=60.0, gt=0, le=3600,
                                      description="Seconds a question may spend on extra candidates.")
    value_ranges: bool = Field(default=False, description="Show min..max of number and date columns and a few "
                                                         "examples of many-valued text columns in the prompt.")
    pattern_hints: bool = Field(default=False,
                                description="Add a hint line for set-question cues (both ... and, but not, 没有).")
    repair_hints: bool = Field(default=True,
                               description="When a query names a column its table lacks, tell the fix-up which "
                                           "visible tables hold it (or the closest names).")
    fixups: bool = Field(default=True,
                         description="When the engine refuses a query for a reason with one right reading (a column "
                                     "neither grouped nor aggregated; YEAR() of a year number; numbers or dates "
                                     "stored as text used as numbers or dates), run it in that reading before "
                                     "asking the model.")
    requalify: bool = Field(default=True,
                            description="When a refused query takes a column from an alias whose table lacks it "
                                        "and exactly one other table of that SELECT has it, move it there (a join "
                                        "equation with both sides swapped is swapped back) and run that before "
                                        "asking the model (issue 27).")
    schema_style: Literal["compact", "ddl"] = Field(
        default="ddl", description="How tables are shown to the model: compact (columns with notes and frequent "
                                       "values) or ddl (CREATE TABLE with three rows, as a plain prompt shows them).")
    reply_format: Literal["json", "fenced"] = Field(
        default="json", description="How the model writes its query: a JSON object {sql, explanation} (decoded under "
                                    "the server's JSON mode) or fenced (a ```sql code block, then the explanation, "
                                    "as a plain prompt's reply is written).")
    value_hints: bool = Field(default=False, description="Look up the values a question names (in either "
                                                         "language) and list them under the schema. Opt-in: on "
                                                         "held-back databases they tied, 16 won and 16 lost over "
                                                         "two measurements (issue 27).")
    plain_fallback: bool = Field(default=True, description="When every attempt failed (not for data withheld from "
                                                           "the role), ask once more with the plain prompt (tables "
                                                           "as CREATE TABLE with rows, the question, one query) and "
                                                           "run that, marked `fallback`. On since issue 27: held "
                                                           "back 7 won, 0 lost.")
    respell_values: bool = Field(default=False, description="When a query finds nothing (no rows, or one row of "
                                                            "zeros and NULLs), run it once more with each text value "
                                                            "it compares with = or IN in the one spelling its column "
                                                            "holds (case aside) and LIKE as ILIKE, kept if that "
                                                            "finds something.")
    join_equations: bool = Field(default=True, description="Show declared joins as the equation to write "
                                                           "(join on a.x = b.y) beside both columns.")
    sample_values: bool = Field(default=True, description="List a text column's most frequent values in the schema.")
    worked_examples: bool = Field(default=True, description="Put the two worked example turns before the question.")
    confidence_threshold: float = Field(default=0.6, ge=0.0, le=1.0,
                                        description="Agreement below which the answer says candidates disagree.")
    engine: Literal["duckdb", "postgres"] = Field(default="duckdb",
                                                  description="Where approved tables are queried.")
    postgres_dsn: str = Field(default="", description="Owner login that loads approved tables (engine=postgres).")
    postgres_password_env: str = Field(default="", description="Variable holding the owner's password.")
    postgres_reader_dsn: str = Field(default="", description="Plain login role queries run as (engine=postgres).")
    postgres_reader_password_env: str = Field(default="", description="Variable holding the reader's password.")
    postgres_schema: str = Field(default="govdata", description="Schema that holds the approved tables.")
    postgres_reader_role: str = Field(default="govdata_reader", description="Role name of the reader login.")
    postgres_work_mem: str = Field(default="64MB", pattern=r"^\d+\s*[kMG]?B$",
                                   description="PostgreSQL work_mem per query.")


class SdcSettings(BaseModel):
    """Statistical disclosure control of aggregates over tables about people, households or businesses (issue 35,
    docs/security.md): applied for roles whose `microdata` is `deny`."""

    model_config = ConfigDict(frozen=True)

    k: int = Field(default=5, ge=2, le=1000, description="Fewest units a released cell or shown group may come "
                                                         "from (threshold rule); a table's describe file may raise "
                                                         "or lower it.")
    dominance_n: int = Field(default=2, ge=1, le=10, description="Dominance rule: this many largest units ...")
    dominance_share: float = Field(default=0.85, gt=0.0, le=1.0,
                                   description="... may make up at most this share of a sum or mean.")
    count_noise: int = Field(default=2, ge=0, le=100,
                             description="Cell-key layer: a released count moves by at most this much, the same for "
                                         "the same units every time.")
    sum_noise: float = Field(default=0.1, ge=0.0, le=10.0,
                             description="Cell-key layer for sums and means: at most this share of the largest unit "
                                         "contribution.")
    query_noise: float = Field(default=1.0, ge=0.0, le=10.0,
                               description="Query layer (seeded by the query's wording), as a share of the cell-key "
                                           "layer; 0 turns it off.")
    daily_queries: int = Field(default=200, ge=0, le=1_000_000,
                               description="Protected answers one user may get per day (UTC); 0: no limit.")
    max_groups: int = Field(default=20_000, ge=1, le=1_000_000,
                            description="Most groups (small ones included) a protected query may form: all are "
                                        "checked together before any is shown.")


class InputSettings(BaseModel):
    """The longest text a caller may send (issue 26); a longer one is refused with the limit named. SQL text is
    bounded by GOVDATA_SQL__MAX_CHARS."""

    model_config = ConfigDict(frozen=True)

    max_question_chars: int = Field(default=2000, ge=10, le=1_000_000,
                                    description="Longest question or search text.")
    max_field_chars: int = Field(default=500, ge=10, le=100_000,
                                 description="Longest filter or name (publisher, format, since, dataset, user, ...).")
    max_history_turns: int = Field(default=10, ge=0, le=1000,
                                   description="Earlier turns of a conversation taken with a question; older "
                                               "ones are left out.")
    max_history_chars: int = Field(default=8000, ge=10, le=1_000_000,
                                   description="Longest earlier question or answer taken with a question.")


class AuditSettings(BaseModel):
    """Outside witnesses for the audit log; both must lie outside GOVDATA_HOME (docs/security.md)."""

    model_config = ConfigDict(frozen=True)

    key_file: Path | None = Field(default=None, description="Secret key that signs the head (govdata audit keygen).")
    witness_file: Path | None = Field(default=None, description="Second place each receipt's id and hash is appended.")
    max_text_chars: int = Field(default=20_000, ge=100, le=10_000_000,
                                description="Most characters of a receipt's question, SQL and other texts kept; the "
                                            "full question's and SQL's sha256 are kept beside them.")


class DisclosureSettings(BaseModel):
    """The public disclosure report (`govdata disclose`, docs/register.md)."""

    model_config = ConfigDict(frozen=True)

    min_count: int = Field(default=5, ge=1, le=1000, description="Counts below this are shown as <N.")


class ApiSettings(BaseModel):
    """The REST API and MCP server that `govdata serve` runs beside the web app (docs/api.md): who may call without
    a token, how fast one token may call, and how long lists and texts may be."""

    model_config = ConfigDict(frozen=True)

    anonymous_role: str | None = Field(default=None,
                                       description="Role of a call without a token; unset: such a call gets 401.")
    requests_per_minute: int = Field(default=120, ge=0, le=100_000,
                                     description="Average requests per minute per token (bursts of BURST); 0: off.")
    burst: int = Field(default=20, ge=1, le=10_000, description="Requests one token may send at once.")
    max_results: int = Field(default=50, ge=1, le=1000,
                             description="Deepest a list may be paged: offset + k (or limit) at most this.")
    max_body_bytes: int = Field(default=262_144, ge=1024, le=100_000_000,
                                description="Largest request body accepted; a larger one gets 413.")
    token_days: int = Field(default=90, ge=1, le=3650, description="Days a new token lasts unless --expires says.")


class StateSettings(BaseModel):
    """Where shared state lives (issue 34): under GOVDATA_HOME (embedded, the default) or in one PostgreSQL schema
    that every app server shares (audit chain, users, tokens, the register's decisions, the approved-table
    registry, the content table)."""

    model_config = ConfigDict(frozen=True)

    postgres_dsn: str = Field(default="", description="The state's owner login, e.g. postgresql://govdata_owner@db"
                                                      ":5432/gov; unset: everything stays under GOVDATA_HOME.")
    postgres_password_env: str = Field(default="", description="Variable holding the state login's password.")
    postgres_schema: str = Field(default="govdata_state", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
                                 description="Schema that holds the shared state (created and migrated by the "
                                             "assistant).")

    @property
    def shared(self) -> bool:
        return bool(self.postgres_dsn)


class Settings(BaseSettings):
    """All configuration; plain data, no clients are built here."""

    model_config = SettingsConfigDict(
        env_prefix="GOVDATA_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    home: Path = Field(default=Path(".govdata"), description="State folder: store, manifest, models.")
    embedding: EmbeddingSettings = EmbeddingSettings()
    chroma: ChromaServerSettings = ChromaServerSettings()
    chunk: ChunkSettings = ChunkSettings()
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    llm: LlmSettings = LlmSettings()
    answer: AnswerSettings = AnswerSettings()
    sql: SqlSettings = SqlSettings()
    sdc: SdcSettings = SdcSettings()
    input: InputSettings = InputSettings()
    audit: AuditSettings = AuditSettings()
    disclosure: DisclosureSettings = DisclosureSettings()
    api: ApiSettings = ApiSettings()
    state: StateSettings = StateSettings()
    roles_file: Path | None = Field(default=None, description="JSON role -> access levels; bundled default.")
    users_file: Path | None = Field(default=None, description="JSON web users -> role and password hash.")
    user: str | None = Field(default=None, description="Who CLI receipts name; default the OS account.")

    def with_row_cap(self, row_cap: int) -> "Settings":
        """The same settings with another SQL row cap (evaluations, and replaying a receipt at its own cap)."""
        return self.model_copy(update={"sql": self.sql.model_copy(update={"row_cap": row_cap})})

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def manifest_path(self) -> Path:
        return self.home / "manifest.sqlite"

    @property
    def sql_path(self) -> Path:
        return self.home / "sql"

    @property
    def audit_path(self) -> Path:
        return self.home / "audit"

    @property
    def tokens_path(self) -> Path:
        return self.home / "tokens.json"

    @property
    def grants_path(self) -> Path:
        """Organisations, grants (with their history) and requests for access (issue 33)."""
        return self.home / "grants.json"

    @property
    def users_path(self) -> Path | None:
        """The users file in force: GOVDATA_USERS_FILE, else GOVDATA_HOME/users.json once `govdata users add` made
        it, else None (the bundled demo users)."""
        if self.users_file is not None:
            return self.users_file
        made = self.home / "users.json"
        return made if made.is_file() else None

    @property
    def models_dir(self) -> Path:
        return self.home / "models"
