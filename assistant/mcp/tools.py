"""The MCP tools and resources, each defined once: a typed input schema (bounds from the settings, so a bad argument
is a schema error naming the field), a description an agent can act on, and one Services call as the caller, whose
receipt says `interface: mcp`. A tool that needs a named action is listed only to roles that have it."""

import json
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.server.mcpserver.resources.templates import ResourceSecurity
from mcp_types import ToolAnnotations
from pydantic import Field, ValidationError

from assistant import shapes
from assistant.register.entries import RegisterFilter
from assistant.services import Services
from assistant.shapes import LONGEST_LIST
from assistant.sql.guard import SqlRejected
from assistant.usecases.grants import argument_names
from assistant.usecases.tokens import Caller
from core.errors import FieldError, GovDataError, NotFound
from core.settings import Settings

CALLER = "govdata.caller"  # the ASGI scope key the HTTP wall (server.py) puts the token's caller under
NEEDS = {"register_list": "register.read", "knowledge_propose": "knowledge.propose",
         "knowledge_list": "knowledge.review", "knowledge_review": "knowledge.review",
         "grant_decide": "grants.manage", "grant_status": "grants.manage"}  # listed only to roles with it
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
INSTRUCTIONS = (
    "GovData Assistant: open-data catalogs, laws and guides, and approved tables, as your role may see them. Start "
    "with catalog_overview or search_datasets; get_dataset gives a full record; search_documents and ask answer from "
    "laws and guides with citations; list_tables, then sql_check / sql_run (or sql_ask) query approved tables. A "
    "member of an organisation asks for more with grant_request and sees its grants with grants_list. Lists carry "
    "total and next: pass next as offset for the following page. Every call leaves an audit receipt.")


class GovDataMCP(MCPServer):
    """The MCP server of one Services: `fixed` is the caller over stdio; over HTTP each request carries its own."""

    def __init__(self, services: Services, fixed: Caller | None = None) -> None:
        super().__init__("govdata", instructions=INSTRUCTIONS, log_level="WARNING")
        self.services, self.fixed = services, fixed

    def caller(self, request: Any) -> Caller | None:
        """The HTTP request's caller (put in its scope by the token check), else the stdio caller."""
        found = request.scope.get(CALLER) if request is not None else None
        return found if isinstance(found, Caller) else self.fixed if request is None else None

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        """A refusal or a bad argument reaches the agent as one line naming the field, never as a crash."""
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(invalid_arguments(cause)) from None
            if isinstance(cause, GovDataError):
                raise ToolError(refusal(cause)) from None
            raise

    async def read_resource(self, uri: Any, context: Any = None) -> Any:
        try:
            return await super().read_resource(uri, context)
        except ResourceError as exc:
            cause = exc.__cause__
            if isinstance(cause, NotFound):
                raise ResourceNotFoundError(refusal(cause)) from None
            if isinstance(cause, GovDataError):
                raise ResourceError(refusal(cause)) from None
            raise


def invalid_arguments(error: ValidationError) -> str:
    """`invalid arguments: k: Input should be less than or equal to 50; query: Field required`."""
    problems = [f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in error.errors()]
    return "invalid arguments: " + "; ".join(problems)


def refusal(error: GovDataError) -> str:
    if isinstance(error, SqlRejected):
        return f"rejected: {error.reason}"
    return str(error) if not isinstance(error, FieldError) else error.named(error.field)


def caller_of(ctx: Context) -> Caller:
    """The caller of this request: the HTTP wall's, or the one the stdio server was started as."""
    server = ctx.mcp_server
    assert isinstance(server, GovDataMCP)
    caller = server.caller(ctx.request_context.request)
    if caller is None:
        raise ToolError("no caller: this MCP endpoint must be reached through the token check")
    return caller


def services_of(ctx: Context) -> Services:
    server = ctx.mcp_server
    assert isinstance(server, GovDataMCP)
    return server.services


def visible_tools(tools: list[dict[str, Any]], allowed: Any) -> list[dict[str, Any]]:
    """The listed tools a role may use: those needing no action, and those whose action `allowed(action)` grants."""
    return [t for t in tools if (need := NEEDS.get(str(t.get("name")))) is None or allowed(need)]


