"""Errors become problem documents (RFC 9457): the handlers for domain errors, request validation, the
database and Starlette's own errors, and ``CatchAll``, the outermost guard that turns any failure into a 500.

A request a page answers (``wants_page``: the pages' addresses, or a browser's request outside the API) gets the
web's error page instead (``app.state.page_error``, set by the web): in the page's language, never a problem
document; the API's answers do not change."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..faults import InternalFault, InvalidInput, InvalidProposal, NotFound
from ..store.receipts import SnapshotError
from ..wording import words
from ..workflow import Conflict
from .deps import wants_page
from .problems import Problem, problem_response

log = logging.getLogger("biotoets.api")


# -- errors --------------------------------------------------------------------------------------
def _instance(request: Request) -> str:
    return request.url.path


async def answer(request: Request, problem: Problem) -> Response:
    """The answer to an error: the problem document, or for a page's request the error page for its status (with
    the reference a person quotes for a failure of the server, and the headers a browser uses)."""
    page_error = getattr(request.app.state, "page_error", None)
    if page_error is None or not wants_page(request):
        return problem.response(_instance(request))
    correlation = str(problem.extensions.get("correlation_id", "")) if problem.status >= 500 else ""
    return await page_error(request, problem.status, correlation, problem.headers)  # type: ignore[no-any-return]


def problem_of(exc: Exception) -> Problem:
    """The one mapping of domain errors to problem documents (the pages have theirs in web/pages.py)."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, InvalidInput):
        return Problem("invalid-input", str(exc), errors=exc.errors)
    if isinstance(exc, InvalidProposal):
        if exc.unreadable:
            return Problem("malformed-request", str(exc))
        return Problem("invalid-proposal", str(exc), errors=exc.errors)
    if isinstance(exc, Conflict):
        return Problem("conflict", str(exc))
    if isinstance(exc, NotFound):
        return Problem("not-found", str(exc))
    if isinstance(exc, SnapshotError):
        return Problem("conflict", str(exc))
    raise TypeError(f"no problem type for {type(exc).__name__}")  # pragma: no cover - every raised kind is mapped


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    @app.exception_handler(InvalidInput)
    @app.exception_handler(InvalidProposal)
    @app.exception_handler(Conflict)
    @app.exception_handler(NotFound)
    @app.exception_handler(SnapshotError)
    async def on_problem(request: Request, exc: Exception) -> Response:
        return await answer(request, problem_of(exc))

    @app.exception_handler(RequestValidationError)
    async def on_invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ())]
            where = loc[0] if loc else ""
            name = loc[1] if len(loc) > 1 else where
            if where == "path":
                return await answer(request, Problem("not-found", "There is nothing at this address."))
            errors.append({"parameter": name, "detail": words(e, "parameter")})
        names = ", ".join(sorted({e["parameter"] for e in errors}))
        return await answer(request, Problem("malformed-request", f"Invalid query parameter(s): {names}.",
                                             errors=errors))

    @app.exception_handler(DataError)
    async def on_unstorable_value(request: Request, exc: DataError) -> Response:
        # A value the database refuses (PostgreSQL: text with U+0000) came from the request: the caller's to fix.
        correlation = uuid.uuid4().hex
        log.warning("unstorable value %s on %s %s: %s", correlation, request.method, request.url.path,
                    str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__)
        return await answer(request, Problem(
            "invalid-input", "The request has a value the database cannot store (such as the character U+0000 in a "
            "text); nothing was stored.", correlation_id=correlation,
            errors=[{"pointer": "", "detail": "contains a value that cannot be stored"}]))

    @app.exception_handler(OperationalError)
    async def on_database_down(request: Request, exc: OperationalError) -> Response:
        correlation = uuid.uuid4().hex
        log.error("database error %s on %s %s: %s", correlation, request.method, request.url.path, exc)
        return await answer(request, Problem(
            "unavailable", "The database cannot be reached or is busy; nothing was stored. Try again shortly.",
            headers={"Retry-After": "2", "X-Correlation-ID": correlation}, correlation_id=correlation))

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        slug = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated", 403: "forbidden",
                413: "body-too-large", 415: "unsupported-media-type", 406: "not-acceptable"}.get(exc.status_code)
        if slug is None:
            slug = "malformed-request" if exc.status_code < 500 else "internal-error"
        detail = {404: "There is nothing at this address.",
                  405: f"{request.method} is not allowed here."}.get(exc.status_code, str(exc.detail))
        return await answer(request, Problem(slug, detail, status=exc.status_code, headers=dict(exc.headers or {})))


class CatchAll:
    """Outermost guard: any failure becomes a 500 problem with a correlation id that is also logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            return
        except Exception as exc:  # noqa: BLE001 - the point of this guard
            correlation = uuid.uuid4().hex
            cause = exc.cause if isinstance(exc, InternalFault) and exc.cause else exc
            log.error("internal error %s on %s %s: %s", correlation, scope.get("method"), scope.get("path"),
                      exc, exc_info=cause)
            if started:
                return
            problem = Problem("internal-error", "The server failed to handle this request; nothing was stored. "
                              f"Quote correlation id {correlation} when you report it.",
                              headers={"X-Correlation-ID": correlation}, correlation_id=correlation)
            response: Response = problem_response(problem.body(scope.get("path")), 500, problem.headers)
            try:
                response = await answer(Request(scope), problem)
            except Exception:  # noqa: BLE001 - the error page failed too: the problem document it is
                log.error("error page failed for %s", correlation, exc_info=True)
            await response(scope, receive, send)
