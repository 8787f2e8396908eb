"""Policy scenarios over HTTP, for admins: list the scenarios and run an impact analysis on the case base.

An impact run builds two engines (today's rules and the scenario) and evaluates the whole case base, so it
runs in a separate process: the worker's one engine thread keeps serving checks meanwhile, and no engine
is ever touched from a second thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from biotoets.engine.loader import RuleLoadError
from biotoets.engine.scenarios import read_scenario, scenario_info, scenario_names

from ...documents.inputs import validation_problems
from ...faults import InvalidInput
from ...vocab import today as vocab_today
from ..deps import JSON, Admin, json_body, json_response, secured, state_of
from ..models.base import Text
from ..models.impact import ImpactReport, ImpactRequest, ScenarioList, ScenarioSummary
from ..openapi import body_schema, problem_responses
from ..problems import Problem

_POOL: ProcessPoolExecutor | None = None


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _POOL


def _run(scenario: str, today: dt.date, rules_dir: str | None) -> dict[str, Any]:
    """In the impact process: the case-base impact report (engines built and used on this process's thread)."""
    from ...analysis.impact import run_cases

    return run_cases(scenario, None, today, Path(rules_dir) if rules_dir else None)


router = APIRouter()


def rules_dir(request: Request) -> Path | None:
    value = getattr(state_of(request).settings, "rules_dir", None)
    return Path(value) if value else None

@router.get("/v1/scenarios", tags=["policy"], summary="The policy scenarios (proposed changes of the law)",
         response_model=None, responses={200: {"model": ScenarioList, "description": "Every shipped scenario "
                                               "with its status; none of them is current law."},
                                         **problem_responses(401, 403, 500)},
         openapi_extra=secured())
async def list_scenarios(request: Request,
                         principal: Admin) -> Response:
    """Admins only."""
    directory = rules_dir(request)
    out = []
    for name in scenario_names(directory):
        try:
            info = scenario_info(read_scenario(name, directory)[0])
        except RuleLoadError as exc:
            raise Problem("internal-error", f"Scenario {name} does not load: {exc}") from None
        out.append(ScenarioSummary(id=info.id, title=Text(**info.title.as_dict()), status=info.status,
                                   description=Text(**info.description.as_dict()), source=info.source))
    body = ScenarioList(scenarios=out, disclaimer="Scenarios model proposed changes; they are not current law.")
    return json_response(orjson.dumps(body.model_dump(mode="json")))

@router.post("/v1/impact", tags=["policy"], summary="What a scenario changes on the case base, case by case",
          response_model=None,
          responses={200: {"model": ImpactReport, "description": "Transition matrix, every changed case with "
                           "the rules that caused it, conditions that appear or disappear."},
                     **problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 500)},
          openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": body_schema(
              ImpactRequest)}}}, **secured()})
async def post_impact(request: Request, principal: Admin) -> Response:
    """Admins only. Runs the shipped case base under today's rules and under the scenario."""
    state_of(request).quota.spend(principal.key_id, "impact runs")
    doc = await json_body(request, 4_000, refuse_empty=False)
    try:
        req = ImpactRequest.model_validate(doc)
    except ValidationError as exc:
        raise InvalidInput([{"pointer": p["pointer"], "detail": p["message"]}
                            for p in validation_problems(exc)]) from None
    directory = rules_dir(request)
    if req.scenario not in scenario_names(directory):
        raise Problem("not-found", f"There is no scenario {req.scenario!r}; see GET /v1/scenarios.")
    today = req.as_of or vocab_today()
    loop = asyncio.get_running_loop()
    try:
        report = await loop.run_in_executor(_pool(), _run, req.scenario, today,
                                            str(directory) if directory else None)
    except RuleLoadError as exc:
        raise Problem("internal-error", f"The scenario does not load: {exc}") from None
    report.pop("throughput", None)
    return json_response(orjson.dumps(report))

