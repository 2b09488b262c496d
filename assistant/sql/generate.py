"""Question -> SQL -> rows: link the schema, show verified examples, ask the chat model for JSON {"sql",
"explanation"}, then guard -> run; a rejection or DuckDB error is fed back for at most `retries` fix-ups.

Nothing here knows any particular database: the schema, sample values and value hints come from the tables.
"""

import functools
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from assistant.llm.replies import example_reply, first_statement, parse_reply, response_format, sql_in_text
from assistant.policy import pii
from assistant.sql.coercion import TYPE_ERROR, coerce_types, column_kinds
from assistant.sql.grouping import NOT_GROUPED, explicit_grouping
from assistant.sql.guard import Approval, SqlGuard
from assistant.sql.knowledge import KnowledgeItem
from assistant.sql.lessons import Lesson, choose
from assistant.sql.patterns import set_operation_hint
from assistant.sql.pruning import prune_columns
from assistant.sql.repair import missing_names, repair_hint, requalified
from assistant.sql.runner import QueryFailed, QueryRunner, Runner, RunnerLimits, SqlResult, locked_connection
from assistant.sql.sdc_rewrite import SdcRefused
from assistant.sql.sdc_runner import SdcPolicy, SdcRunner
from assistant.sql.spelling import found_nothing, respelled
from assistant.sql.values import ValueIndex
from assistant.sql.walls import AccessProfile
from core.errors import GovDataError
from core.settings import SqlSettings
from ingest.injection import defuse
from ingest.tables import RegisteredTable, quote, snake_name
from ingest.textutil import detect_language
from prompts import PROMPTS_DIR, load_prompt

if TYPE_CHECKING:
    from assistant.sql.postgres import PostgresTarget

SQL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"sql": {"type": "string"}, "explanation": {"type": "string", "maxLength": 300}},
    "required": ["sql", "explanation"],
}
# extra candidates write only the SQL (about half the tokens); the answer and the readings shown get explained
CANDIDATE_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"sql": {"type": "string"}},
                                    "required": ["sql"], "additionalProperties": False}
EXPLAIN_SCHEMA: dict[str, Any] = {"type": "object",
                                  "properties": {"explanation": {"type": "string", "maxLength": 300}},
                                  "required": ["explanation"], "additionalProperties": False}
_EXPLAINED_READINGS = 2  # other readings of an uncertain answer that get an explanation of their own
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.&'\-]*|[\u3400-\u9fff]+")
_QUOTED = re.compile(r"['\"‘’“”「」『』]([^'\"‘’“”「」『』]{1,60})['\"‘’“”「」『』]")
_MAX_HINTS = 3
_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
_UNRESOLVED = re.compile(r"cannot resolve|not an approved table|is not available to this role|not found in FROM"
                         r"|does not exist|could not be resolved")
