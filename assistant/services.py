"""Services: every use case (check the role's action, call the core, mask, leave a receipt). The CLI, the web app
and the evaluations are shells over these; the parts are built lazily by `assistant/factories.py`."""

import dataclasses
import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

from langchain_core.language_models import BaseChatModel

from assistant.answer import Answerer
from assistant.audit import AuditLog, Receipt, Verification, content_hash, open_log
from assistant.boundary import QUESTIONS, clean, digest, entering
from assistant.config import Settings
from assistant.errors import FieldError, GovDataError
from assistant.factories import build_gate, build_model_gate, build_retriever, build_sql_service, build_store
from assistant.files import private_folder
from assistant.llm.factory import build_chat_model
from assistant.models import Answer, DatasetResult, Passage
from assistant.policy import pii
from assistant.policy.roles import Role, allowed_levels, get_role
from ingest.manifest import Manifest
from ingest.pipeline import IngestSummary, Pipeline
from vectorstore.embeddings import GovDataEmbeddings, build_embeddings
from vectorstore.filters import SearchFilters
from vectorstore.retriever import Fusion, Ranked, Retriever
from vectorstore.store import DATASETS, PASSAGES, ChromaStore

if TYPE_CHECKING:
    from assistant.gate import Gate
    from assistant.register.entries import Entry, RegisterFilter
    from assistant.register.grading import Suggestion
    from assistant.register.held import HeldPassage
    from assistant.routing import Route
    from assistant.sql.examples import VerifiedExample
    from assistant.sql.generate import SqlAnswer, SqlContext
    from assistant.sql.guard import Verdict
    from assistant.sql.runner import SqlResult
    from assistant.sql.service import AddResult, SqlService

CATALOG_KINDS = ("dcat-us", "ckan", "tabular", "datapackage")
T = TypeVar("T")
P = ParamSpec("P")
ENTRIES: dict[str, str | None] = {}  # use case (qualified name) -> the action its refusals are recorded as


def _entry(action: str | None) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """A use case's way in (issue 26): every text argument cleaned and bounded (`boundary.entering`) before the
    use case sees it, so none can forget to; a text over its limit is refused with a receipt of `action`, like
    any refusal (None: a helper that leaves no receipt)."""
    def wrap(method: Callable[P, T]) -> Callable[P, T]:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def entered(*args: P.args, **kwargs: P.kwargs) -> T:
            call = signature.bind(*args, **kwargs)
            services: Services = call.arguments["self"]
            try:
                for name, value in list(call.arguments.items())[1:]:
                    call.arguments[name] = entering(name, value, services.settings)
            except FieldError as exc:
                services._refuse(action, call.arguments, exc)
            return method(*call.args, **call.kwargs)

        ENTRIES[method.__qualname__] = action
        return entered

    return wrap


