"""Errors as HTTP answers: one JSON object `{"error": "...", ...}` with a status that says what kind of problem it
is; never a traceback. The MCP endpoint's token check answers the same way."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from assistant.gate import Busy
from assistant.policy.roles import NotAllowed
from assistant.policy.tokens import RateLimited, Unauthorized
from assistant.sql.guard import SqlRejected
from core.errors import FieldError, GovDataError, NotFound

BUSY_RETRY_S = 5  # a busy model or engine: a few seconds, not the token's pace


class TooLarge(GovDataError):
    """A request body over GOVDATA_API__MAX_BODY_BYTES."""


def status_of(exc: BaseException) -> int:
    for kind, status in ((Unauthorized, 401), (RateLimited, 429), (Busy, 429), (NotFound, 404), (TooLarge, 413),
                         (SqlRejected, 403), (NotAllowed, 403), (FieldError, 422), (GovDataError, 400)):
        if isinstance(exc, kind):
            return status
    return 500


def body_of(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, SqlRejected):
        return {"error": f"rejected: {exc.reason}", "reason": exc.reason}
    if isinstance(exc, FieldError):
        return {"error": exc.named(exc.field), "field": exc.field}
    if isinstance(exc, Unauthorized):
        return {"error": f"unauthorized: {exc.reason}"}
    if isinstance(exc, GovDataError):
        return {"error": str(exc)}
    return {"error": f"internal failure ({type(exc).__name__})"}


def headers_of(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, Unauthorized):
        reason = exc.reason.replace('"', "'")
        return {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{reason}"'}
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, Busy):
        return {"Retry-After": str(BUSY_RETRY_S)}
    return {}


def error_response(exc: BaseException) -> JSONResponse:
    return JSONResponse(body_of(exc), status_code=status_of(exc), headers=headers_of(exc))


def invalid_request(errors: list[Any]) -> JSONResponse:
    """A request that does not fit the schema: 422 naming each field (never echoing the values sent)."""
    problems = [{"field": ".".join(p for p in e.get("loc", ()) if isinstance(p, str)
                                   and p not in ("query", "body", "path", "header")) or "body",
                 "problem": str(e.get("msg", "invalid"))} for e in errors]
    text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return JSONResponse({"error": f"invalid request: {text}", "field": problems[0]["field"] if problems else "",
                         "problems": problems}, status_code=422)


def install(app: FastAPI) -> None:
    """The app's handlers: our errors, schema errors, and FastAPI's own (unknown route, wrong method)."""

    async def ours(request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc)

    async def schema(request: Request, exc: Exception) -> JSONResponse:
        return invalid_request(list(getattr(exc, "errors", list)()))

    async def http(request: Request, exc: Exception) -> JSONResponse:
        status = getattr(exc, "status_code", 500)
        return JSONResponse({"error": str(getattr(exc, "detail", "error"))}, status_code=status,
                            headers=getattr(exc, "headers", None))

    app.add_exception_handler(GovDataError, ours)
    app.add_exception_handler(Exception, ours)
    app.add_exception_handler(RequestValidationError, schema)
    app.add_exception_handler(HTTPException, http)
