"""The desk every use case works at: the parts it needs (built once, lazily, under a lock), who is acting and
in which role, masking, and the one receipt helper (`_receipt`) that records a use case whatever happens. Each
use-case family (documents, datasets, sql, audit, register, ingest) is a subclass; `Services` joins them."""

import copy
import dataclasses
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, Self, TypeVar

from langchain_core.language_models import BaseChatModel

from assistant.audit import AuditLog, Receipt, open_log
from assistant.boundary import QUESTIONS, entering
from assistant.factories import build_gate, build_model_gate, build_retriever, build_sql_service, build_store
from assistant.llm.factory import build_chat_model
from assistant.policy import pii
from assistant.policy.grants import SQL_PREFIX, Grant, GrantStore, applying, grant_store, today_utc
from assistant.policy.roles import Role, allowed_levels, get_role
from assistant.register.grading import decisions_of, record_levels
from core.dates import since_day
from core.errors import FieldError, GovDataError
from core.files import private_folder
from core.settings import Settings
from ingest.manifest import Manifest
from ingest.pipeline import IngestSummary, Pipeline
from vectorstore.embeddings import GovDataEmbeddings, build_embeddings
from vectorstore.filters import SearchFilters
from vectorstore.retriever import Retriever
from vectorstore.store import DATASETS, ChromaStore

if TYPE_CHECKING:
    from assistant.gate import Gate
    from assistant.sql.service import SqlService

T = TypeVar("T")
P = ParamSpec("P")
ENTRIES: dict[str, str | None] = {}  # use case (method name) -> the action its refusals are recorded as


def _entry(action: str | None) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """A use case's way in (issue 26): every text argument cleaned and bounded (`boundary.entering`) before the
    use case sees it, so none can forget to; a text over its limit is refused with a receipt of `action`, like
    any refusal (None: a helper that leaves no receipt)."""
    def wrap(method: Callable[P, T]) -> Callable[P, T]:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def entered(*args: P.args, **kwargs: P.kwargs) -> T:
            call = signature.bind(*args, **kwargs)
            services: Desk = call.arguments["self"]
            try:
                for name, value in list(call.arguments.items())[1:]:
                    call.arguments[name] = entering(name, value, services.settings)
            except FieldError as exc:
                services._refuse(action, call.arguments, exc)
            return method(*call.args, **call.kwargs)

        ENTRIES[method.__name__] = action
        return entered

    return wrap


