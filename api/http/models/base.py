"""Response models of the HTTP API, for the OpenAPI document.

Handlers build their JSON directly (a verdict is tens of kilobytes and is
served as stored); these models describe that JSON, and the tests validate
every response against the OpenAPI document generated from them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

VerdictDocument = Annotated[
    dict[str, Any],
    WithJsonSchema({"oneOf": [{"$ref": "#/components/schemas/SlimVerdict"}, {"$ref": "#/components/schemas/Verdict"}],
                    "description": "The verdict document: slim (the default) or, with ?view=full, full."}),
]
ProposalDocument = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "description": "The proposal as received (parsed from JSON or YAML)."}),
]


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Text(Closed):
    nl: str
    en: str


# -- problems ----------------------------------------------------------------------------------
class FieldProblem(Closed):
    pointer: str | None = Field(None, description="JSON pointer (RFC 6901) of the field in the request body.")
    parameter: str | None = Field(None, description="The query parameter or header that is wrong.")
    detail: str = Field(description="What is wrong, in words.")


class ProblemDetails(Closed):
    """An error (RFC 9457)."""

    type: str = Field(description="A URI reference that names the kind of problem; GET it for an explanation.")
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, description="The request path.")
    errors: list[FieldProblem] | None = Field(None, description="Each invalid field or parameter.")
    correlation_id: str | None = Field(None, description="For internal errors: the id of the entry in the server log.")
    max_bytes: int | None = Field(None, description="For a body that is too large: the limit in bytes.")


class ProblemTypeDoc(Closed):
    type: str
    title: str
    status: int
    explanation: str


class Links(Closed):
    self: str