def build(services: Services, fixed: Caller | None = None) -> GovDataMCP:
    """The server with every tool and resource, and the rule that lists each tool only to roles that may use it."""
    server = GovDataMCP(services, fixed)
    _catalog_tools(server, services.settings)
    _sql_tools(server, services.settings)
    _steward_tools(server, services.settings)
    _knowledge_tools(server, services.settings)
    _grant_tools(server, services.settings)
    _resources(server)
    server.middleware.append(_ListedForRole(server))
    return server


class _ListedForRole:
    """Leaves out of `tools/list` the tools the caller's role may not use (Services refuses them anyway)."""

    def __init__(self, server: GovDataMCP) -> None:
        self.server = server

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        result = await call_next(ctx)
        if ctx.method == "tools/list" and isinstance(result, dict):
            caller = self.server.caller(ctx.request)
            role = caller.role if caller else ""
            result["tools"] = visible_tools(result.get("tools", []),
                                            lambda action: self.server.services.allowed(role, action))
        return result


class _Bounds:
    """The settings' input limits as schema fields: a bad argument fails the schema, naming the field."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.deepest = settings, settings.api.max_results

    def text(self, what: str) -> Any:
        return Field(min_length=1, max_length=self.settings.input.max_question_chars, description=what)

    def field(self, what: str) -> Any:
        return Field(max_length=self.settings.input.max_field_chars, description=what)

    def sql(self) -> Any:
        return Field(min_length=1, max_length=self.settings.sql.max_chars,
                     description="One read-only DuckDB SELECT over the approved tables (see list_tables).")

    def size(self, what: str) -> Any:
        return Field(ge=1, le=self.deepest, description=f"How many {what} (at most {self.deepest}).")

    def offset(self) -> Any:
        """A search's offset: a search ranks at most `deepest` results."""
        return Field(ge=0, le=self.deepest - 1, description="Where the page starts: 0, or the previous page's next.")

    def list_offset(self) -> Any:
        """A whole list's offset (tables, register, knowledge, grants): every item can be reached."""
        return Field(ge=0, le=LONGEST_LIST, description="Where the page starts: 0, or the previous page's next.")


def _catalog_tools(server: GovDataMCP, settings: Settings) -> None:
    b = _Bounds(settings)
    words = "What to look for, in plain words (Chinese or English)."

    @server.tool(annotations=READ_ONLY)
    def search_datasets(
        query: Annotated[str, b.text(words)], ctx: Context, k: Annotated[int, b.size("results")] = 10,
        offset: Annotated[int, b.offset()] = 0,
        publisher: Annotated[str | None, b.field("Only this publisher (part of its name).")] = None,
        format: Annotated[str | None, b.field("Only records with a distribution in this format, e.g. csv.")] = None,
        since: Annotated[str | None, b.field("Only records updated on or after YYYY[-MM[-DD]].")] = None,
        access_level: Annotated[str | None, b.field("Only this access level (one the role may see).")] = None,
    ) -> dict[str, Any]:
        """Find datasets in the open-data catalogs by describing the need (any language), best match first. Each
        result has identifier, title, publisher, access level, formats, last update, update frequency and a
        metadata quality score; only records your role may see. Use get_dataset for the full record."""
        caller = caller_of(ctx)
        found = services_of(ctx).search_datasets_page(query, k=k, offset=offset, role=caller.role, user=caller.user,
                                                      publisher=publisher, format=format, since=since,
                                                      access_level=access_level)
        return shapes.page(found, shapes.dataset)

    @server.tool(annotations=READ_ONLY)
    def get_dataset(id: Annotated[str, b.field("The dataset's identifier, as search_datasets gives it.")],
                    ctx: Context) -> dict[str, Any]:
        """The full catalog record of one dataset: description, publisher, contact, licence, distributions (format
        and download URL), themes, keywords, update frequency, temporal and spatial coverage."""
        caller = caller_of(ctx)
        return services_of(ctx).dataset_record(id, role=caller.role, user=caller.user)

    @server.tool(annotations=READ_ONLY)
    def catalog_overview(ctx: Context) -> dict[str, Any]:
        """What the catalog holds for your role ("what datasets do you have?"): how many datasets, the largest
        publishers, counts by access level, theme, catalog and language, the range of update dates, and how many
        documents and approved tables there are."""
        caller = caller_of(ctx)
        return services_of(ctx).catalog_overview(role=caller.role, user=caller.user)

    @server.tool(annotations=READ_ONLY)
    def search_documents(query: Annotated[str, b.text(words)], ctx: Context,
                         k: Annotated[int, b.size("passages")] = 5,
                         offset: Annotated[int, b.offset()] = 0) -> dict[str, Any]:
        """Passages of laws, regulations and guides closest to the query, with title, article, date and source
        link. Use ask for an answer written from them with citations."""
        caller = caller_of(ctx)
        found = services_of(ctx).search_passages_page(query, k=k, offset=offset, role=caller.role, user=caller.user)
        return shapes.page(found, shapes.passage)

    @server.tool(annotations=READ_ONLY)
    def ask(question: Annotated[str, b.text("A question about laws, regulations or public-service guidance.")],
            ctx: Context) -> dict[str, Any]:
        """A grounded answer from the laws and guides, every claim cited [n] with the quoted passage; when the
        documents do not support an answer, found is false and closest_sources names what came nearest. Slow (a
        local model writes it): prefer search_documents when passages are enough."""
        caller = caller_of(ctx)
        return shapes.answer(services_of(ctx).ask(question, role=caller.role, user=caller.user))