_LANGUAGES = {"zh": "Chinese (简体中文)", "en": "English"}
_RETRY = {"json": "sql_retry", "fenced": "sql_retry_fenced"}
_BLOCK = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*?)```", re.S)  # a code block: its tag and its code
_OPENED = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n(.*)", re.S)  # one that was never closed
_MAX_CANDIDATES = 400
_RELATIVE_SCORE = 0.75  # tables scoring under this share of the best one are left out of the prompt

Embed = Callable[[list[str]], np.ndarray]

_NOT_AVAILABLE = "not available to your role"
NOT_AVAILABLE = _NOT_AVAILABLE + (": the question is about data this role may not query (ask a data "
                                  "steward for access); the closest tables you may use: {closest}")


@dataclass(frozen=True)
class SqlAnswer:
    """What `govdata sql ask` returns; `error` is set (and rows empty) when no attempt ran. Frozen: each step
    (an attempt, its result, the vote, masking) makes a new one with `dataclasses.replace`."""

    question: str
    sql: str
    explanation: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    row_count: int = 0
    truncated: bool = False
    dataset_versions: dict[str, str] = field(default_factory=dict)
    attempts: int = 0
    error: str | None = None
    elapsed_ms: float = 0.0
    masked_columns: list[str] = field(default_factory=list)
    tables_shown: list[str] = field(default_factory=list)
    receipt_id: int | None = None
    candidates: int = 1  # SQL candidates written for the question
    confidence: float | None = None  # share of candidates that agree with the answer's result; None for one
    # other results: {"sql", "row_count", "votes", "explanation"}
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    uncertain: bool = False  # confidence below GOVDATA_SQL__CONFIDENCE_THRESHOLD
    notice: str | None = None  # something the user should know about a result that ran, e.g. withheld data
    withheld: list[dict[str, str]] = field(default_factory=list)  # [{"column", "reason"}] a star left out
    knowledge: list[str] = field(default_factory=list)  # ids of the knowledge items the prompt was taught
    sdc: dict[str, Any] | None = None  # disclosure control's report when it protected the rows (issue 35)
    # every candidate in the order written, for benchmarks: {"key", "rows", "sql", "seconds"}; not in as_dict
    trace: tuple[dict[str, Any], ...] = field(default=(), repr=False, compare=False)
    grants: list[str] = field(default_factory=list)  # the grants its tables were read through (issue 33)
    fallback: bool = False  # written by the plain prompt after every attempt failed (GOVDATA_SQL__PLAIN_FALLBACK)
    respelled: list[str] = field(default_factory=list)  # "'Jetblue' -> 'JetBlue'": values run in the data's spelling

    def as_dict(self) -> dict[str, Any]:
        return {
            "sql": self.sql, "explanation": self.explanation, "columns": self.columns, "rows": self.rows,
            "row_count": self.row_count, "truncated": self.truncated, "dataset_versions": self.dataset_versions,
            "question": self.question, "attempts": self.attempts, "error": self.error,
            "elapsed_ms": self.elapsed_ms, "masked_columns": self.masked_columns, "tables_shown": self.tables_shown,
            "receipt_id": self.receipt_id, "candidates": self.candidates, "confidence": self.confidence,
            "alternatives": self.alternatives, "uncertain": self.uncertain, "notice": self.notice,
            "withheld": self.withheld, "knowledge": self.knowledge, "sdc": self.sdc, "grants": self.grants,
            "fallback": self.fallback, "respelled": self.respelled,
        }


@dataclass(frozen=True)
class SqlContext:
    """Everything one question may use: the role's tables, its approval, and the database they live in."""

    database: Path
    tables: list[RegisteredTable]
    approval: Approval
    withheld: tuple[str, ...] = ()  # descriptions of tables and columns the role may not use, for scoring only
    engine: "PostgresTarget | None" = None  # the registry's tables in PostgreSQL (GOVDATA_SQL__ENGINE=postgres)
    profile: "AccessProfile | None" = None  # what the role may read: `database` holds exactly that (walls.py)
    masks_pii: bool = False  # rows read for the prompt are masked like the registry's samples
    sdc: "SdcPolicy | None" = None  # tables about people this role sees only as protected aggregates (issue 35)
    grants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # table -> grants it was opened through

    @property
    def shared(self) -> bool:
        """Whether `database` is an access profile's own file, written once and then only read."""
        return self.profile is not None and not self.profile.full


def runner_for(context: SqlContext, limits: RunnerLimits, work_mem: str = "64MB") -> Runner:
    """The runner of the engine that holds the context's tables: DuckDB, or PostgreSQL as the reader login; for a
    role under disclosure control, wrapped so queries over tables about people come back protected."""
    protected = context.sdc is not None and bool(context.sdc.tables)
    engine_limits = replace(limits, row_cap=context.sdc.engine_rows()) if context.sdc and protected else limits
    runner: Runner
    if context.engine is not None:
        from assistant.sql.postgres import PostgresRunner

        runner = PostgresRunner(context.engine, engine_limits, work_mem, context.profile)
    else:
        runner = QueryRunner(context.database, engine_limits, context.profile.wall() if context.profile else None,
                             shared=context.shared)
    if protected and context.sdc is not None:
        return SdcRunner(runner, context.sdc, postgres=context.engine is not None)
    return runner


_WITHHELD_MARGIN = 0.1  # a withheld table or column must beat the visible ones by this to be named the reason


class SqlGenerator:
    def __init__(self, chat_model: BaseChatModel, settings: SqlSettings, json_mode: str,
                 embed: Embed | None = None, values: ValueIndex | None = None) -> None:
        self.chat_model = chat_model
        self.settings = settings
        self.json_mode = json_mode
        self.embed = embed
        self.values = values if values is not None else (ValueIndex(embed) if embed is not None else None)
        self.guard = SqlGuard(row_cap=settings.row_cap, max_chars=settings.max_chars)

    def limits(self) -> RunnerLimits:
        return RunnerLimits.of(self.settings)

    def ask(self, question: str, context: SqlContext, knowledge: Sequence[KnowledgeItem] = ()) -> SqlAnswer:
        """Write, guard and run SQL for the question over the context's tables, taught the `knowledge` items the
        caller may read (issue 32: the answer names the ones its prompt showed)."""
        started = time.perf_counter()
        visible = [_without_denied(t, context.approval) for t in context.tables if context.approval.table(t.name)]
        tables = self.link_tables(question, visible)
        hints = value_hints(question, tables, context, self.limits(), self.values) if self.settings.value_hints else {}
        tables = prune_columns(question, tables, self.settings.max_columns, self._relevance, set(hints))
        lesson = choose(question, knowledge, {t.name for t in visible}, {t.name for t in tables}, self._relevance,
                        self.embed, self.settings.examples, self.settings.knowledge_tokens)
        rows = first_rows(tables, context, self.limits()) if self.settings.schema_style == "ddl" else None
        messages = self.messages(question, tables, hints, lesson, rows)
        answer = self._explain_failure(question, visible, context,
                                       self._attempts(question, messages, context, visible))
        if self.settings.plain_fallback and answer.error is not None and not answer.error.startswith(_NOT_AVAILABLE):
            plain = self._plain_attempt(question, tables, rows, context, messages, answer.attempts)
            answer = (replace(answer, attempts=answer.attempts + 1) if plain is None
                      else self._explain_failure(question, visible, context, plain))
        if self.settings.candidates > 1 and answer.error is None and not answer.fallback:  # never from a failed prompt
            answer = self._vote(question, messages, context, answer, time.perf_counter() - started,
                                started + self.settings.candidate_budget_s)
        versions = {t.name: t.version for t in context.tables}
        return replace(answer, tables_shown=[t.name for t in tables], knowledge=[] if answer.fallback else lesson.ids,
                       elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
                       dataset_versions={name: versions[name] for name in answer.dataset_versions if name in versions})

    def _explain_failure(self, question: str, visible: list[RegisteredTable], context: SqlContext,
                         answer: SqlAnswer) -> SqlAnswer:
        """Say why a question failed (or found 0 rows) when the schema cannot answer it: the closest tables, and
        "not available to your role" when withheld data fits it better. One relevance computation for both."""
        unresolved = bool(answer.error and _UNRESOLVED.search(answer.error))  # every attempt reached for what is absent
        if not unresolved and not (answer.error is None and answer.row_count == 0 and context.withheld):
            return answer
        documents = [*(table_document(t) for t in visible), *context.withheld]
        scores = self._relevance(question, documents) if documents else np.zeros(0)
        shown = scores[: len(visible)]
        best_visible = float(shown.max()) if visible else 0.0
        withheld = bool(context.withheld) and float(scores[len(visible):].max()) > best_visible + _WITHHELD_MARGIN
        if not unresolved:
            return replace(answer, notice="0 rows from the tables you may use; the data this question is about is "
                                          "not available to your role") if withheld else answer
        closest = ", ".join(visible[i].name for i in np.argsort(-shown, kind="stable")[:3])
        if withheld:
            return replace(answer, error=NOT_AVAILABLE.format(closest=closest))
        missing = ", ".join(missing_names(answer.error or "")) or "a table or column"
        return replace(answer, error=(
            f"no query ran: the SQL written needs {missing}, which the tables you may use do not have (closest: "
            f"{closest}); if the data is in them, name the column you mean, otherwise it may not be available to "
            f"your role (last attempt: {answer.error})"))

    def _attempts(self, question: str, messages: list[BaseMessage], context: SqlContext,
                  visible: Sequence[RegisteredTable] = ()) -> SqlAnswer:
        """The first query and at most `retries` fix-ups, each told what went wrong (and, for a column the
        model put on the wrong table, where it is: `repair_hint`, visible tables only). A fixed-up query is
        explained again from the question's own prompt: the fix-up's explanation tells what was corrected, and
        in English whatever the question's language."""
        runner = runner_for(context, self.limits(), self.settings.postgres_work_mem)
        answer = SqlAnswer(question, "", "")
        asked = messages
        for attempt in range(1 + self.settings.retries):
            reply = self._invoke(messages, as_text=self.settings.reply_format == "fenced")
            parsed = read_sql_reply(reply, self.settings.reply_format)
            answer = SqlAnswer(question, str(parsed.get("sql") or "").strip(),
                               str(parsed.get("explanation") or "").strip(), attempts=attempt + 1)
            outcome = self._try(answer, context, runner)
            if isinstance(outcome, SqlAnswer):
                return self._explainer(asked, question)(replace(outcome, explanation="")) if attempt else outcome
            error = outcome
            answer = replace(answer, error=error)
            hint = repair_hint(error, visible) if self.settings.repair_hints else ""
            retry = load_prompt(_RETRY[self.settings.reply_format]).render(error=error) + (f"\n{hint}" if hint else "")
            messages = [*messages, AIMessage(reply), HumanMessage(retry)]
        return answer

    def _plain_attempt(self, question: str, tables: list[RegisteredTable], rows: dict[str, list[list[str]]] | None,
                       context: SqlContext, messages: list[BaseMessage], failed: int) -> SqlAnswer | None:
        """When every attempt failed (and not because the data is withheld from the role), one more in another
        voice (issue 27): the plain prompt — the tables as CREATE TABLE with their first rows, the question,
        "reply with one query" — without the worked examples, the rules or the failed turns; guarded, fixed up
        and run like any attempt, then explained and marked `fallback`. It shows rows only where the question's
        prompt did (`ddl`) and no taught knowledge. None when it fails too."""
        engine = "PostgreSQL" if context.engine is not None else "DuckDB"
        prompt = load_prompt("sql_plain").render(schema=render_ddl(tables, rows or {}), question=question,
                                                 engine=engine)
        sql = sql_in_text(str(self.chat_model.invoke([HumanMessage(prompt)], max_tokens=400).content))
        runner = runner_for(context, self.limits(), self.settings.postgres_work_mem)
        outcome = self._try(SqlAnswer(question, sql, "", attempts=failed + 1), context, runner)
        if not isinstance(outcome, SqlAnswer):
            return None
        return replace(self._explainer(messages, question)(outcome), fallback=True)

    def _vote(self, question: str, messages: list[BaseMessage], context: SqlContext, first: SqlAnswer,
              first_seconds: float, deadline: float) -> SqlAnswer:
        """Execution-guided candidates: sample more SQL from the same prompt (llama.cpp reuses the prompt's
        KV cache, so each costs a short generation of the SQL alone), guard and run each, group them by result
        set and answer with the largest group (ties go to the earliest, the greedy answer first). Agreement is
        the share of the candidates written whose result is the chosen one. A chosen candidate without an
        explanation, and the first readings of an uncertain answer, are explained afterwards."""
        runner = runner_for(context, self.limits(), self.settings.postgres_work_mem)
        written: list[SqlAnswer | None] = [first]  # None: a candidate the guard or the engine refused
        trace = [_traced(first, first_seconds)]
        for seed in range(1, self.settings.candidates):
            if time.perf_counter() > deadline:
                break
            started = time.perf_counter()
            reply = self._invoke(messages, CANDIDATE_SCHEMA, as_text=self.settings.reply_format == "fenced",
                                 temperature=self.settings.candidate_temperature, seed=seed)
            parsed = read_sql_reply(reply, self.settings.reply_format)
            candidate = SqlAnswer(question, str(parsed.get("sql") or "").strip(),  # a server may explain anyway
                                  str(parsed.get("explanation") or "").strip(), attempts=first.attempts)
            outcome = self._try(candidate, context, runner)
            written.append(outcome if isinstance(outcome, SqlAnswer) else None)
            trace.append(_traced(written[-1], time.perf_counter() - started))
        if len(written) == 1:  # the budget allowed no second opinion: agreement is unknown, not perfect
            return replace(first, trace=tuple(trace))
        groups = vote([None if c is None else result_key(c) for c in written])
        explained = self._explainer(messages, question)
        chosen = explained(written[groups[0][0]])
        confidence = round(len(groups[0]) / len(written), 3)
        uncertain = confidence < self.settings.confidence_threshold
        alternatives = []
        for n, group in enumerate(groups[1:]):
            reading = written[group[0]]
            if reading is not None:
                reading = explained(reading) if uncertain and n < _EXPLAINED_READINGS else reading
                alternatives.append({"sql": reading.sql, "row_count": reading.row_count, "votes": len(group),
                                     "explanation": reading.explanation})
        return replace(chosen, candidates=len(written), confidence=confidence, alternatives=alternatives,
                       uncertain=uncertain, trace=tuple(trace))

    def _explainer(self, messages: list[BaseMessage], question: str) -> Callable[[SqlAnswer | None], SqlAnswer]:
        """Gives a candidate that has none an explanation: the model, shown the prompt and the SQL that ran,
        says what it computes, in the question's language."""
        language = _LANGUAGES.get(detect_language(question), "English")

        def explained(answer: SqlAnswer | None) -> SqlAnswer:
            assert answer is not None  # a group's first candidate ran
            if answer.explanation:
                return answer
            turns = [*messages, AIMessage(sql_reply(answer.sql, "", self.settings.reply_format)),
                     HumanMessage(load_prompt("sql_explain").render(language=language))]
            parsed = parse_reply(self._invoke(turns, EXPLAIN_SCHEMA, max_tokens=160)) or {}
            return replace(answer, explanation=str(parsed.get("explanation") or "").strip())

        return explained

    def _try(self, answer: SqlAnswer, context: SqlContext, runner: Runner) -> "SqlAnswer | str":
        """Guard and run the answer's SQL: a new answer with the result, or the problem as text. A query that
        found nothing is run once more with its values in the data's spelling when that finds something
        (`_respelled`, opt-in)."""
        outcome = self._guarded_run(answer, context, runner)
        if self.settings.respell_values and isinstance(outcome, SqlAnswer) and found_nothing(outcome.rows):
            return self._respelled(outcome, context, runner) or outcome
        return outcome

    def _respelled(self, answer: SqlAnswer, context: SqlContext, runner: Runner) -> SqlAnswer | None:
        """The query with each text value it compares with `=`/`IN` in the one spelling its column holds, case
        aside, and LIKE as ILIKE (`spelling.respelled`), through the guard and the runner again; None when nothing
        changes, the role's database cannot be read, or it still finds nothing. Only the role's readable, unmasked
        text columns are looked up, never a table under disclosure control; the answer says what changed."""
        readable = _readable(context)
        tables = {t.name.lower(): t for t in context.tables if context.approval.table(t.name)}
        text_columns = {name: {c.name.lower(): c.name for c in t.columns
                               if c.type == "VARCHAR" and readable(t.name, c.name)} for name, t in tables.items()}
        try:
            con = locked_connection(context.database, self.limits(), shared=context.shared)
        except GovDataError:
            return None
        try:  # the guard's SQL is DuckDB's whichever engine runs it
            moved = respelled(answer.sql, {t: set(c) for t, c in text_columns.items()},
                              lambda t, c, v: _one_spelling(con, tables[t].name, text_columns[t][c], v))
        finally:
            con.close()
        verdict = self.guard.check(moved[0], context.approval) if moved else None
        if moved is None or verdict is None or not verdict.allowed or verdict.query is None:
            return None
        try:
            result = runner.run(verdict.query)
        except (QueryFailed, SdcRefused):
            return None
        if found_nothing(result.rows):
            return None
        return replace(with_result(answer, result), respelled=moved[1])

    def _guarded_run(self, answer: SqlAnswer, context: SqlContext, runner: Runner) -> "SqlAnswer | str":
        """The guard, then the runner; a refusal with one right reading is re-qualified or fixed up first."""
        if not answer.sql:
            return "the reply held no SQL"
        verdict = self.guard.check(answer.sql, context.approval)
        if not verdict.allowed or verdict.query is None:
            moved = self._requalified(answer, context, runner)
            return moved if moved is not None else f"rejected by the guard: {verdict.reason}"
        try:
            result = runner.run(verdict.query)
        except SdcRefused as exc:
            return f"refused by {exc.reason}"
        except QueryFailed as exc:
            fixed = self._fixed_up(answer, context, runner, str(exc)) or self._requalified(answer, context, runner)
            if fixed is not None:
                return fixed
            return f"{'PostgreSQL' if context.engine is not None else 'DuckDB'} error: {exc}"
        return with_result(answer, result)

    def _requalified(self, answer: SqlAnswer, context: SqlContext, runner: Runner) -> SqlAnswer | None:
        """A refused query whose columns sit on the wrong alias (`repair.requalified`, over the role's visible
        tables), moved and run once, through the guard again, before any model call; None when nothing moves or
        it still fails."""
        if not self.settings.requalify:
            return None
        visible = [_without_denied(t, context.approval) for t in context.tables if context.approval.table(t.name)]
        moved = requalified(answer.sql, visible, "postgres" if context.engine is not None else "duckdb",
                            every=context.tables)
        verdict = self.guard.check(moved, context.approval) if moved else None
        if moved is None or verdict is None or not verdict.allowed or verdict.query is None:
            return None
        try:
            return with_result(answer, runner.run(verdict.query))
        except (QueryFailed, SdcRefused):
            return None

    def _fixed_up(self, answer: SqlAnswer, context: SqlContext, runner: Runner, error: str,
                  steps: int = 2) -> SqlAnswer | None:
        """A query the engine refused for a reason with one right reading — a column neither grouped nor
        aggregated (`grouping.py`), a year function on a year number, text used as a number or a date
        (`coercion.py`) — run once more in that reading, through the guard again, before any model call; a
        second refusal of the other kind gets one more step. None when nothing applies or it still fails."""
        if not self.settings.fixups or steps == 0:
            return None
        if NOT_GROUPED.search(error):
            fixed = explicit_grouping(answer.sql, arg_extremes=context.engine is None)
        elif TYPE_ERROR.search(error):
            fixed = coerce_types(answer.sql, column_kinds(context.tables))
        else:
            fixed = None
        if not fixed:
            return None
        verdict = self.guard.check(fixed, context.approval)
        if not verdict.allowed or verdict.query is None:
            return None
        try:
            return with_result(answer, runner.run(verdict.query))
        except QueryFailed as exc:
            return self._fixed_up(replace(answer, sql=fixed), context, runner, str(exc), steps - 1)

    def _invoke(self, messages: list[BaseMessage], schema: dict[str, Any] = SQL_SCHEMA, *, as_text: bool = False,
                **sampling: Any) -> str:
        """One model call; JSON mode with `schema` unless `as_text` (a reply written as a code block)."""
        kwargs: dict[str, Any] = {"max_tokens": 400, **sampling}
        if not as_text and (fmt := response_format(self.json_mode, schema, "sql")) is not None:
            kwargs["response_format"] = fmt
        return str(self.chat_model.invoke(messages, **kwargs).content)

    def messages(self, question: str, tables: list[RegisteredTable], hints: dict[tuple[str, str], list[str]],
                 lesson: Lesson | None = None, rows: dict[str, list[list[str]]] | None = None) -> list[BaseMessage]:
        turns: list[BaseMessage] = [SystemMessage(system_prompt(self.settings.reply_format))]
        example_schema = self.render_tables(*example_tables(), ddl=rows is not None)
        for n in (1, 2) if self.settings.worked_examples else ():
            turns.append(HumanMessage(load_prompt(f"sql_example_{n}_user").render(schema=example_schema)))
            turns.append(example_reply(worked_reply(load_prompt(f"sql_example_{n}_assistant").render(),
                                                    self.settings.reply_format)))
        examples = lesson.render() if lesson is not None else ""
        language = _LANGUAGES.get(detect_language(question), "English")
        pattern = set_operation_hint(question) if self.settings.pattern_hints else ""
        schema = self.render_tables(tables, rows or {}, ddl=rows is not None)
        user = load_prompt("sql_user").render(schema=schema, examples=examples,
                                              hints=render_hints(hints) + (f"\n{pattern}\n" if pattern else ""),
                                              question=question, language=language)
        return [*turns, HumanMessage(user)]

    def render_tables(self, tables: list[RegisteredTable], rows: dict[str, list[list[str]]], *, ddl: bool) -> str:
        """The tables as this generator's prompt shows them: the question's own and the worked examples' alike."""
        if ddl:
            return render_ddl(tables, rows)
        return render_schema(tables, self.settings.value_ranges, joins=self.settings.join_equations,
                             samples=self.settings.sample_values)

    def link_tables(self, question: str, tables: list[RegisteredTable]) -> list[RegisteredTable]:
        """All tables when few; otherwise the most relevant by embedding and word overlap, plus their join
        partners, up to max_tables."""
        limit = self.settings.max_tables
        if len(tables) <= limit:
            return tables
        scores = self._relevance(question, [table_document(t) for t in tables])
        ranked = np.argsort(-scores)
        best = float(scores[ranked[0]])
        chosen = [tables[i] for i in ranked[:limit] if float(scores[i]) >= best * _RELATIVE_SCORE]
        return _with_join_partners(chosen, tables, limit)

    def _relevance(self, question: str, documents: list[str]) -> np.ndarray:
        """Word overlap with each document, plus embedding similarity when an embedder is set."""
        scores = _overlap_scores(question, documents)
        if self.embed is not None:
            vectors = self.embed([question, *documents])
            scores = scores + vectors[1:] @ vectors[0]
        return scores


def system_prompt(reply_format: str = "json") -> str:
    """The SQL prompt's system message, ending with how to reply: a JSON object, or a ```sql block then the
    explanation (`reply_format`)."""
    return load_prompt("sql_system").render(reply=load_prompt(f"sql_reply_{reply_format}").render().strip())


def sql_reply(sql: str, explanation: str, reply_format: str) -> str:
    """A reply as the model is asked to write it (a worked example's, or the SQL an explanation is asked for)."""
    if reply_format == "fenced":
        return f"```sql\n{sql}\n```\n{explanation}".strip()
    return json.dumps({"sql": sql, "explanation": explanation} if explanation else {"sql": sql}, ensure_ascii=False)


def worked_reply(text: str, reply_format: str) -> str:
    """A worked example's reply (written as JSON in prompts/) in the form the model is asked to reply in."""
    if reply_format == "json":
        return text
    worked = parse_reply(text) or {}
    return sql_reply(str(worked.get("sql", "")), str(worked.get("explanation", "")), reply_format)


def read_sql_reply(reply: str, reply_format: str) -> dict[str, Any]:
    """{"sql", "explanation"} from a reply: a JSON object, or (`fenced`) the query in the first code block and the
    text after it, up to any next block; a block tagged json, or a reply with no block that holds a JSON object,
    is read as JSON; a block cut off before its closing fence (the token limit) is the query alone."""
    if reply_format != "fenced":
        return parse_reply(reply) or {}
    block = _BLOCK.search(reply)
    if block is None:
        opened = _OPENED.search(reply)
        if opened is not None:
            return {"sql": first_statement(opened.group(2)), "explanation": ""}
        parsed = parse_reply(reply) if reply.lstrip().startswith("{") else None
        return parsed if parsed is not None else {"sql": sql_in_text(reply), "explanation": ""}
    tag, code = block.group(1).lower(), block.group(2)
    if tag == "json" or (not tag and code.lstrip().startswith("{")):
        return parse_reply(code) or {}
    explanation = reply[block.end():].split("```")[0].strip()
    return {"sql": first_statement(code), "explanation": explanation}


@functools.cache
def example_tables() -> tuple[list[RegisteredTable], dict[str, list[list[str]]]]:
    """The tables the worked examples ask about and their first rows (prompts/sql_example_tables.json), so the
    examples show tables in the style the question's own tables are shown in."""
    raw = json.loads((PROMPTS_DIR / "sql_example_tables.json").read_text(encoding="utf-8"))
    return [RegisteredTable.from_dict(t) for t in raw["tables"]], raw["rows"]


def _without_denied(table: RegisteredTable, approval: Approval) -> RegisteredTable:
    """The table as the role sees it: denied columns are not shown to the model at all."""
    access = approval.table(table.name)
    denied = access.denied if access else frozenset()
    return replace(table, columns=[c for c in table.columns if c.name not in denied])


def _with_join_partners(chosen: list[RegisteredTable], tables: list[RegisteredTable],
                        limit: int) -> list[RegisteredTable]:
    """Add tables the chosen ones join to (declared keys), while there is room."""
    names = {t.name for t in chosen}
    by_name = {t.name: t for t in tables}
    for table in list(chosen):
        for column in table.columns:
            for target in column.joins:
                partner = by_name.get(target.split(".")[0])
                if partner is not None and partner.name not in names and len(chosen) < limit:
                    chosen.append(partner)
                    names.add(partner.name)
    return chosen


def vote(keys: Sequence[str | None]) -> list[list[int]]:
    """Candidates grouped by result (their indexes), the largest group first, ties to the group whose first
    candidate came earliest; a candidate without a result (None) is in no group. The one voting rule, used by
    `_vote` and by bench/sql.py to score the first k of N recorded candidates."""
    groups: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        if key is not None:
            groups.setdefault(key, []).append(index)
    return sorted(groups.values(), key=lambda group: (-len(group), group[0]))


def _traced(answer: SqlAnswer | None, seconds: float) -> dict[str, Any]:
    """One candidate as benchmarks read it: its result (None when it did not run) and what it cost."""
    if answer is None:
        return {"key": None, "rows": None, "sql": "", "seconds": round(seconds, 3)}
    return {"key": result_key(answer), "rows": answer.rows, "sql": answer.sql, "seconds": round(seconds, 3)}


def result_key(answer: SqlAnswer) -> str:
    """Candidates agree when their results hold the same rows, in any order (column names may differ)."""
    rows = sorted(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) for row in answer.rows)
    return json.dumps([len(answer.columns), rows], ensure_ascii=False)


