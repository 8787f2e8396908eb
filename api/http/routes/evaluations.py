"""POST /v1/evaluations: evaluate a proposal, store nothing."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from ...documents import slim
from ...store import bases
from ..deps import (
    COMMON_PROBLEMS,
    JSON,
    AnyRoleOrOpen,
    AsOf,
    Include,
    LangQ,
    View,
    evaluate,
    json_response,
    secured,
    state_of,
)
from ..openapi import problem_responses, proposal_body
from ..receive import choose_lang, receive_proposal

router = APIRouter()


@router.post(
    "/v1/evaluations", tags=["evaluate"], summary="Evaluate a proposal (nothing is stored)",
    response_model=None, status_code=200,
    responses={200: {"description": "The verdict: slim (the default) or, with ?view=full, full.",
                     "content": {JSON: {"schema": {"oneOf": [{"$ref": "#/components/schemas/SlimVerdict"},
                                                             {"$ref": "#/components/schemas/Verdict"}]}}}},
               **problem_responses(*COMMON_PROBLEMS)},
    openapi_extra={**proposal_body("The proposal, as JSON (or YAML)."), **secured(optional=True)},
)
async def post_evaluation(request: Request, principal: AnyRoleOrOpen,
                          as_of: AsOf = None, lang: LangQ = None, include: Include = None,
                          view: View = "slim") -> Response:
    """Evaluate a proposal against the law of a date and return the verdict. Nothing is stored.

    "What would change it" (`changes`) is computed only with `?include=changes`; otherwise it is an empty list.
    The verdict is slim unless `?view=full` asks for every text in both languages.

    Every role may evaluate; the server can be configured to allow this without a key.
    """
    received = await receive_proposal(request, state_of(request).settings.max_body_bytes)
    chosen = choose_lang(lang, request.headers.get("accept-language"))
    verdict = await evaluate(request, received, as_of, chosen, explain=include == "changes", view=view)
    if view == "slim":
        verdict = bases.stored_form(verdict)  # (slim as the engine builds it; a verdict it built full is slimmed)
        texts = slim.texts(verdict, state_of(request).service.base)
        if texts is not None:  # the texts of what it names, in its language, beside it
            verdict["texts"] = texts
    return json_response(orjson.dumps(verdict), headers={"Content-Language": chosen})