def _sql_tools(server: GovDataMCP, settings: Settings) -> None:
    b = _Bounds(settings)

    @server.tool(annotations=READ_ONLY)
    def list_tables(ctx: Context, limit: Annotated[int, b.size("tables")] = 50,
                    offset: Annotated[int, b.list_offset()] = 0) -> dict[str, Any]:
        """The approved tables your role may query: name, title, access level, version, rows, and each column
        with its type, description, unit and whether it is sensitive (denied or masked for most roles)."""
        caller = caller_of(ctx)
        context = services_of(ctx).sql_tables(caller.role, user=caller.user)
        return shapes.page(shapes.window(context.tables, offset, limit), shapes.table_in(context))

    @server.tool(annotations=READ_ONLY)
    def sql_check(sql: Annotated[str, b.sql()], ctx: Context) -> dict[str, Any]:
        """Whether the SQL guard lets this query run for your role, and why (allowed, reason, the SQL as it would
        run, columns withheld). Nothing runs."""
        caller = caller_of(ctx)
        return shapes.verdict(services_of(ctx).sql_check(sql, role=caller.role, user=caller.user))

    @server.tool(annotations=READ_ONLY)
    def sql_run(sql: Annotated[str, b.sql()], ctx: Context) -> dict[str, Any]:
        """Run one read-only query over the approved tables through the guard: columns, rows (capped; truncated
        says so), row_count, dataset versions and the receipt id. A refused query says the guard's reason."""
        caller = caller_of(ctx)
        return shapes.sql_result(services_of(ctx).sql_run(sql, role=caller.role, user=caller.user))

    @server.tool(annotations=READ_ONLY)
    def sql_ask(question: Annotated[str, b.text("A question about the approved tables' data, in plain words.")],
                ctx: Context,
                dataset: Annotated[str | None, b.field("Only this approved table (a name from list_tables).")] = None,
                ) -> dict[str, Any]:
        """A question answered from the approved tables: the assistant writes the SQL, the guard checks it, and you
        get the SQL, an explanation, the rows and the dataset versions (error says why when it could not). Slow (a
        local model writes the SQL)."""
        caller = caller_of(ctx)
        return shapes.sql_answer(services_of(ctx).sql_ask(question, role=caller.role, user=caller.user,
                                                          dataset=dataset))


def _steward_tools(server: GovDataMCP, settings: Settings) -> None:
    b = _Bounds(settings)

    @server.tool(annotations=READ_ONLY)
    def register_list(
        ctx: Context, limit: Annotated[int, b.size("entries")] = 50, offset: Annotated[int, b.list_offset()] = 0,
        publisher: Annotated[str | None, b.field("Only this publisher (part of its name).")] = None,
        max_score: Annotated[int | None, Field(ge=0, le=100, description="Only entries scoring at most this.")] = None,
    ) -> dict[str, Any]:
        """The register of public data resources (data stewards): every catalog record and approved table with its
        metadata quality score and the rules that cost it points, lowest score first."""
        caller = caller_of(ctx)
        entries = services_of(ctx).register_entries(role=caller.role, user=caller.user,
                                                    where=RegisterFilter(publisher=publisher, max_score=max_score))
        return shapes.page(shapes.window(entries, offset, limit), shapes.entry)