class Services:
    """Lazily built parts for one settings object: the embedding model loads only when needed."""

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
        self._building = threading.RLock()  # web sessions share one Services: each part is built once

    def _once(self, attribute: str, build: Callable[[], T]) -> T:
        """The part in `attribute`, built on first use by exactly one thread (two Chroma clients opened at once
        on one folder break each other; two embedding models would double the memory)."""
        value = getattr(self, attribute)
        if value is None:
            with self._building:
                value = getattr(self, attribute)
                if value is None:
                    value = build()
                    setattr(self, attribute, value)
        return value

    @property
    def embeddings(self) -> GovDataEmbeddings:
        return self._once("_embeddings", lambda: build_embeddings(self.settings.embedding))

    @property
    def store(self) -> ChromaStore:
        return self._once("_store", lambda: build_store(self.settings, lambda: self.embeddings))

    def ingest(self, paths: list[Path], *, access_level: str | None = None, prune: bool = False,
               progress: Any = None) -> IngestSummary:
        manifest = Manifest(self.settings.manifest_path)
        try:
            pipeline = Pipeline(self.settings, self.store, lambda: self.embeddings, manifest)
            return pipeline.run(paths, access_level=access_level, prune=prune, progress=progress)
        finally:
            manifest.close()

    def status(self) -> dict[str, Any]:
        manifest = Manifest(self.settings.manifest_path)
        try:
            documents = manifest.count_sources("document")
            sources = len(manifest.sources())
        finally:
            manifest.close()
        return {
            "datasets": self.store.count(DATASETS),
            "datasets_by_catalog": {
                kind: n for kind in CATALOG_KINDS if (n := self.store.count_where(DATASETS, {"catalog": kind}))
            },
            "documents": documents,
            "chunks": self.store.count(PASSAGES),
            "embedding_model": self.store.model.model_id,
            "embedding_dimension": self.store.model.dimension,
            "sources": sources,
            "home": str(self.settings.home.resolve()),
        }

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
                                                            lambda: self.embeddings, self.ingest))

    @property
    def gate(self) -> "Gate":
        """The SQL engine's caps; one gate per Services, so every session of the web app shares them."""
        return self._once("_gate", lambda: build_gate(self.settings))

    @property
    def model_gate(self) -> "Gate":
        """The model's caps (answers, SQL writing): one user cannot hold every model worker."""
        return self._once("_model_gate", lambda: build_model_gate(self.settings))

    def route(self, question: str, previous: str | None = None) -> "Route":
        """Documents, datasets or SQL for a question: cue-word rules, the previous turn's route for a
        follow-up without cues, then the nearest example questions."""
        from assistant.routing import route

        question = clean(question[:self.settings.input.max_question_chars])  # a longer one is routed on its start;
        _require(question)  # the use case it goes to refuses it, with a receipt
        return route(question, self.embeddings.embed_array, clean(previous) if previous else None)

    def answerer(self) -> Answerer:
        def retrieve(question: str, role: str) -> list[Ranked]:
            return self.retriever.retrieve(question, k=self.settings.answer.passages,
                                           filters=self.passage_filters(role), collection=PASSAGES)

        return Answerer(retrieve, self.chat_model, self.settings.answer, self.settings.llm.json_mode)

    def warm_up(self) -> None:
        """Open the store, load the encoder and the embedded model, and read the answer prompts' fixed prefix
        (system prompt and examples, Chinese and English), so the first question waits for none of it. A
        model server needs nothing here."""
        self.retriever.retrieve("warm up", k=1, filters=self.filters("citizen"), collection=PASSAGES)
        warm = getattr(self.chat_model, "warm", None)
        if warm is not None:
            for language in ("zh", "en"):
                warm(self.answerer().messages("?", [], language))

    @_entry("ask")
    def ask(self, question: str, *, role: str, history: list[tuple[str, str]] | None = None,
            user: str | None = None) -> Answer:
        """A grounded, cited answer from the documents the role may see (or found=false); leaves a receipt."""
        return next(e for e in self.ask_stream(question, role=role, history=history, user=user, stream=False)
                    if isinstance(e, Answer))

    @_entry("ask")
    def ask_stream(self, question: str, *, role: str, history: list[tuple[str, str]] | None = None,
                   user: str | None = None, stream: bool = True) -> Iterator[str | Answer]:
        """Draft answer text while the model writes, then the checked Answer (with its receipt id)."""
        with self._receipt("ask", role, user, question=question, route="docs",
                           settings=self._answer_settings()) as receipt:
            _require(question)
            masks = self.role(role).masks_pii
            answer: Answer | None = None
            with self.model_gate.slot(receipt.user, role):
                for event in self.answerer().ask_stream(question, role, history or [], stream=stream):
                    if isinstance(event, Answer):
                        answer = event
                    else:
                        yield pii.mask_draft(event) if masks else event
            if answer is None:
                raise GovDataError("the answer stream ended without an answer")
            shown, found = self._shown(role, answer)
            receipt.chunk_ids, receipt.model = answer.retrieved_chunk_ids, answer.model
            receipt.sources = sorted({c.source for c in answer.citations})
            receipt.answer_hash = content_hash(shown.model_dump(exclude={"receipt_id"}))
            receipt.raw_values = not masks and found > 0
            receipt.outcome = "answered" if answer.found else "not found"
        yield shown.model_copy(update={"receipt_id": receipt.id})

    def filters(self, role: str, *, publisher: str | None = None, format: str | None = None,
                language: str | None = None, since: str | None = None,
                access_level: str | None = None) -> SearchFilters:
        """The role's access levels plus the user's filters; a publisher matches names case-insensitively."""
        levels = allowed_levels(role, self.settings.roles_file)
        if access_level:
            from assistant.policy.access import normalize_access_level

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

        return dataclasses.replace(self.filters(role), released=released_passages(self.settings.home))

    @_entry("docs.search")
    def search_passages(self, query: str, *, k: int, role: str, fusion: Fusion | None = None,
                        user: str | None = None) -> list["Passage"]:
        """Hybrid search over document passages, access-filtered inside both searches."""
        with self._receipt("docs.search", role, user, question=query, route="docs") as receipt:
            _require(query)
            ranked = self.retriever.retrieve(query, k=k, filters=self.passage_filters(role), collection=PASSAGES,
                                             fusion=fusion)
            passages, found = self._shown(role, [Passage.from_ranked(r) for r in ranked])
            receipt.raw_values = not self.role(role).masks_pii and found > 0
            receipt.chunk_ids = [p.chunk_id for p in passages]
            receipt.sources = sorted({p.source for p in passages})
            receipt.answer_hash = content_hash(receipt.chunk_ids)
        return passages

    @_entry("datasets.search")
    def search_datasets(self, query: str, *, k: int, role: str, publisher: str | None = None,
                        format: str | None = None, language: str | None = None, since: str | None = None,
                        fusion: Fusion | None = None, access_level: str | None = None,
                        user: str | None = None) -> list["DatasetResult"]:
        """Hybrid search over catalog records the role may see, with the user's filters inside the search;
        `access_level` narrows to one of the role's levels (a level the role may not see is an error)."""
        settings = {"publisher": publisher, "format": format, "language": language, "since": since,
                    "access_level": access_level, "k": k}
        with self._receipt("datasets.search", role, user, question=query, route="datasets",
                           settings=settings) as receipt:
            _require(query)
            filters = self.filters(role, publisher=publisher, format=format, language=language, since=since,
                                   access_level=access_level)
            ranked = self.retriever.retrieve(query, k=k, filters=filters, collection=DATASETS, fusion=fusion)
            records = [DatasetResult.from_ranked(r) for r in ranked]
            results, _ = self._shown(role, records)
            receipt.datasets = {r.identifier: r.modified for r in records}
            receipt.sources = sorted({r.source for r in records})
            receipt.answer_hash = content_hash([r.identifier for r in records])
        return results

    @_entry(None)
    def hidden_matches(self, query: str, *, k: int, role: str) -> int:
        """How many of the top k records for QUERY's words the role may not see: a count, never which. Only the
        words count, never the user's filters: a filter over hidden records' publisher or date would make the
        count an oracle on them (issue 26). Only levels in GOVDATA_RETRIEVAL__DISCLOSE_HIDDEN_LEVELS count."""
        allowed = allowed_levels(role, self.settings.roles_file)
        levels = tuple(lv for lv in self.settings.retrieval.disclose_hidden_levels if lv not in allowed)
        if not levels or not query.strip():
            return 0
        ranked = self.retriever.retrieve(query, k=k, filters=SearchFilters((*allowed, *levels)), collection=DATASETS)
        return sum(r.hit.payload.get("access_level") in levels for r in ranked)

    @_entry("sql.ask")
    def sql_ask(self, question: str, *, role: str, db: Path | None = None, dataset: str | None = None,
                user: str | None = None) -> "SqlAnswer":
        """Question -> guarded SQL -> rows over the role's approved tables; leaves a receipt (a refusal too)."""
        with self._receipt("sql.ask", role, user, question=question, route="sql",
                           settings=self._sql_settings(db)) as receipt:
            with self.model_gate.slot(receipt.user, role):  # model work: the engine's gate stays for runs
                answer = self.sql.ask(question, role=role, db=db, dataset=dataset)
            shown, found = self._shown(role, answer)
            receipt.datasets, receipt.sql = dict(answer.dataset_versions), answer.sql
            receipt.row_count, receipt.model = answer.row_count, self.settings.llm.model
            receipt.answer_hash = content_hash([shown.columns, shown.rows])
            receipt.raw_values = self._raw(role, list(answer.dataset_versions), found)
            receipt.outcome = f"error: {answer.error}" if answer.error else "ok"
        return dataclasses.replace(shown, receipt_id=receipt.id)

    @_entry("sql.run")
    def sql_run(self, sql: str, *, role: str, db: Path | None = None, user: str | None = None,
                action: str = "sql.run") -> "SqlResult":
        """Guard and run SQL the user wrote; rejected and failed queries leave a receipt too."""
        with self._receipt(action, role, user, sql=sql, route="sql", settings=self._sql_settings(db)) as receipt:
            with self.gate.slot(receipt.user, role):
                result = self.sql.run(sql, role=role, db=db)
            shown, found = self._shown(role, result)
            receipt.sql, receipt.datasets, receipt.row_count = result.sql, result.dataset_versions, result.row_count
            receipt.raw_values = self._raw(role, result.tables, found)
            receipt.answer_hash = content_hash([shown.columns, shown.rows])
        return dataclasses.replace(shown, receipt_id=receipt.id)

    @_entry("sql.check")
    def sql_check(self, sql: str, *, role: str, db: Path | None = None, user: str | None = None) -> "Verdict":
        """The guard's verdict on SQL for the role, with its reason; nothing runs. Leaves a receipt."""
        with self._receipt("sql.check", role, user, sql=sql, route="sql", settings=self._sql_settings(db)) as receipt:
            verdict = self.sql.check(sql, role=role, db=db)
            receipt.outcome = "allowed" if verdict.allowed else f"rejected: {verdict.reason}"
            if verdict.query is not None:
                receipt.datasets = self.sql.versions(list(verdict.query.tables), db=db)
        shown, _ = self._shown(role, dataclasses.replace(verdict, query=None))
        return dataclasses.replace(shown, query=verdict.query)

    @_entry("sql.check")
    def eval_guard_line(self, row: dict[str, Any], db: Path, *, role: str,
                        user: str | None = None) -> dict[str, Any]:
        """One line of `eval guard`: the verdict on row["sql"] over an ad-hoc database whose approval the row
        may only narrow (approved_tables, denied_columns). Nothing runs; leaves a `sql.check` receipt."""
        from assistant.sql.evalguard import guard_line

        sql = str(row.get("sql", ""))
        with self._receipt("sql.check", role, user, sql=sql, route="sql", settings=self._sql_settings(db)) as receipt:
            record = guard_line(self.sql, row, db)
            receipt.outcome = "allowed" if record["allowed"] else f"rejected: {record['reason']}"
        return record

    @_entry("sql.tables")
    def sql_tables(self, role: str, *, db: Path | None = None, user: str | None = None) -> "SqlContext":
        """The approved tables the role may query, as the role may see them (samples masked). Leaves a receipt."""
        with self._receipt("sql.tables", role, user, route="sql", settings=self._sql_settings(db)) as receipt:
            context = self.sql.context(role, db=db)
            tables, _ = self._shown(role, context.tables)
            receipt.datasets = {t.name: t.version for t in context.tables}
        return dataclasses.replace(context, tables=tables)

    @_entry("datasets.add")
    def add_tables(self, path: Path, *, name: str | None = None, access_level: str | None = None,
                   describe: Path | None = None, role: str, user: str | None = None) -> "AddResult":
        """Approve PATH's tables for SQL questions (a steward's action, `tables.approve`); leaves a receipt."""
        with self._receipt("datasets.add", role, user, question=str(path), route="sql",
                           settings={"name": name, "access_level": access_level,
                                     "describe": str(describe) if describe else None}) as receipt:
            self.role(role).require("tables.approve")
            result = self.sql.add(path, name=name, access_level=access_level, describe=describe)
            receipt.datasets = {t.name: t.version for t in result.tables}
            receipt.outcome = "unchanged" if result.unchanged else "ok"
        return result

    @_entry("sql.learn")
    def learn(self, question: str, sql: str, *, role: str, user: str | None = None) -> "VerifiedExample":
        """Store a verified question/SQL pair (`sql.learn`) after it passes the guard and runs; leaves a receipt."""
        with self._receipt("sql.learn", role, user, question=question, sql=sql, route="sql") as receipt:
            self.role(role).require("sql.learn")
            example = self.sql.learn(question, sql, role)
            receipt.datasets = self.sql.versions(list(example.tables))
        return example

    @_entry("audit.read")
    def audit_receipts(self, *, role: str, user: str | None = None, of_user: str | None = None,
                       since: str | None = None, action: str | None = None, limit: int = 50) -> list[Receipt]:
        """Receipts newest first, filtered by user, time and action (`audit.read`)."""
        self._may_read_audit(role, user, f"list user={of_user} since={since} action={action}")
        start = parse_since(since).isoformat() if since else None
        return self._visible(role, self.audit.recent(user=of_user, since=start, action=action, limit=limit))

    @_entry("audit.read")
    def audit_receipt(self, receipt_id: int, *, role: str, user: str | None = None) -> Receipt:
        """One receipt in full (`audit.read`)."""
        self._may_read_audit(role, user, f"show {receipt_id}")
        return self._visible(role, self.audit.get(receipt_id))

    @_entry("audit.read")
    def own_receipt(self, receipt_id: int, *, role: str, user: str | None = None) -> Receipt:
        """The receipt of the caller's own request, to show beside its answer (issue 17); a role with
        `audit.read` may see any. Someone else's receipt is refused without saying whose it is."""
        receipt = self.audit.get(receipt_id)
        if receipt.user != self.user(user) and not self.allowed(role, "audit.read"):
            raise GovDataError(f"receipt {receipt_id} is not one of yours")
        return self._visible(role, receipt)

    @_entry("audit.read")
    def audit_export(self, fmt: str, *, role: str, user: str | None = None) -> str:
        """Every receipt, oldest first, as jsonl or csv (`audit.read`)."""
        self._may_read_audit(role, user, f"export {fmt}")
        return self.audit.export(fmt, (lambda receipt: self._visible(role, receipt)) if self._masks(role) else None)

    @_entry("audit.read")
    def audit_verify(self, *, role: str, user: str | None = None,
                     expect_head: str | None = None) -> tuple[Verification, dict[str, Any]]:
        """The chain checked from the first entry, and the head it ended at (`audit.read`)."""
        self._may_read_audit(role, user, "verify")
        log = self.audit
        return log.verify(expect_head), log.head()

    def _may_read_audit(self, role: str, user: str | None, what: str) -> None:
        """`audit.read` or a refusal on the log. Allowed reads leave no receipt: reading must not move the head
        that a witness compares, and the readers are the stewards whose own actions are on the log."""
        try:
            self.role(role).require("audit.read")
        except GovDataError as exc:
            self.record(Receipt("audit.read", self.user(user), role, question=what, outcome=f"refused: {exc}"))
            raise

    @_entry("register.read")
    def register_entries(self, *, role: str, user: str | None = None, where: "RegisterFilter | None" = None,
                         today: date | None = None) -> list["Entry"]:
        """The public data resource register (`register.read`): every catalog record and approved table with its
        quality score and reasons, lowest score first; leaves a receipt."""
        return self._visible(role, self._register(role, user, where, today))

    def _register(self, role: str, user: str | None, where: "RegisterFilter | None",
                  today: date | None) -> list["Entry"]:
        from assistant.register.entries import RegisterFilter, build, from_record, from_table

        wanted = where or RegisterFilter()
        with self._receipt("register.read", role, user, question=_describe(wanted), route="register") as receipt:
            self.role(role).require("register.read")
            records = [from_record(item_id, payload) for item_id, _, _, payload in
                       self.store.contents.all_rows(DATASETS)]
            tables = [from_table(t) for t in self.sql.registry.tables()]
            entries = [e for e in build([*records, *tables], today) if wanted.keeps(e)]
            entries.sort(key=lambda e: (e.quality.score, e.resource.kind, e.resource.id))
            receipt.row_count = len(entries)
        return entries

    @_entry("register.read")
    def register_entry(self, entry_id: str, *, role: str, user: str | None = None,
                       today: date | None = None) -> "Entry":
        """One register entry by id (a catalog identifier or an approved table name)."""
        from assistant.register.entries import RegisterFilter

        found = [e for e in self._register(role, user, RegisterFilter(), today) if e.resource.id == entry_id]
        if not found:
            raise FieldError("id", "no register entry has this id", entry_id)
        return self._visible(role, found[0])

    @_entry("register.read")
    def register_grade(self, name: str, *, role: str, user: str | None = None) -> list["Suggestion"]:
        """Classification and grading suggestions for one approved table or catalog record, with evidence and
        the status of any earlier decision (`register.grade`); leaves a `register.read` receipt."""
        with self._receipt("register.read", role, user, question=f"grade {name}", route="register") as receipt:
            self.role(role).require("register.grade")
            suggestions, versions = self._suggestions(name)
            receipt.datasets, receipt.row_count = versions, len(suggestions)
        return self._visible(role, suggestions)

    @_entry("register.grade")
    def register_decide(self, name: str, suggestion_id: str, *, accept: bool, role: str,
                        user: str | None = None) -> "Suggestion":
        """Accept or reject one suggestion (`register.grade`). An accepted one applies to the role policy at once:
        the registry and the store read the decision from now on. Leaves a `register.grade` receipt."""
        from assistant.register.grading import Decisions, decisions_path, restrict_record

        status = "accepted" if accept else "rejected"
        with self._receipt("register.grade", role, user, question=f"{status} {suggestion_id} for {name}",
                           route="register") as receipt:
            self.role(role).require("register.grade")
            suggestions, versions = self._suggestions(name)
            chosen = next((s for s in suggestions if s.id == suggestion_id), None)
            if chosen is None:
                raise FieldError("suggestion", f"no suggestion with this id for {name}", suggestion_id)
            Decisions(decisions_path(self.settings.home)).record(chosen, status, receipt.user, role)
            if accept and chosen.kind == "record_level":
                restrict_record(self.store, chosen.target, chosen.suggested)
            receipt.datasets = versions
            receipt.outcome = f"{status}: {chosen.kind} {chosen.target} -> {chosen.suggested}"
        return self._visible(role, dataclasses.replace(chosen, status=status))

    @_entry("register.read")
    def held_passages(self, *, role: str, user: str | None = None, status: str | None = None) -> list["HeldPassage"]:
        """Passages held at ingest for instruction-like text, with their source, the rule that held each and its
        text, those waiting for review first (`register.review`); leaves a `register.read` receipt."""
        from assistant.register.held import STATUSES, held_passages

        with self._receipt("register.read", role, user, question=f"held passages {status or 'all'}",
                           route="register") as receipt:
            self.role(role).require("register.review")
            if status is not None and status not in STATUSES:
                raise FieldError("status", f"expected one of: {', '.join(STATUSES)}", status)
            found = [p for p in held_passages(self.store.contents.flagged(PASSAGES, "held"), self._decided())
                     if status is None or p.status == status]
            receipt.chunk_ids, receipt.row_count = [p.id for p in found], len(found)
            receipt.sources = sorted({p.source for p in found})
        return self._visible(role, found)

    @_entry("register.review")
    def review_held(self, passage_id: str, *, release: bool, role: str, user: str | None = None) -> "HeldPassage":
        """A steward's decision on one held passage (`register.review`): released, searches and answers include
        it again from the next question; kept, it stays held. Leaves a `register.review` receipt."""
        from assistant.register.grading import Decisions, decisions_path
        from assistant.register.held import held_passage, record_review

        verb = "release" if release else "keep"
        with self._receipt("register.review", role, user, question=f"{verb} held passage {passage_id}",
                           route="register") as receipt:
            self.role(role).require("register.review")
            stored = self.store.contents.get(PASSAGES, [passage_id]).get(passage_id)
            if stored is None or not stored[1].get("held"):
                raise FieldError("passage", "no held passage has this id", passage_id)
            passage = held_passage(passage_id, stored[0], stored[1], self._decided())
            decided = record_review(Decisions(decisions_path(self.settings.home)), passage, release, receipt.user,
                                    role)
            receipt.chunk_ids, receipt.sources = [passage.id], [passage.source]
            receipt.outcome = f"{decided.status}: held passage {passage.id} ({passage.rule})"
        return self._visible(role, decided)

    def _decided(self) -> dict[str, str]:
        from assistant.register.grading import Decisions, decisions_path

        return Decisions(decisions_path(self.settings.home)).statuses()

    def _suggestions(self, name: str) -> tuple[list["Suggestion"], dict[str, str]]:
        from assistant.register.grading import Decisions, decisions_path, suggest_for_record, suggest_for_table

        decided = Decisions(decisions_path(self.settings.home)).statuses()
        # against the tables as registered, so an accepted suggestion still shows, with its status
        table = next((t for t in self.sql.registry.stored_tables() if t.name == name), None)
        if table is not None:
            return suggest_for_table(table, self.sql.registry.database, decided), {table.name: table.version}
        found = self.store.contents.get(DATASETS, [name])
        if name in found:
            payload = found[name][1]
            return suggest_for_record(name, payload, decided), {name: str(payload.get("modified", ""))}
        raise FieldError("target", "no approved table or catalog record has this name", name)

    @_entry("audit.read")
    def disclose(self, *, role: str, user: str | None = None, since: str | None = None,
                 until: str | None = None) -> dict[str, Any]:
        """The public disclosure report over the receipts from `since` up to the end of `until` (`audit.read`):
        counts by dataset, role, interface, month and outcome, small counts suppressed, never a user or question."""
        from assistant.register import disclosure

        self._may_read_audit(role, user, f"disclose since={since} until={until}")
        start = parse_since(since).isoformat() if since else None
        end = period_end(until).isoformat() if until else None
        receipts = [r for r in self.audit.recent(since=start, limit=100_000_000) if end is None or r.time < end]
        levels = {t.name: t.access_level for t in self.sql.registry.tables()}
        return self._visible(role, disclosure.build(receipts, levels, self.settings.disclosure.min_count, since,
                                                    until))

    def audit_head(self) -> dict[str, Any]:
        """The newest receipt's id and hash (signed when a key is set). Meant to be published, so anyone may
        read it, and reading it leaves no receipt (one would move the head it just printed)."""
        return self.audit.head()

    @_entry("audit.read")
    def audit_replay(self, receipt_id: int, *, role: str, user: str | None = None) -> dict[str, Any]:
        """Re-run a receipt's SQL as its recorded role when every dataset is still at the recorded version
        (`audit.read`, then a `sql.replay` receipt); the report says same, different or version_changed."""
        self._may_read_audit(role, user, f"replay {receipt_id}")
        recorded = self.audit.get(receipt_id)
        if not recorded.action.startswith("sql.") or not recorded.sql:
            raise GovDataError(f"audit replay {receipt_id}: a {recorded.action} receipt has no SQL to replay")
        if recorded.outcome != "ok":
            raise GovDataError(f"audit replay {receipt_id}: the recorded query did not run ({recorded.outcome})")
        if recorded.sql_sha256 and digest(recorded.sql) != recorded.sql_sha256:
            raise GovDataError(f"audit replay {receipt_id}: the receipt keeps only the start of its SQL "
                               f"({len(recorded.sql):,} characters), so it cannot be replayed")
        db = Path(recorded.settings["db"]) if recorded.settings.get("db") else None
        current = self.sql.versions(list(recorded.datasets), db=db)
        changed = {name: {"recorded": old, "now": current.get(name, "")} for name, old in recorded.datasets.items()
                   if current.get(name) != old}
        report: dict[str, Any] = {"id": receipt_id, "sql": recorded.sql, "changed": changed}
        if changed:
            return self._visible(role, report | {"status": "version_changed"})
        cap = recorded.settings.get("row_cap")
        replayer = Services(self.settings.with_row_cap(int(cap)), self.interface) if cap else self
        result = replayer.sql_run(recorded.sql, role=recorded.role, user=user, db=db, action="sql.replay")
        same = content_hash([result.columns, result.rows]) == recorded.answer_hash
        return self._visible(role, report | {"status": "same" if same else "different",
                                             "row_count": result.row_count, "recorded_row_count": recorded.row_count,
                                             "replay_receipt_id": result.receipt_id})

    def allowed(self, role: str, action: str) -> bool:
        """Whether the role may take a named action (audit.read, tables.approve, sql.learn); unknown roles may not."""
        try:
            return self.role(role).allowed(action)
        except GovDataError:
            return False

    def _sql_settings(self, db: Path | None) -> dict[str, Any]:
        limits = self.settings.sql
        return {"row_cap": limits.row_cap, "timeout_s": limits.timeout_s, "db": str(db) if db else None,
                "temperature": self.settings.llm.temperature}

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

    def _answer_settings(self) -> dict[str, Any]:
        return {"passages": self.settings.answer.passages, "min_score": self.settings.answer.min_score,
                "passage_tokens": self.settings.answer.passage_tokens,
                "fusion": self.settings.retrieval.fusion, "temperature": self.settings.llm.temperature,
                "provider": self.settings.llm.provider}

    def role(self, role: str) -> "Role":
        return get_role(role, self.settings.roles_file)

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


