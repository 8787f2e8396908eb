"""What every route takes from the request: the app's state, the caller's key, the database, the engine.

The dependencies are plain functions over the request (``state_of``, ``database``, ``evaluate``) and
``Annotated[..., Depends()]`` aliases for the roles a route admits (``Applicant``, ``Assessor``, ...), so a route
module imports what it needs from here and nothing from the factory.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, Header, Query, Request
from starlette.responses import Response

from biotoets.engine.host import EngineError

from .. import observability as obs
from ..engines.service import EngineBusy, EngineNotReady, EngineService
from ..faults import InternalFault
from ..settings import Settings
from ..store import checks
from ..store import db as dbm
from ..store.keys import KeyCache, Principal, Role
from ..vocab import LANGS, Lang, today
from .catalogue import Catalogue
from .openapi import SECURITY_SCHEME
from .problems import Problem
from .quota import KeyQuota
from .ratelimit import FailureLimiter
from .receive import ReceivedProposal, media_type, read_body

log = logging.getLogger("biotoets.api")

JSON = "application/json"


@dataclass
class AppState:
    settings: Settings
    service: EngineService
    keys: KeyCache
    db: dbm.Database | None = None
    writer: checks.CheckWriter | None = None
    catalogue: Catalogue | None = None
    schemas: dict[str, bytes] = field(default_factory=dict)
    revision: str = ""
    # Failed authentications per client address (http/ratelimit.py).
    limiter: FailureLimiter = field(default_factory=lambda: FailureLimiter(0, 0))
    # Costly calls per key (http/quota.py).
    quota: KeyQuota = field(default_factory=lambda: KeyQuota(0, 1))


def state_of(request: Request) -> AppState:
    return request.app.state.biotoets  # type: ignore[no-any-return]


def json_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def wants_page(request: Request) -> bool:
    """A request a page answers (an error then gets an error page, not a problem document): the address is not
    one of the API's, and it is where the pages live (``page_areas``, set by the web) or a browser asked for it."""
    path = request.url.path
    api = path.startswith(("/v1/", "/problems/", "/docs", "/static/")) or path in (
        "/v1", "/metrics", "/healthz", "/readyz", "/openapi.json")
    if api:
        return False
    areas: frozenset[str] = getattr(request.app.state, "page_areas", frozenset())
    return "/" + path.split("/")[1] in areas or "text/html" in request.headers.get("accept", "")


async def json_body(request: Request, limit: int, *, refuse_empty: bool = True) -> Any:
    """The body of a request that must be JSON (a review, answers, an impact request), parsed."""
    kind = media_type(request)
    if kind != JSON and not kind.endswith("+json"):
        raise Problem("unsupported-media-type", f"Content-Type {kind!r} is not accepted here; send "
                      "application/json.", headers={"Accept": JSON})
    data = await read_body(request, limit)
    if refuse_empty and not data.strip():
        raise Problem("malformed-request", "The body is empty; send a JSON object.")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Problem("malformed-request", f"The body is not valid JSON: {exc}.") from None


# -- authentication ----------------------------------------------------------------------------
def bearer_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Problem("unauthenticated", "The Authorization header must be 'Bearer <key>'.",
                      headers={"WWW-Authenticate": 'Bearer realm="biotoets"'})
    return key.strip()


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def _refuse_if_limited(st: AppState, client: str) -> None:
    retry = st.limiter.retry_after(client)
    if retry is not None:
        obs.AUTH_LIMITED.inc()
        raise Problem("rate-limited", f"Too many requests with an invalid API key came from your address; "
                      f"try again in {retry} s.", headers={"Retry-After": str(retry)})


def _auth_failed(st: AppState, client: str) -> None:
    obs.AUTH_FAILURES.inc()
    if st.limiter.failed(client):
        log.warning("failed authentication: %d invalid keys from %s within %d s; refusing keys from it for now",
                    st.limiter.limit, client, st.limiter.window)