def _knowledge_tools(server: GovDataMCP, settings: Settings) -> None:
    """What an office teaches the SQL assistant (issue 32): propose; data stewards list and review."""
    b = _Bounds(settings)

    @server.tool(annotations=WRITES)
    def knowledge_propose(
        kind: Annotated[Literal["pair", "term", "note"], Field(description="pair, term or note")], ctx: Context,
        question: Annotated[str, b.field("A pair's question, as people ask it.")] = "",
        sql: Annotated[str, Field(max_length=settings.sql.max_chars,
                                  description="A pair's SQL, or a term's SQL expression.")] = "",
        term: Annotated[str, b.field("A term's name.")] = "",
        text: Annotated[str, b.field("A term's definition, or a note.")] = "",
        tables: Annotated[list[str] | None, Field(max_length=50, description="The tables a term or note is about.")]
        = None,
    ) -> dict[str, Any]:
        """Propose a verified question/SQL pair, a term or a note for the SQL assistant to learn. The SQL must pass
        the guard and run for you; a data steward approves it before it is used. Returns the item and its status."""
        caller = caller_of(ctx)
        return dict(services_of(ctx).knowledge_propose(kind, role=caller.role, user=caller.user, question=question,
                                                       sql=sql, term=term, text=text, tables=tables).as_dict())

    @server.tool(annotations=READ_ONLY)
    def knowledge_list(ctx: Context, status: Annotated[str | None, b.field("pending, approved, rejected, ...")] = None,
                       limit: Annotated[int, b.size("items")] = 50, offset: Annotated[int, b.list_offset()] = 0,
                       ) -> dict[str, Any]:
        """The knowledge queue (data stewards): waiting proposals, suspended and flagged items first, newest first."""
        caller = caller_of(ctx)
        items = services_of(ctx).knowledge_items(role=caller.role, user=caller.user, status=status)
        return shapes.page(shapes.window(items, offset, limit), lambda item: dict(item.as_dict()))

    @server.tool(annotations=WRITES)
    def knowledge_review(id: Annotated[str, b.field("The item's id, as knowledge_list gives it.")],
                         approve: Annotated[bool, Field(description="true approves, false rejects")], ctx: Context,
                         reason: Annotated[str, b.field("Why (needed to reject).")] = "") -> dict[str, Any]:
        """Approve (the SQL runs again as you) or reject (with a reason) a proposal; nobody reviews their own."""
        caller = caller_of(ctx)
        return dict(services_of(ctx).knowledge_review(id, approve=approve, role=caller.role, user=caller.user,
                                                      reason=reason).as_dict())