class Desk:
    """The parts and the receipts every use-case family shares; one per settings object."""

    def __init__(self, settings: Settings, interface: str = "cli") -> None:
        self.settings = settings
        self.interface = interface
        private_folder(settings.home)
        self._embeddings: GovDataEmbeddings | None = None
        self._store: ChromaStore | None = None
        self._retriever: Retriever | None = None
        self._chat_model: BaseChatModel | None = None
        self._sql: SqlService | None = None
        self._gate: Any = None
        self._model_gate: Any = None
        self._pace: Any = None
        self._token_file: Any = None
        self._grant_file: Any = None
        self._building = threading.RLock()  # web sessions share one Services: each part is built once
        self._owner: Desk = self  # who holds the parts: itself, or the Services a `for_interface` view was made of

    def for_interface(self, interface: str) -> Self:
        """The same use cases and parts (store, models, gates) for another shell, whose receipts name it: one server
        runs the web app, the REST API and MCP on one set of parts."""
        view = copy.copy(self)
        view.interface = interface
        return view

    def _once(self, attribute: str, build: Callable[[], T]) -> T:
        """The part in `attribute`, built on first use by exactly one thread (two Chroma clients opened at once
        on one folder break each other; two embedding models would double the memory)."""
        owner = self._owner
        value = getattr(owner, attribute)
        if value is None:
            with owner._building:
                value = getattr(owner, attribute)
                if value is None:
                    value = build()
                    setattr(owner, attribute, value)
        return value

    @property
    def embeddings(self) -> GovDataEmbeddings:
        return self._once("_embeddings", lambda: build_embeddings(self.settings.embedding))

    @property
    def store(self) -> ChromaStore:
        return self._once("_store", lambda: build_store(self.settings, lambda: self.embeddings))

    @property
    def retriever(self) -> Retriever:
        return self._once("_retriever", lambda: build_retriever(self.settings, self.store, self.embeddings))

    @property
    def chat_model(self) -> BaseChatModel:
        return self._once("_chat_model", lambda: build_chat_model(self.settings.llm, self.settings.models_dir))

    @property
    def sql(self) -> "SqlService":
        """Approved tables, the SQL guard and runner, and question -> SQL for this settings object."""
        return self._once("_sql", lambda: build_sql_service(self.settings, lambda: self.chat_model,
                                                            lambda: self.embeddings, self._ingest))

    @property
    def gate(self) -> "Gate":
        """The SQL engine's caps; one gate per Services, so every session of the web app shares them."""
        return self._once("_gate", lambda: build_gate(self.settings))

    @property
    def model_gate(self) -> "Gate":
        """The model's caps (answers, SQL writing): one user cannot hold every model worker."""
        return self._once("_model_gate", lambda: build_model_gate(self.settings))

    def allowed(self, role: str, action: str) -> bool:
        """Whether the role may take a named action (audit.read, tables.approve, sql.learn); unknown roles may not."""
        try:
            return self.role(role).allowed(action)
        except GovDataError:
            return False

    def _shown(self, role: str, value: Any) -> tuple[Any, int]:
        """What leaves Services for this role: a masked copy for roles that mask personal data, the value itself
        otherwise; and how many personal-data values it holds (a steward's raw view is recorded)."""
        masked, found = pii.mask_any(value)
        return (masked if self.role(role).masks_pii else value), found

    def _visible(self, role: str, value: T) -> T:
        """A read of the log or the register as it leaves Services: `_shown`'s masked copy for a role that masks
        personal data (a custom role with audit.read or register.read), the value itself, uncounted, otherwise."""
        return self._shown(role, value)[0] if self._masks(role) else value

    def _raw(self, role: str, tables: list[str], pii_found: int) -> bool:
        """True when the role saw personal data unmasked: sensitive columns (policy allow) or detected
        values (pii raw). That access is itself audited."""
        record = self.role(role)
        sensitive = record.sensitive_columns == "allow" and self.sql.has_sensitive(tables)
        return sensitive or (not record.masks_pii and pii_found > 0)

    def role(self, role: str) -> "Role":
        return get_role(role, self.settings.roles_file)

    @property
    def grant_file(self) -> GrantStore:
        """Organisations, grants and requests: GOVDATA_HOME/grants.json, read again whenever the file changes, or
        the shared state's document (issue 34), read at every call."""
        return self._once("_grant_file", lambda: grant_store(self.settings))

    @_entry(None)
    def organisation(self, user: str | None) -> str:
        """The organisation the caller belongs to ("" for none): a signed-in user's or GOVDATA_USER's from the users
        file (read again when it changes; a disabled user has none), a `token:NAME`'s from the tokens file while
        the token is active. Looked up at each call, so a change holds at the next one."""
        name = user or self.settings.user
        from assistant.policy.users import ANONYMOUS, users_of

        if not name or name == ANONYMOUS:  # a caller without a token belongs to nobody
            return ""
        if name.startswith("token:"):
            from assistant.policy.tokens import now_utc, token_store

            tokens = self._once("_token_file", lambda: token_store(self.settings))
            token = tokens.tokens().get(name.removeprefix("token:"))
            return token.org if token is not None and token.status(now_utc()) == "active" else ""
        found = users_of(self.settings)().get(name)
        return found.org if found is not None and not found.disabled else ""

    def _grants(self, user: str | None) -> tuple[Grant, ...]:
        """The grants that open something to this caller now: their organisation's, active, inside their term.
        Read at every call (no cache beyond the file's), so a revocation or an expiry holds at the next call."""
        org = self.organisation(user)
        return tuple(applying(self.grant_file.book().grants.values(), org, today_utc())) if org else ()

    @_entry(None)
    def grants_in_force(self, grant_ids: tuple[str, ...] | list[str], *, user: str | None) -> bool:
        """Whether each of these grants still opens something to this caller now (a result kept in a web session
        is dropped when one has ended: issue 33's exit for cached results)."""
        current = {g.id for g in self._grants(user)}
        return all(g in current for g in grant_ids)

    def _granted_records(self, user: str | None, levels: tuple[str, ...]) -> dict[str, str]:
        """Catalog records above these levels that the caller's grants open: identifier -> the grant's id. Never
        any other record of those levels."""
        grants = self._grants(user)
        if not grants:
            return {}
        found: dict[str, str] = {}
        direct = [g for g in grants if g.scope == "dataset"]
        ids = [i for g in direct for i in (g.target, f"{SQL_PREFIX}{g.target}")]
        for identifier, (_, record) in self.store.contents.get(DATASETS, ids).items():
            opener = next(g for g in direct if g.covers_record(identifier, record))
            if record.get("access_level") not in levels:
                found.setdefault(identifier, opener.id)
        broad = [g for g in grants if g.scope != "dataset"]
        if broad:
            for record in self.store.contents.payloads(DATASETS):
                identifier = str(record.get("identifier") or "")
                if record.get("access_level") in levels or not identifier:
                    continue
                grant = next((g for g in broad if g.covers_record(identifier, record)), None)
                if grant is not None:
                    found.setdefault(identifier, grant.id)
        return found

    @property
    def audit(self) -> AuditLog:
        return open_log(self.settings)

    def user(self, user: str | None) -> str:
        """Who is acting: the signed-in user, else GOVDATA_USER, else the operating-system account."""
        import getpass

        if user:
            return user
        if self.settings.user:
            return self.settings.user
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    def record(self, receipt: Receipt) -> Receipt:
        receipt.interface = self.interface
        return self.audit.append(receipt)

    def _refuse(self, action: str | None, arguments: dict[str, Any], problem: FieldError) -> NoReturn:
        """An argument refused at a use case's way in (`_entry`): recorded under `action` like any refusal."""
        if action is None:
            raise problem
        question = next((arguments[q] for q in QUESTIONS if isinstance(arguments.get(q), str)), "")
        sql = arguments["sql"] if isinstance(arguments.get("sql"), str) else ""
        user = arguments.get("user") if isinstance(arguments.get("user"), str) else None
        with self._receipt(action, str(arguments.get("role") or ""), user, question=question, sql=sql):
            raise problem
        raise problem  # not reached: the receipt block re-raises

    @contextmanager
    def _receipt(self, action: str, role: str, user: str | None, **fields: Any) -> Iterator[Receipt]:
        """The receipt of one use case, written whatever happens inside: the outcome the use case set, or
        `refused: ...` for a GovDataError, `abandoned` for a stream closed early, `failed: Type` for a bug.
        Error text leaves masked for roles that mask personal data (the receipt keeps the steward's view)."""
        receipt = Receipt(action, self.user(user), role, **fields)
        try:
            yield receipt
        except GovDataError as exc:
            receipt.outcome = f"refused: {getattr(exc, 'reason', exc)}"
            _mask_error(exc, self._masks(role))
            raise
        except GeneratorExit:
            receipt.outcome = "abandoned"
            raise
        except BaseException as exc:
            receipt.outcome = f"failed: {type(exc).__name__}"
            raise
        finally:
            self.record(receipt)

    def _masks(self, role: str) -> bool:
        """Whether the role masks personal data; an unknown role masks (it is refused anyway)."""
        try:
            return self.role(role).masks_pii
        except GovDataError:
            return True

    def _sql_settings(self, db: Path | None) -> dict[str, Any]:
        limits = self.settings.sql
        return {"row_cap": limits.row_cap, "timeout_s": limits.timeout_s, "db": str(db) if db else None,
                "temperature": self.settings.llm.temperature}

    def _answer_settings(self) -> dict[str, Any]:
        return {"passages": self.settings.answer.passages, "min_score": self.settings.answer.min_score,
                "passage_tokens": self.settings.answer.passage_tokens,
                "fusion": self.settings.retrieval.fusion, "temperature": self.settings.llm.temperature,
                "provider": self.settings.llm.provider}


    def filters(self, role: str, *, publisher: str | None = None, format: str | None = None,
                language: str | None = None, since: str | None = None,
                access_level: str | None = None) -> SearchFilters:
        """The role's access levels plus the user's filters; a publisher matches names case-insensitively."""
        levels = allowed_levels(role, self.settings.roles_file)
        if access_level:
            from core.access import normalize_access_level

            try:
                wanted = normalize_access_level(access_level)
            except ValueError as exc:
                raise FieldError("access_level", str(exc)) from None
            if wanted not in levels:
                raise FieldError("access_level", f"role {role!r} may not see that level", access_level)
            levels = (wanted,)
        publishers: tuple[str, ...] = ()
        if publisher:
            wanted = publisher.strip().lower()
            known = self.retriever.keywords.get(DATASETS).publishers_at(tuple(levels))  # never another level's
            publishers = tuple(p for p in known if wanted in p.lower()) or (publisher,)
        return SearchFilters(
            access_levels=tuple(levels), publishers=publishers,
            format=format, language=language, modified_from=since_day(since) if since else None,
        )

    def passage_filters(self, role: str) -> SearchFilters:
        """The role's access levels for a passage search; held passages are left out for every role except the
        ones a steward released (read from the decisions on every search, so a release holds at once)."""
        from assistant.register.held import released_passages

        return dataclasses.replace(self.filters(role), released=released_passages(decisions_of(self.settings)))


    def _ingest(self, paths: list[Path], *, access_level: str | None = None, prune: bool = False,
               progress: Any = None) -> IngestSummary:
        manifest = Manifest(self.settings.manifest_path)
        try:
            pipeline = Pipeline(self.settings, self.store, lambda: self.embeddings, manifest,
                                record_levels(decisions_of(self.settings)))
            return pipeline.run(paths, access_level=access_level, prune=prune, progress=progress)
        finally:
            manifest.close()


def _mask_error(exc: GovDataError, masks: bool) -> None:
    """The error's message with personal data masked, in place, so every shell shows the masked text."""
    if not masks:
        return
    text, found = pii.mask_text(str(exc))
    if found:
        exc.args = (text,)
        if isinstance(exc, FieldError):  # the shells rebuild its message from these parts
            exc.problem = pii.mask_text(exc.problem)[0]
            exc.value = None if exc.value is None else pii.mask_text(str(exc.value))[0]
        if isinstance(getattr(exc, "reason", None), str):
            exc.reason = pii.mask_text(exc.reason)[0]  # type: ignore[attr-defined]


def _depth(k: int, offset: int, deepest: int) -> int:
    """How deep a paged search ranks: to GOVDATA_API__MAX_RESULTS, which offset + k may not pass."""
    if offset < 0:
        raise FieldError("offset", "expected 0 or more", offset)
    if offset + k > deepest:
        raise FieldError("offset" if offset else "k", f"offset + k may be at most {deepest} "
                                                      "(GOVDATA_API__MAX_RESULTS)", offset if offset else k)
    return deepest


def _require(query: str) -> None:
    if not query.strip():
        raise GovDataError("QUERY must not be empty")

