"""Errors as RFC 9457 problem details (``application/problem+json``).

Each kind of problem has a stable ``type`` (a relative URI the API also
serves, with an explanation), a short ``title`` and an HTTP status. Field
errors carry the JSON pointer of the field and a message a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response

MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    explanation: str

    @property
    def uri(self) -> str:
        return f"/problems/{self.slug}"


_TYPES = [
    ProblemType("malformed-request", 400, "The request cannot be read",
                "The body is not valid JSON (or YAML), or a query parameter or header has a value the API "
                "does not understand. The detail and the errors say which one and why."),
    ProblemType("unauthenticated", 401, "An API key is needed",
                "Send a valid API key as 'Authorization: Bearer <key>'. Keys are made with "
                "'biotoets keys create --role ROLE --name NAME'. A revoked, expired or mistyped key is refused."),
    ProblemType("forbidden", 403, "Your role may not do this",
                "The key is valid, but its role does not allow this request. Applicants create and read "
                "their own checks; assessors read every check; admins manage keys."),
    ProblemType("not-found", 404, "Not found",
                "There is nothing at this address that your key may see. A check that belongs to someone "
                "else is reported as not found, too."),
    ProblemType("method-not-allowed", 405, "Method not allowed",
                "This address does not accept this HTTP method; the Allow header lists the ones it does."),
    ProblemType("not-acceptable", 406, "Not acceptable", "The API answers in JSON only."),
    ProblemType("body-too-large", 413, "The request body is too large",
                "The body is larger than the limit of this server. A proposal is a few kilobytes."),
    ProblemType("unsupported-media-type", 415, "Unsupported content type",
                "Send the proposal as 'Content-Type: application/json' (or application/yaml), in UTF-8."),
    ProblemType("invalid-proposal", 422, "The proposal does not match the proposal schema",
                "One or more fields are invalid. Each entry in 'errors' has the JSON pointer of a field and "
                "what is wrong with it. The schema is at /v1/schemas/proposal."),
    ProblemType("invalid-input", 422, "The request body is not valid",
                "A review, or answers to an assessor's questions, has fields that are missing or wrong. Each "
                "entry in 'errors' has the JSON pointer of a field and what is wrong with it."),
    ProblemType("idempotency-key-reused", 422, "This Idempotency-Key was used for another request",
                "A check was already stored with this Idempotency-Key, for a different proposal (or date or "
                "language). Sending a request again with its key returns the check it stored; a new proposal "
                "needs a new key."),
    ProblemType("conflict", 409, "Not possible in the check's current state",
                "The check's review status does not allow this step (for example: a confirmed check cannot be "
                "overridden, and answers are accepted only after an assessor asked for information). The "
                "detail names the current status and what is possible from it."),
    ProblemType("rate-limited", 429, "Too many failed authentications",
                "Too many requests with an invalid API key came from your address in a short time. Requests "
                "that carry a key are refused until the time in the Retry-After header (seconds) has passed."),
    ProblemType("internal-error", 500, "Internal error",
                "Something failed inside the server. Nothing was stored. The correlation_id identifies the "
                "failure in the server's log; quote it when you report the problem."),
    ProblemType("unavailable", 503, "Service unavailable",
                "The server is starting, is too busy to queue another evaluation, or cannot reach its database. "
                "Nothing was stored. Try again after the seconds in the Retry-After header."),
]
TYPES: dict[str, ProblemType] = {t.slug: t for t in _TYPES}


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(self, slug: str, detail: str, *, status: int | None = None,
                 errors: Sequence[Mapping[str, Any]] | None = None, headers: Mapping[str, str] | None = None,
                 **extensions: Any) -> None:
        super().__init__(detail)
        self.kind = TYPES[slug]
        self.status = status or self.kind.status
        self.detail = detail
        self.errors = list(errors or [])
        self.headers = dict(headers or {})
        self.extensions = extensions

    def body(self, instance: str | None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": self.kind.uri,
            "title": self.kind.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extensions)
        return doc

    def response(self, instance: str | None) -> Response:
        return problem_response(self.body(instance), self.status, self.headers)


def problem_response(body: Mapping[str, Any], status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=dict(headers or {}))
