"""Policy scenarios over HTTP, for admins: list the scenarios and run an impact analysis on the case base.

An impact run builds two engines (today's rules and the scenario) and evaluates the whole case base, so it
runs in a separate process: the worker's one engine thread keeps serving checks meanwhile, and no engine
is ever touched from a second thread.
"""

# No ``from __future__ import annotations``: FastAPI resolves the route parameters' annotations at runtime.
import asyncio
import datetime as dt
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import Response

from biotoets.engine.loader import RuleLoadError
from biotoets.engine.scenarios import read_scenario, scenario_info, scenario_names

from .auth import Principal, Role
from .inputs import validation_problems
from .models import Closed, Text
from .problems import Problem

Effect = Literal["allowed", "conditional", "prohibited"]


class ScenarioSummary(Closed):
    id: str
    title: Text
    status: str
    description: Text
    source: str | None


class ScenarioList(Closed):
    scenarios: list[ScenarioSummary]
    disclaimer: str


class ImpactRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = Field(..., max_length=100, description="The scenario's id (see GET /v1/scenarios).")
    as_of: dt.date | None = Field(None, description="Date of the law compared, for cases without their own "
                                  "date (default: today).")


class ChangedCase(Closed):
    id: str
    from_: Effect = Field(..., alias="from")
    to: Effect
    could_become: list[Effect]
    rules_added: list[str]
    rules_removed: list[str]
    conditions_added: list[list[str]]
    conditions_removed: list[list[str]]


class ConditionCount(Closed):
    rule: str
    what: str
    cases: int


class ImpactScenario(Closed):
    id: str
    title: Text
    status: str
    description: Text
    source: str | None
    is_current_law: Literal[False]
    ruleset_hash: str | None


class ImpactReport(Closed):
    total: int
    changed: int
    matrix: dict[Effect, dict[Effect, int]]
    changes: list[ChangedCase]
    causes: dict[str, int]
    conditions_appear: list[ConditionCount]
    conditions_disappear: list[ConditionCount]
    errors: list[dict[str, str]]
    population: str
    scenario: ImpactScenario
    disclaimer: str


_POOL: ProcessPoolExecutor | None = None


def _pool() -> ProcessPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _POOL


def _run(scenario: str, today: dt.date, rules_dir: str | None) -> dict[str, Any]:
    """In the impact process: the case-base impact report (engines built and used on this process's thread)."""
    from .impact import run_cases

    return run_cases(scenario, None, today, Path(rules_dir) if rules_dir else None)


def add_routes(app: FastAPI) -> None:
    from .app import JSON, json_response, requires, secured, state_of
    from .openapi import problem_responses
    from .receive import media_type, read_body
    from .reviews import InvalidInput, body_schema

    admin = requires(Role.admin)

    def rules_dir(request: Request) -> Path | None:
        value = getattr(state_of(request).settings, "rules_dir", None)
        return Path(value) if value else None

    @app.get("/v1/scenarios", tags=["policy"], summary="The policy scenarios (proposed changes of the law)",
             response_model=None, responses={200: {"model": ScenarioList, "description": "Every shipped scenario "
                                                   "with its status; none of them is current law."},
                                             **problem_responses(401, 403, 500)},
             openapi_extra=secured())
    async def list_scenarios(request: Request,
                             principal: Annotated[Principal, Depends(admin)]) -> Response:
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

    @app.post("/v1/impact", tags=["policy"], summary="What a scenario changes on the case base, case by case",
              response_model=None,
              responses={200: {"model": ImpactReport, "description": "Transition matrix, every changed case with "
                               "the rules that caused it, conditions that appear or disappear."},
                         **problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 500)},
              openapi_extra={"requestBody": {"required": True, "content": {JSON: {"schema": body_schema(
                  ImpactRequest)}}}, **secured()})
    async def post_impact(request: Request, principal: Annotated[Principal, Depends(admin)]) -> Response:
        """Admins only. Runs the shipped case base under today's rules and under the scenario."""
        state_of(request).quota.spend(principal.key_id, "impact runs")
        kind = media_type(request)
        if kind != JSON and not kind.endswith("+json"):
            raise Problem("unsupported-media-type", f"Content-Type {kind!r} is not accepted here; send "
                          "application/json.", headers={"Accept": JSON})
        data = await read_body(request, 4_000)
        try:
            req = ImpactRequest.model_validate(orjson.loads(data))
        except orjson.JSONDecodeError as exc:
            raise Problem("malformed-request", f"The body is not valid JSON: {exc}.") from None
        except ValidationError as exc:
            raise InvalidInput([{"pointer": p["pointer"], "detail": p["message"]}
                                for p in validation_problems(exc)]) from None
        directory = rules_dir(request)
        if req.scenario not in scenario_names(directory):
            raise Problem("not-found", f"There is no scenario {req.scenario!r}; see GET /v1/scenarios.")
        today = req.as_of or dt.datetime.now(dt.UTC).date()
        loop = asyncio.get_running_loop()
        try:
            report = await loop.run_in_executor(_pool(), _run, req.scenario, today,
                                                str(directory) if directory else None)
        except RuleLoadError as exc:
            raise Problem("internal-error", f"The scenario does not load: {exc}") from None
        report.pop("throughput", None)
        return json_response(orjson.dumps(report))