def _require(query: str) -> None:
    if not query.strip():
        raise GovDataError("QUERY must not be empty")


def parse_since(value: str) -> datetime:
    """The start of a YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] time: the one reading of `since`, for
    catalog filters and audit receipts alike."""
    text = value.strip()
    parts = text.split("-")
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text)  # receipts keep UTC: a zoned time is converted to it
            return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        year, month, day = int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1
        if len(parts) > 3 or len(parts[0]) != 4:
            raise ValueError(text)
        return datetime(year, month, day)
    except (ValueError, IndexError):
        raise FieldError("since", "expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM", repr(value)) from None


def period_end(value: str) -> datetime:
    """The moment just after a YYYY, YYYY-MM or YYYY-MM-DD period (an exact time stays as it is): `until`
    includes the whole year, month or day it names."""
    start = parse_since(value)
    text = value.strip()
    if "T" in text or " " in text:
        return start
    parts = len(text.split("-"))
    if parts == 1:
        return start.replace(year=start.year + 1)
    if parts == 2:
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    from datetime import timedelta

    return start + timedelta(days=1)


def since_day(value: str) -> int:
    """YYYYMMDD of `since`, as catalog records store their modified date."""
    start = parse_since(value)
    return start.year * 10000 + start.month * 100 + start.day


def _describe(where: Any) -> str:
    """A register filter as the receipt's question: only the fields that were set."""
    return " ".join(f"{k}={v}" for k, v in dataclasses.asdict(where).items() if v is not None) or "all"