def with_result(answer: SqlAnswer, result: SqlResult) -> SqlAnswer:
    """The answer with the rows its checked SQL returned (versions filled in by `ask`)."""
    return replace(answer, sql=result.sql, columns=result.columns, rows=result.rows, row_count=result.row_count,
                   truncated=result.truncated, masked_columns=result.masked_columns,
                   dataset_versions=dict.fromkeys(result.tables, ""), error=None, withheld=result.withheld,
                   sdc=result.sdc)


def table_document(table: RegisteredTable) -> str:
    columns = " ".join(f"{c.name} {c.label} {c.description}" for c in table.columns)
    return f"{table.name} {table.title} {table.description} {columns}"


def _overlap_scores(question: str, documents: list[str]) -> np.ndarray:
    words = {w.lower() for w in _WORD.findall(question) if len(w) > 2}
    scores = []
    for document in documents:
        text = document.lower()
        scores.append(sum(1 for w in words if w in text) / (len(words) or 1))
    return np.asarray(scores, dtype=np.float32)


def render_schema(tables: list[RegisteredTable], ranges: bool = False, *, joins: bool = True,
                  samples: bool = True) -> str:
    """Compact DDL-like text: columns with types, descriptions, units and sample values. It depends only on
    the tables, so consecutive questions share the prompt prefix and llama.cpp reuses its cache. A join is
    written as its equation on both of its columns, so a link table is found from either side."""
    shown = {t.name.lower() for t in tables}
    joined: dict[str, list[str]] = {}
    for table in tables if joins else ():
        for column in table.columns:
            for target in column.joins:
                here = f"{table.name}.{column.name}"
                joined.setdefault(here.lower(), []).append(f"{here} = {target}")
                if target.split(".")[0].lower() in shown:
                    joined.setdefault(target.lower(), []).append(f"{target} = {here}")
    return "\n".join(_render_table(t, ranges, joined, samples) for t in tables)


