"""The public catalogue: rules, the legal sources they cite, and the JSON Schemas."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ...vocab import RuleEffect
from ..deps import catalogue, json_response, state_of
from ..models.catalogue import QuestionList, RuleDocument, RuleList, SourceList
from ..openapi import problem_responses
from ..problems import Problem

router = APIRouter()


@router.get("/v1/rules", tags=["catalogue"], summary="The rules, with their citations",
         response_model=None, responses={200: {"model": RuleList, "description": "Every rule."},
                                         **problem_responses(400, 503)})
async def list_rules(
    request: Request,
    domain: Annotated[str | None, Query(max_length=100, description="Only rules of this domain.")] = None,
    effect: Annotated[RuleEffect | None,
                      Query(description="Only rules with this effect.")] = None,
) -> Response:
    """Every rule in the rule base: id, title, effect, validity and the articles it rests on. Public."""
    cat = catalogue(request)
    if domain is not None and domain not in cat.domains:
        raise Problem("malformed-request", f"There is no domain {domain!r}.",
                      errors=[{"parameter": "domain", "detail": "one of " + ", ".join(cat.domains)}])
    return json_response(cat.rules_document(domain, effect))


@router.get("/v1/rules/{rule_id}", tags=["catalogue"], summary="One rule, as a lawyer reads it",
         response_model=None, responses={200: {"model": RuleDocument, "description": "The rule."},
                                         **problem_responses(404, 503)})
async def get_rule(request: Request, rule_id: str) -> Response:
    """A rule with its condition, the facts it reads (with their questions), conditions, exceptions
    and citations. Public."""
    body = catalogue(request).rule_details.get(rule_id)
    if body is None:
        raise Problem("not-found", f"There is no rule {rule_id!r}; GET /v1/rules lists them.")
    return json_response(body)


@router.get("/v1/sources", tags=["catalogue"], summary="The legal sources the rules cite",
         response_model=None, responses={200: {"model": SourceList, "description": "Every source."},
                                         **problem_responses(503)})
async def list_sources(request: Request) -> Response:
    """Every law, regulation, treaty and policy document in the registry, with its articles. Public."""
    return json_response(catalogue(request).sources)


@router.get("/v1/questions", tags=["catalogue"], summary="The questions a verdict may ask, by fact",
         response_model=None, responses={200: {"model": QuestionList, "description": "Every question."},
                                         **problem_responses(503)})
async def list_questions(request: Request) -> Response:
    """Every fact a verdict may ask about, with its question in both languages and the rules that read it: the
    texts of a slim verdict's `questions` (by `fact`). Public."""
    return json_response(catalogue(request).questions)


schema_response = {"description": "A JSON Schema (draft 2020-12).",
                   "content": {"application/schema+json": {"schema": {"type": "object"}}}}


@router.get("/v1/schemas/{name}", tags=["schemas"], summary="The JSON Schema of a proposal or a verdict",
         response_model=None, responses={200: schema_response, **problem_responses(404)})
async def get_schema(request: Request, name: Literal["proposal", "verdict", "verdict-slim"]) -> Response:
    """``proposal``: what to send. ``verdict-slim``: what comes back by default; ``verdict``: what comes back with
    ``?view=full``. Public."""
    body = state_of(request).schemas.get(name)
    if body is None:
        raise Problem("not-found", f"The {name} schema is not available on this server.")
    return Response(body, media_type="application/schema+json")