async def resolve_limited(request: Request, key: str) -> Principal | None:
    """The key's principal, or None -- under the failed-authentication limit (a 429 problem for a refused
    address). The API and the web sign-in both verify keys through this."""
    st = state_of(request)
    assert st.db is not None
    found, known = st.keys.get(key)
    if not found or known is None:  # only a key this process has already verified passes a refused address
        _refuse_if_limited(st, _client(request))
    principal = await st.keys.resolve(key, st.db)
    if principal is None:
        _auth_failed(st, _client(request))
    return principal


async def principal_of(request: Request, optional: bool = False) -> Principal | None:
    st = state_of(request)
    try:
        key = bearer_key(request)
    except Problem:  # a malformed Authorization header is a failed authentication too
        _refuse_if_limited(st, _client(request))
        _auth_failed(st, _client(request))
        raise
    if key is None:
        if optional:
            return None
        raise Problem("unauthenticated", "This request needs an API key: send 'Authorization: Bearer <key>'.",
                      headers={"WWW-Authenticate": 'Bearer realm="biotoets"'})
    if st.db is None:
        raise Problem("unavailable", "The server is starting; try again shortly.", headers={"Retry-After": "1"})
    principal = await resolve_limited(request, key)
    if principal is None:
        raise Problem("unauthenticated", "The API key is not valid (mistyped, unknown, revoked or expired).",
                      headers={"WWW-Authenticate": 'Bearer realm="biotoets", error="invalid_token"'})
    return principal


def requires(*roles: Role, open_setting: str | None = None) -> Callable[[Request], Awaitable[Principal | None]]:
    """A dependency that admits the given roles (and, if the setting is on, callers without a key)."""

    async def dependency(request: Request) -> Principal | None:
        optional = bool(open_setting and getattr(state_of(request).settings, open_setting))
        principal = await principal_of(request, optional=optional)
        if principal is None:
            return None
        if principal.role not in roles:
            may = " or ".join(r.value for r in roles)
            raise Problem("forbidden", f"A key with role {principal.role.value!r} may not do this; "
                          f"it needs role {may}.")
        return principal

    return dependency


any_role = requires(Role.applicant, Role.assessor, Role.admin, open_setting="open_evaluations")
applicant = requires(Role.applicant)
assessor = requires(Role.assessor)
reader = requires(Role.applicant, Role.assessor)
auditor = requires(Role.assessor, Role.admin)
admin = requires(Role.admin)
any_key = requires(Role.applicant, Role.assessor, Role.admin)

# The caller, as a route parameter: ``principal: Applicant``.
AnyRoleOrOpen = Annotated[Principal | None, Depends(any_role)]
Applicant = Annotated[Principal, Depends(applicant)]
Assessor = Annotated[Principal, Depends(assessor)]
Reader = Annotated[Principal, Depends(reader)]
Auditor = Annotated[Principal, Depends(auditor)]
Admin = Annotated[Principal, Depends(admin)]
AnyKey = Annotated[Principal, Depends(any_key)]


def secured(optional: bool = False) -> dict[str, Any]:
    return {"security": [{SECURITY_SCHEME: []}] + ([{}] if optional else [])}


# -- the service's pieces, from request state ---------------------------------------------------
def database(request: Request) -> dbm.Database:
    st = state_of(request)
    if st.db is None:
        raise Problem("unavailable", "The database is not open yet.", headers={"Retry-After": "1"})
    return st.db


def writer(request: Request) -> checks.CheckWriter:
    st = state_of(request)
    if st.writer is None:
        raise Problem("unavailable", "The database is not open yet.", headers={"Retry-After": "1"})
    return st.writer


def catalogue(request: Request) -> Catalogue:
    st = state_of(request)
    if st.catalogue is None:
        raise Problem("unavailable", "The rules are not loaded yet.", headers={"Retry-After": "1"})
    return st.catalogue