def render_ddl(tables: list[RegisteredTable], rows: dict[str, list[list[str]]]) -> str:
    """Each table as a plain prompt shows it (issue 27): CREATE TABLE with its declared joins as foreign keys and a
    column's description as a comment, then its first rows."""
    return "\n\n".join(_ddl(table, rows.get(table.name, [])) for table in tables)


def _ddl(table: RegisteredTable, rows: list[list[str]]) -> str:
    entries = [(f"{quote_name(c.name)} {c.type}", _one_line(c.description[:120])) for c in table.columns]
    entries += [(f"FOREIGN KEY ({quote_name(c.name)}) REFERENCES {target.split('.')[0]}({target.split('.')[-1]})", "")
                for c in table.columns for target in c.joins]
    lines = [f"  {text}{',' if n < len(entries) - 1 else ''}" + (f" -- {note}" if note else "")
             for n, (text, note) in enumerate(entries)]
    ddl = f"CREATE TABLE {quote_name(table.name)} (\n" + "\n".join(lines) + "\n);"
    if not rows:
        return ddl
    header = "\t".join(c.name for c in table.columns)
    sample = "\n".join("\t".join(_one_line(v)[:60] for v in row) for row in rows)
    return f"{ddl}\n/*\n{len(rows)} rows from {table.name}:\n{header}\n{sample}\n*/"


