"""The REST API at /api/v1: each route parses (bounds from the settings, so bad input is a 422 naming the field),
calls one Services use case as the token's caller and returns the CLI's `--json` shape; lists are pages with
`total` and `next`. OpenAPI at /api/v1/openapi.json."""

from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import shapes
from assistant.api import errors
from assistant.api.bounds import Bounds
from assistant.api.errors import TooLarge
from assistant.api.grants import grant_routes
from assistant.services import Services
from assistant.usecases.tokens import Caller

PREFIX = "/api/v1"
DESCRIPTION = ("Open-data catalogs, laws and guides, and approved tables, as the token's role may see them. Send "
               "`Authorization: Bearer TOKEN` (made by `govdata tokens create`). Every call leaves an audit receipt; "
               "lists carry `total` and `next` (pass it as `offset`). See docs/api.md.")


def build_api(services: Services) -> FastAPI:
    """The API app for one Services (its receipts should say `interface: api`), mounted at /api/v1."""
    api = FastAPI(title="GovData Assistant API", version="1", description=DESCRIPTION, openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None)  # the docs pages load scripts from a CDN: not offline
    errors.install(api)
    api.add_middleware(BodyLimit, limit=services.settings.api.max_body_bytes)
    bearer = HTTPBearer(auto_error=False, description="A token from `govdata tokens create NAME ROLE`.")

    def caller(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
        found = services.authenticate(request.headers.get("authorization"))
        services.admit(found)
        return found

    As = Annotated[Caller, Depends(caller)]
    bounds = Bounds(services.settings)
    _catalog_routes(api, services, bounds, As)
    _sql_routes(api, services, bounds, As)
    _knowledge_routes(api, services, bounds, As)
    grant_routes(api, services, bounds, As)
    return api


def _catalog_routes(api: FastAPI, services: Services, b: Bounds, As: Any) -> None:
    @api.get("/datasets/search", summary="Find datasets", tags=["catalog"])
    def search_datasets(
        q: Annotated[str, b.words()], caller: As, k: Annotated[int, b.size()] = 10,
        offset: Annotated[int, b.offset()] = 0, publisher: Annotated[str | None, b.filter("Publisher (part)")] = None,
        format: Annotated[str | None, b.filter("Distribution format, e.g. csv")] = None,
        since: Annotated[str | None, b.filter("Updated on or after YYYY[-MM[-DD]]")] = None,
        access_level: Annotated[str | None, b.filter("One level the role may see")] = None,
    ) -> dict[str, Any]:
        """Datasets matching the words that the role may see, best first (items as `govdata datasets search
        --json`)."""
        found = services.search_datasets_page(q, k=k, offset=offset, role=caller.role, user=caller.user,
                                              publisher=publisher, format=format, since=since,
                                              access_level=access_level)
        return shapes.page(found, shapes.dataset)

    @api.get("/catalog/overview", summary="What the catalog holds", tags=["catalog"])
    def catalog_overview(caller: As) -> dict[str, Any]:
        """Datasets by publisher, access level, theme and catalog, the update dates, documents and tables (as
        `govdata datasets overview --json`)."""
        return services.catalog_overview(role=caller.role, user=caller.user)

    @api.get("/datasets/{id:path}", summary="One dataset record", tags=["catalog"])
    def get_dataset(id: Annotated[str, b.id("The dataset's identifier, as search gives it.")],
                    caller: As) -> dict[str, Any]:
        """The full catalog record: distributions, licence, contact, themes (as `govdata datasets show --json`)."""
        return services.dataset_record(id, role=caller.role, user=caller.user)

    @api.get("/documents/search", summary="Find passages of laws and guides", tags=["documents"])
    def search_documents(q: Annotated[str, b.words()], caller: As, k: Annotated[int, b.size()] = 5,
                         offset: Annotated[int, b.offset()] = 0) -> dict[str, Any]:
        """Passages closest to the words (items as `govdata docs search --json`)."""
        found = services.search_passages_page(q, k=k, offset=offset, role=caller.role, user=caller.user)
        return shapes.page(found, shapes.passage)

    @api.get("/documents/{id:path}", summary="One passage", tags=["documents"])
    def get_passage(id: Annotated[str, b.id("The passage's chunk_id, as search gives it.")],
                    caller: As) -> dict[str, Any]:
        """A passage by its chunk_id."""
        return shapes.passage(services.passage(id, role=caller.role, user=caller.user))

    @api.post("/ask", summary="A cited answer", tags=["documents"])
    def ask(question: Annotated[str, b.question("A question about laws, regulations or public-service guidance.")],
            caller: As) -> dict[str, Any]:
        """A grounded, cited answer, or found=false with the closest sources (as `govdata ask --json`)."""
        return shapes.answer(services.ask(question, role=caller.role, user=caller.user))


def _sql_routes(api: FastAPI, services: Services, b: Bounds, As: Any) -> None:
    @api.get("/tables", summary="The role's approved tables", tags=["sql"])
    def tables(caller: As, limit: Annotated[int, b.size()] = 50,
               offset: Annotated[int, b.list_offset()] = 0) -> dict[str, Any]:
        """Tables with columns, units and descriptions (items as `govdata sql tables --json`)."""
        context = services.sql_tables(caller.role, user=caller.user)
        return shapes.page(shapes.window(context.tables, offset, limit), shapes.table_in(context))

    @api.post("/sql/check", summary="The guard's verdict", tags=["sql"])
    def sql_check(sql: Annotated[str, b.sql()], caller: As) -> dict[str, Any]:
        """Whether the SQL may run for the role, and why; nothing runs (as `govdata sql check --json`)."""
        return shapes.verdict(services.sql_check(sql, role=caller.role, user=caller.user))

    @api.post("/sql/run", summary="Run SQL through the guard", tags=["sql"])
    def sql_run(sql: Annotated[str, b.sql()], caller: As) -> dict[str, Any]:
        """Rows of a guarded query (as `govdata sql run --json`); a refused query is a 403 with the reason."""
        return shapes.sql_result(services.sql_run(sql, role=caller.role, user=caller.user))

    @api.post("/sql/ask", summary="A question answered with SQL", tags=["sql"])
    def sql_ask(question: Annotated[str, b.question("A question about the approved tables' data.")], caller: As,
                dataset: Annotated[str | None, Body(embed=True, max_length=b.settings.input.max_field_chars,
                                                    description="Only this approved table.")] = None,
                ) -> dict[str, Any]:
        """SQL written, checked and run, with an explanation (as `govdata sql ask --json`)."""
        return shapes.sql_answer(services.sql_ask(question, role=caller.role, user=caller.user, dataset=dataset))


def _knowledge_routes(api: FastAPI, services: Services, b: Bounds, As: Any) -> None:
    """What an office teaches the SQL assistant (issue 32): anyone who may propose sends a verified pair, term or
    note; data stewards list the queue and approve or reject, as `govdata knowledge ...` does."""
    text = b.settings.input.max_question_chars

    @api.post("/knowledge", summary="Propose a pair, term or note", tags=["knowledge"])
    def knowledge_propose(
        caller: As, kind: Annotated[str, Body(embed=True, description="pair, term or note")],
        question: Annotated[str, Body(embed=True, max_length=text, description="A pair's question.")] = "",
        sql: Annotated[str, Body(embed=True, max_length=b.settings.sql.max_chars,
                                 description="A pair's SQL, or a term's expression.")] = "",
        term: Annotated[str, Body(embed=True, max_length=b.settings.input.max_field_chars)] = "",
        text_: Annotated[str, Body(embed=True, alias="text", max_length=text,
                                   description="A term's definition or a note.")] = "",
        tables: Annotated[list[str] | None, Body(embed=True, max_length=50)] = None,
        expires: Annotated[str | None, Body(embed=True, max_length=32, description="YYYY-MM-DD")] = None,
    ) -> dict[str, Any]:
        """A proposal, checked by the guard and run as the proposer before it waits for a data steward (as
        `govdata knowledge propose --json`)."""
        return dict(services.knowledge_propose(kind, role=caller.role, user=caller.user, question=question, sql=sql,
                                               term=term, text=text_, tables=tables, expires=expires).as_dict())

    @api.get("/knowledge", summary="The knowledge queue and items (data stewards)", tags=["knowledge"])
    def knowledge_list(caller: As, status: Annotated[str | None, b.filter("pending, approved, rejected, ...")] = None,
                       kind: Annotated[str | None, b.filter("pair, term or note")] = None,
                       limit: Annotated[int, b.size()] = 50, offset: Annotated[int, b.list_offset()] = 0,
                       ) -> dict[str, Any]:
        """Waiting proposals, suspended and flagged items first (as `govdata knowledge list --json`)."""
        items = services.knowledge_items(role=caller.role, user=caller.user, status=status, kind=kind)
        return shapes.page(shapes.window(items, offset, limit), lambda item: dict(item.as_dict()))

    @api.get("/knowledge/{id}", summary="One knowledge item with its history", tags=["knowledge"])
    def knowledge_show(id: Annotated[str, b.id("The item's id, as the list gives it.")], caller: As) -> dict[str, Any]:
        """For a data steward or the one who proposed it (as `govdata knowledge show --json`)."""
        return dict(services.knowledge_item(id, role=caller.role, user=caller.user).as_dict())

    @api.post("/knowledge/{id}/review", summary="Approve or reject a proposal (data stewards)", tags=["knowledge"])
    def knowledge_review(id: Annotated[str, b.id("The item's id, as the list gives it.")], caller: As,
                         approve: Annotated[bool, Body(embed=True, description="true approves, false rejects")],
                         reason: Annotated[str, Body(embed=True, max_length=text,
                                                     description="Why (needed to reject).")] = "",
                         expires: Annotated[str | None, Body(embed=True, max_length=32)] = None) -> dict[str, Any]:
        """Approval runs the SQL again as the reviewer; the proposer may not review their own (as `govdata
        knowledge approve|reject --json`)."""
        return dict(services.knowledge_review(id, approve=approve, role=caller.role, user=caller.user, reason=reason,
                                              expires=expires).as_dict())


class BodyLimit:
    """Refuses (413) a body over the limit before the app sees it: by its Content-Length, or, for a body sent in
    chunks without one, by reading it (it is small) and handing it on whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.limit:
                await errors.error_response(self._too_large())(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        body, more, first = b"", True, None
        while more:
            message = await receive()
            if message["type"] != "http.request":
                first = message
                break
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > self.limit:
                await errors.error_response(self._too_large())(scope, receive, send)
                return
        await self.app(scope, _replay(first or {"type": "http.request", "body": body, "more_body": False},
                                      receive), send)

    def _too_large(self) -> TooLarge:
        return TooLarge(f"the request body is over {self.limit:,} bytes (GOVDATA_API__MAX_BODY_BYTES)")


def _replay(first: Message, receive: Receive) -> Receive:
    """The body already read, then whatever the connection says next (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return first
        return await receive()

    return replayed