async def evaluate(request: Request, received: ReceivedProposal, as_of: dt.date | None,
                   lang: str, explain: bool = False, view: Literal["full", "slim"] = "full") -> dict[str, Any]:
    """The verdict of a received proposal: in the full form (pages) or the slim form (stored; the API's
    default), each built directly."""
    try:
        return await state_of(request).service.evaluate(received.proposal, as_of or today(), lang, explain, view)
    except EngineNotReady:
        raise Problem("unavailable", "The rules are still being compiled; try again shortly.",
                      headers={"Retry-After": "1"}) from None
    except EngineBusy as busy:
        raise Problem("unavailable", f"The server is busy: {busy.waiting} evaluations are already waiting. Nothing "
                      "was evaluated or stored; try again in a moment.", headers={"Retry-After": "1"}) from None
    except EngineError as exc:
        raise InternalFault("the engine gave no verdict", exc) from exc


AsOf = Annotated[dt.date | None, Query(description="Apply the law of this date (YYYY-MM-DD); default: today "
                                                   "in the Netherlands.")]
LangQ = Annotated[Lang | None, Query(description="Language of the verdict's texts; default: from "
                                                 "Accept-Language, else English.")]
Include = Annotated[Literal["changes"] | None, Query(
    description="'changes': also compute what would change the verdict (the verdict's 'changes' list). It is "
                "computed on demand only: without it 'changes' is an empty list.")]
ViewName = Literal["slim", "full"]
View = Annotated[ViewName, Query(
    description="'slim' (the default): the verdict refers to rules, sources and questions by id, with their texts "
                "in the verdict's language; their other texts (citations, explanations, open norms) are in the "
                "catalogue (/v1/rules, /v1/sources) -- schema /v1/schemas/verdict-slim. 'full': every text in "
                "both languages, as the rule base the verdict was made with has them -- schema /v1/schemas/verdict.")]
COMMON_PROBLEMS = (400, 401, 403, 413, 415, 422, 500, 503)
IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=200, pattern=r"^[!-~]+$",
    description="Any text of 1-200 visible ASCII characters, new for each new proposal (a UUID will do). "
                "Sent again with the same request -- after a lost answer, a dropped connection, a timeout -- "
                "it returns the check that request stored (with 'Idempotent-Replayed: true') instead of "
                "storing another; with a different request it is refused (422, idempotency-key-reused).")]


# -- the same parameters, read without FastAPI's validation (the lean route of POST /v1/checks) ----------------
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_KEY = re.compile(r"[!-~]{1,200}")  # IdempotencyKey's rule: 1-200 visible ASCII characters
_CHECK_QUERY = frozenset({"as_of", "lang", "view"})


def plain_check_params(request: Request) -> tuple[dt.date | None, Lang | None, str | None, ViewName] | None:
    """``as_of``, ``lang``, the Idempotency-Key and ``view`` of a request in which each is absent or plainly valid
    (a YYYY-MM-DD date, a language of ``LANGS``, slim or full, a key as ``IdempotencyKey`` wants it; each at most
    once), read as FastAPI would read them; None for anything else: FastAPI's own handler then reads them and
    answers a wrong one with its problem document, as it always has."""
    as_of: dt.date | None = None
    lang: Lang | None = None
    view: ViewName = "slim"
    query = request.scope.get("query_string")
    if query:
        seen: set[str] = set()
        for name, value in request.query_params.multi_items():
            if name not in _CHECK_QUERY:
                continue  # FastAPI ignores parameters a route does not take
            if name in seen:
                return None
            seen.add(name)
            if name == "as_of":
                if not _PLAIN_DATE.fullmatch(value):
                    return None
                try:
                    as_of = dt.date.fromisoformat(value)
                except ValueError:
                    return None
            elif name == "lang":
                if value not in LANGS:
                    return None
                lang = value
            elif value == "full":
                view = "full"
            elif value != "slim":
                return None
    key: str | None = None
    for name, value in request.scope["headers"]:
        if name == b"idempotency-key":
            if key is not None:
                return None
            key = value.decode("latin-1")
            if not _PLAIN_KEY.fullmatch(key):
                return None
    return as_of, lang, key, view