def quote_name(name: str) -> str:
    """A name as SQL needs it: bare when it is a plain lower-case identifier, double-quoted otherwise."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else quote(name)


def first_rows(tables: list[RegisteredTable], context: SqlContext, limits: RunnerLimits,
               count: int = 3) -> dict[str, list[list[str]]]:
    """The first rows of each table's shown columns, from the role's own relations (masked columns hold the mask,
    denied ones are not there), masked for personal data when the role masks it."""
    out: dict[str, list[list[str]]] = {}
    con = locked_connection(context.database, limits, shared=context.shared)
    try:
        for table in tables:
            if context.sdc is not None and table.name in context.sdc.tables:
                continue  # no rows of a table about people reach the prompt for a role that may not see them
            columns = ", ".join(quote(c.name) for c in table.columns)
            try:
                found = con.execute(f"SELECT {columns} FROM {quote(table.name)} LIMIT {count}").fetchall()
            except duckdb.Error:
                continue
            out[table.name] = [["NULL" if v is None else str(v) for v in row] for row in found]
    finally:
        con.close()
    return pii.mask_any(out)[0] if context.masks_pii else out


def render_hints(hints: dict[tuple[str, str], list[str]]) -> str:
    if not hints:
        return ""
    lines = [f"- {table}.{column}: {', '.join(_sql_literal(v) for v in values)}"
             for (table, column), values in hints.items()]
    return "\nValues in the data that the question mentions:\n" + "\n".join(lines) + "\n"


def _render_table(table: RegisteredTable, ranges: bool = False, joined: dict[str, list[str]] | None = None,
                  samples: bool = True) -> str:
    about = f"  -- {_one_line(table.title)}" if table.title and table.title.lower() != table.name else ""
    lines = [f"TABLE {table.name} (rows: {table.row_count}){about}"]
    for column in table.columns:
        notes = [_one_line(n) for n in (column.description[:120], f"unit: {column.unit}" if column.unit else "") if n]
        if column.label and snake_name(column.label) != column.name:
            notes.insert(0, f"source name: {_one_line(column.label)}")
        values = [] if column.sensitive or not samples else column.samples
        if values:
            more = column.distinct - len(values[:12])
            notes.append("values: " + ", ".join(_sql_literal(v) for v in values[:12])
                         + (f", ... ({more} more, less frequent)" if more > 0 else ""))
        elif ranges and column.examples and not column.sensitive:
            notes.append("e.g. " + ", ".join(_sql_literal(v) for v in column.examples))
        if ranges and column.range and not column.sensitive:
            notes.append(f"range: {_one_line(column.range[0])} .. {_one_line(column.range[1])}")
        if column.numeric_text:
            notes.append(f"numbers stored as text: TRY_CAST({column.name} AS DOUBLE) to compute or compare")
        if equations := (joined or {}).get(f"{table.name}.{column.name}".lower()):
            notes.append("join on " + ", ".join(dict.fromkeys(equations)))
        suffix = f"  -- {'; '.join(notes)}" if notes else ""
        lines.append(f"  {column.name} {column.type}{suffix}")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    """Data shown to the model stays on its own line: newlines and control characters become spaces, so a
    value cannot start a line of its own that reads like an instruction; chat-template tokens in it are broken,
    so a value cannot open a turn of its own either."""
    return defuse(_CONTROL.sub(" ", text))


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _sql_literal(value: str) -> str:
    return "'" + _one_line(value).replace("'", "''")[:60] + "'"


def value_hints(question: str, tables: list[RegisteredTable], context: SqlContext, limits: RunnerLimits,
                index: ValueIndex | None = None) -> dict[tuple[str, str], list[str]]:
    """Values of text columns that the question spells out (case-insensitively, brooklyn -> 'BROOKLYN'), then,
    with an index, values it names in another language (猫 -> 'cat'). Only columns the role may use unmasked
    are searched."""

    readable = _readable(context)
    candidates = _phrases(question)
    if not candidates:
        return {}
    hints: dict[tuple[str, str], list[str]] = {}
    con = locked_connection(context.database, limits, shared=context.shared)
    try:
        for table in tables:
            for column in table.columns:
                if column.type == "VARCHAR" and readable(table.name, column.name):
                    found = _matching_values(con, table.name, column.name, candidates)
                    if found:
                        hints[(table.name, column.name)] = found
        if index is not None:
            for key, values in index.hints(question, tables, readable, con, str(context.database)).items():
                merged = list(dict.fromkeys([*hints.get(key, []), *values]))
                hints[key] = merged[: _MAX_HINTS + 2]
    finally:
        con.close()
    return hints


def _readable(context: SqlContext) -> Callable[[str, str], bool]:
    """Whether the role may have a column's values looked up: its own, unmasked, and not in a table about people
    under disclosure control."""

    def readable(table: str, column: str) -> bool:
        access = context.approval.table(table)
        if context.sdc is not None and table in context.sdc.tables:
            return False  # a value found would tell that someone in a table about people has it
        return access is not None and column not in access.masked and column not in access.denied

    return readable


def _one_spelling(con: duckdb.DuckDBPyConnection, table: str, column: str, literal: str) -> str | None:
    """The column's one value equal to the literal but for case; None for none or more. Spaces count: a value
    stored with them is another value to the engine, and comparisons that ignore them are the model's to write."""
    sql = f"SELECT DISTINCT {quote(column)} FROM {quote(table)} WHERE lower({quote(column)}) = lower(?) LIMIT 2"
    try:
        found = con.execute(sql, [literal]).fetchall()
    except duckdb.Error:
        return None
    return str(found[0][0]) if len(found) == 1 else None


def _phrases(question: str) -> list[str]:
    words = _WORD.findall(question)
    phrases = {m.strip().lower() for m in _QUOTED.findall(question)}
    for size in (1, 2, 3):
        for i in range(len(words) - size + 1):
            phrase = " ".join(words[i : i + size]).lower().strip(".'-")
            if len(phrase) >= 2 and not phrase.isdigit():
                phrases.add(phrase)
    for run in _CJK_RUN.findall(question):  # Chinese has no spaces: every 2-6 character piece is a candidate
        phrases.update(run[i : i + n] for n in range(2, 7) for i in range(len(run) - n + 1))
    return sorted(phrases, key=len, reverse=True)[:_MAX_CANDIDATES]


def _matching_values(con: duckdb.DuckDBPyConnection, table: str, column: str, phrases: list[str]) -> list[str]:
    marks = ", ".join("?" for _ in phrases)
    sql = (f"SELECT DISTINCT {quote(column)} FROM {quote(table)} WHERE lower(trim({quote(column)})) IN ({marks}) "
           f"LIMIT {_MAX_HINTS}")
    try:
        return [str(row[0]) for row in con.execute(sql, phrases).fetchall()]
    except duckdb.Error:
        return []
