"""Liveness, readiness, and what each problem type means."""

from __future__ import annotations

import asyncio
import logging

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from ..deps import database, json_response, state_of
from ..models.base import ProblemTypeDoc
from ..models.health import Health, Ready
from ..openapi import problem_responses
from ..problems import TYPES, Problem

router = APIRouter()

log = logging.getLogger("biotoets.api")

@router.get("/healthz", tags=["health"], summary="The process is up", response_model=Health)
async def healthz() -> Response:
    return json_response(b'{"status":"ok"}')


@router.get("/readyz", tags=["health"], summary="Rules compiled and database reachable",
         response_model=None, responses={200: {"model": Ready, "description": "Ready."},
                                         **problem_responses(503)})
async def readyz(request: Request) -> Response:
    st = state_of(request)
    if st.catalogue is None or not st.service.ready:
        raise Problem("unavailable", "The rules are not compiled yet.", headers={"Retry-After": "1"})
    db = database(request)
    try:
        await asyncio.to_thread(db.ping)
    except Exception as exc:  # noqa: BLE001 - any failure means: not ready
        log.warning("readiness: database unreachable: %s", exc)
        raise Problem("unavailable", "The database cannot be reached.", headers={"Retry-After": "5"}) from None
    return json_response(orjson.dumps({
        "status": "ready", "ruleset": st.catalogue.ruleset,
        "database": "sqlite" if db.is_sqlite else "postgresql", "schema_revision": st.revision,
    }))


@router.get("/problems/{slug}", tags=["problems"], summary="What a problem type means",
         response_model=ProblemTypeDoc, responses=problem_responses(404))
async def problem_type(slug: str) -> Response:
    kind = TYPES.get(slug)
    if kind is None:
        raise Problem("not-found", f"There is no problem type {slug!r}.")
    return json_response(orjson.dumps({"type": kind.uri, "title": kind.title, "status": kind.status,
                                       "explanation": kind.explanation}))