def _grant_tools(server: GovDataMCP, settings: Settings) -> None:
    """Sharing and authorised operation (issue 33): a member of an organisation (the token's `--org`, or the user's)
    reads its grants and asks for access; data stewards decide requests and suspend, resume or revoke grants."""
    b = _Bounds(settings)
    day = "YYYY-MM-DD"

    @server.tool(annotations=READ_ONLY)
    def grants_list(ctx: Context, state: Annotated[str | None, b.field(
                        "active, not started, expired, suspended or revoked (today)")] = None,
                    limit: Annotated[int, b.size("grants")] = 50, offset: Annotated[int, b.list_offset()] = 0,
                    ) -> dict[str, Any]:
        """The grants your organisation holds (every grant for a data steward), newest first: what each opens
        (dataset, theme or publisher; columns; rows), its purpose, its term and its state today. Tables a grant
        opens appear in list_tables and answer sql_run while it is active."""
        caller = caller_of(ctx)
        found = services_of(ctx).grants(role=caller.role, user=caller.user, state=state)
        return shapes.page(shapes.window(found, offset, limit), dict)

    @server.tool(annotations=READ_ONLY)
    def grant_show(id: Annotated[str, b.field("The grant's id, as grants_list gives it.")],
                   ctx: Context) -> dict[str, Any]:
        """One grant in full: what it opens, its purpose, term, contact and state today, with the earlier versions of
        its term and scope (another organisation's grant is not found, like an id that does not exist)."""
        caller = caller_of(ctx)
        return services_of(ctx).grant(id, role=caller.role, user=caller.user)

    @server.tool(annotations=WRITES)
    def grant_request(
        dataset: Annotated[str, b.field("An approved table's name or a catalog record's id.")],
        purpose: Annotated[str, b.field("What the access is for.")],
        until: Annotated[str, Field(max_length=32, description=f"The last day, {day}.")], ctx: Context,
        start: Annotated[str | None, Field(max_length=32, description=f"The first day, {day} (today).")] = None,
        columns: Annotated[str | None, b.field("Only these columns, comma-separated.")] = None,
        rows: Annotated[str | None, b.field("Only rows this SQL predicate selects.")] = None,
    ) -> dict[str, Any]:
        """Ask for access to one dataset for your organisation; a data steward approves (possibly narrowed) or
        rejects it, and grant_requests shows the outcome. Returns the request and its id."""
        caller = caller_of(ctx)
        with argument_names():
            return services_of(ctx).request_grant(dataset, purpose=purpose, until=until, start=start,
                                                  columns=columns, rows=rows, role=caller.role, user=caller.user)

    @server.tool(annotations=READ_ONLY)
    def grant_requests(ctx: Context, status: Annotated[str | None, b.field("pending, approved or rejected")] = None,
                       limit: Annotated[int, b.size("requests")] = 50, offset: Annotated[int, b.list_offset()] = 0,
                       ) -> dict[str, Any]:
        """Requests for access, oldest first, with each decision and its reason: your organisation's, or the queue
        for a data steward."""
        caller = caller_of(ctx)
        found = services_of(ctx).requests(role=caller.role, user=caller.user, status=status)
        return shapes.page(shapes.window(found, offset, limit), dict)

    @server.tool(annotations=WRITES)
    def grant_decide(
        id: Annotated[str, b.field("The request's id, as grant_requests gives it.")],
        approve: Annotated[bool, Field(description="true approves, false rejects")], ctx: Context,
        reason: Annotated[str, b.field("Why (needed to reject; the requester sees it).")] = "",
        until: Annotated[str | None, Field(max_length=32, description=f"A shorter term's last day, {day}.")] = None,
        start: Annotated[str | None, Field(max_length=32, description=f"A later first day, {day}.")] = None,
        columns: Annotated[str | None, b.field("Fewer columns than asked for.")] = None,
        rows: Annotated[str | None, b.field("A predicate the rows must also meet.")] = None,
        contact: Annotated[str | None, b.field("Who answers for it (the organisation's contact).")] = None,
    ) -> dict[str, Any]:
        """Approve a pending request as a grant, possibly narrowed (fewer columns, fewer rows, a shorter term), or
        reject it with a reason (data stewards). Returns the grant made, or the rejected request."""
        caller = caller_of(ctx)
        services = services_of(ctx)
        if not approve:
            return services.reject_request(id, reason=reason, role=caller.role, user=caller.user)
        with argument_names():
            return services.approve_request(id, until=until, start=start, columns=columns, rows=rows,
                                            contact=contact, note=reason or None, role=caller.role, user=caller.user)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True,
                                             open_world_hint=False))
    def grant_status(id: Annotated[str, b.field("The grant's id, as grants_list gives it.")],
                     action: Annotated[Literal["revoke", "suspend", "resume"], Field(
                         description="revoke ends it for good; suspend stops it until resumed")],
                     ctx: Context, reason: Annotated[str | None, b.field("Why (kept in its history).")] = None,
                     ) -> dict[str, Any]:
        """Revoke, suspend or resume a grant (data stewards); the next call made under it sees the change."""
        caller = caller_of(ctx)
        services = services_of(ctx)
        change = {"revoke": services.revoke_grant, "suspend": services.suspend_grant,
                  "resume": services.resume_grant}[action]
        return change(id, reason=reason, role=caller.role, user=caller.user)


def _resources(server: GovDataMCP) -> None:
    exempt = ResourceSecurity(exempt_params={"identifier", "chunk_id"})  # ids, never paths

    @server.resource("govdata://datasets/{+identifier}", mime_type="application/json", security=exempt)
    def dataset_record(identifier: str, ctx: Context) -> str:
        """A catalog record in full, as get_dataset returns it."""
        caller = caller_of(ctx)
        return _json(services_of(ctx).dataset_record(identifier, role=caller.role, user=caller.user))

    @server.resource("govdata://passages/{+chunk_id}", mime_type="application/json", security=exempt)
    def passage(chunk_id: str, ctx: Context) -> str:
        """One passage of a law or guide by its chunk_id (as search_documents returns it)."""
        caller = caller_of(ctx)
        return _json(shapes.passage(services_of(ctx).passage(chunk_id, role=caller.role, user=caller.user)))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
