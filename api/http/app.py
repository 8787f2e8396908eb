"""The FastAPI application: routes under /v1, health, errors as problem+json.

``create_app()`` is the factory uvicorn calls in each worker process. Its
lifespan opens the database (migrating it if allowed), compiles the rules on
the process's engine thread and builds the catalogue; requests then only
parse, send the proposal to the engine thread, and store.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from biotoets.engine.evaluate import ENGINE_VERSION

from .. import observability as obs
from ..engines.service import EngineService
from ..settings import Settings
from ..store import checks, receipts
from ..store import db as dbm
from ..store.keys import KeyCache
from ..web.site import add_web
from .catalogue import Catalogue
from .deps import AppState, admin
from .errors import CatchAll, add_error_handlers
from .hardening import RelativeRedirects
from .openapi import add_docs_routes, build_openapi, load_schema
from .quota import KeyQuota
from .ratelimit import FailureLimiter
from .routes import audit, catalogue, evaluations, health, impact, reviews
from .routes import checks as check_routes
from .routes import receipts as receipt_routes

log = logging.getLogger("biotoets.api")

DESCRIPTION = """\
Pre-check a biotechnology proposal under Dutch and EU law: **allowed**, **conditional** or **prohibited**,
with the legal grounds cited article by article, the conditions to fulfil and the questions still open.

**Decision support, not legal advice.** Every verdict carries a disclaimer; ask the competent authority
for a decision.

Authenticate with `Authorization: Bearer <key>`; keys are made with `biotoets keys create --role ROLE --name NAME`.
Errors are RFC 9457 problem documents (`application/problem+json`).
"""

# In the order they have always been registered: the API, the review workflow; then the pages; then policy.
ROUTERS = (evaluations.router, check_routes.router, catalogue.router, health.router, reviews.router,
           receipt_routes.router, audit.router)


# -- the application -------------------------------------------------------------------------------
def _startup(settings: Settings) -> tuple[dbm.Database, str]:
    db = dbm.Database(settings.database_url, settings.sqlite_synchronous)
    if settings.migrate_on_start:
        dbm.upgrade(db)
    revision = dbm.current_revision(db) or ""
    if revision != dbm.head_revision():
        db.dispose()
        raise RuntimeError(f"the database schema is at revision {revision or 'none'}, this server needs "
                           f"{dbm.head_revision()}: run 'biotoets db upgrade'")
    return db, revision


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app (uvicorn calls this in every worker process)."""
    settings = settings or Settings.from_env()
    st = AppState(settings=settings, service=EngineService(settings.rules_dir, settings.engine_queue_limit),
                  keys=KeyCache(settings.key_cache_seconds, settings.key_standing_seconds),
                  limiter=FailureLimiter(settings.auth_failure_limit, settings.auth_failure_window_seconds),
                  quota=KeyQuota(settings.key_quota, settings.key_quota_window_seconds))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db, st.revision = await asyncio.to_thread(_startup, settings)
        writer = checks.CheckWriter(db, committed=obs.CHECK_COMMIT_SIZE.observe)
        st.db, st.writer = db, writer
        try:
            await st.service.start()
            assert st.service.base is not None
            st.catalogue = Catalogue.build(st.service.base, ENGINE_VERSION)
            # Keep the rule files a stored check is evaluated with, before the first check is stored (replay).
            await asyncio.to_thread(receipts.keep_snapshot, db, st.service.base)
            for name in ("proposal", "verdict", "verdict-slim"):
                schema = load_schema(name)
                if schema is not None:
                    st.schemas[name] = orjson.dumps(schema, option=orjson.OPT_INDENT_2)
            log.info("biotoets API ready: ruleset %s, %s", st.catalogue.ruleset["hash"][:12],
                     "SQLite" if db.is_sqlite else "PostgreSQL")
            # What start-up built (rules, compiled engine, catalogue, imports) lives as long as the process: move
            # it out of the collector's generations so later collections do not walk it again (5-10 % CPU).
            gc.collect()
            gc.freeze()
            yield
        finally:
            await st.service.stop()
            await asyncio.to_thread(writer.close)
            st.writer = None
            db.dispose()
            st.db = None
            st.catalogue = None

    app = FastAPI(
        title="biotoets", version=ENGINE_VERSION, description=DESCRIPTION, lifespan=lifespan,
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",  # /docs: add_docs_routes, without a CDN
        openapi_tags=[
            {"name": "evaluate", "description": "Evaluate without storing."},
            {"name": "checks", "description": "Stored checks: create, read, list."},
            {"name": "review", "description": "Assessors' review of stored checks, receipts, replay, audit log."},
            {"name": "catalogue", "description": "The rules and the legal sources they cite (public)."},
            {"name": "schemas", "description": "JSON Schemas of proposals and verdicts (public)."},
            {"name": "health", "description": "Liveness and readiness."},
            {"name": "problems", "description": "Explanations of the error types."},
        ],
    )
    app.state.biotoets = st
    for router in ROUTERS:
        app.include_router(router)
    add_web(app)  # the web pages (web/)
    app.include_router(impact.router)  # policy scenarios and impact analysis, for admins
    add_docs_routes(app)
    obs.add_metrics_route(app, None if settings.metrics_public else admin)  # GET /metrics
    add_error_handlers(app)
    app.add_middleware(CatchAll)
    app.add_middleware(RelativeRedirects)  # http/hardening.py
    if settings.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, www_redirect=False,
                           allowed_hosts=[*settings.trusted_hosts, "127.0.0.1", "localhost", "[::1]"])
    app.add_middleware(obs.Observe, access=settings.access_log)  # outermost: request id, metrics, access log

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
