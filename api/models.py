"""Response models of the HTTP API, for the OpenAPI document.

Handlers build their JSON directly (a verdict is tens of kilobytes and is
served as stored); these models describe that JSON, and the tests validate
every response against the OpenAPI document generated from them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Effect = Literal["allowed", "conditional", "prohibited"]
VerdictDocument = Annotated[
    dict[str, Any],
    WithJsonSchema({"allOf": [{"$ref": "#/components/schemas/Verdict"}], "description": "The verdict document."}),
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


# -- checks ------------------------------------------------------------------------------------
class Links(Closed):
    self: str


class Check(Closed):
    """A stored check."""

    id: str = Field(description="The check's id (a UUID).")
    status: Literal["submitted", "in_review", "confirmed", "overridden", "information_requested"] = Field(
        description="Where the check stands in an assessor's review; a new check is 'submitted'.")
    owner: str = Field(description="Id of the API key that created the check.")
    created_at: str = Field(description="When the check was stored (RFC 3339, UTC).")
    as_of: str = Field(description="The date whose law was applied.")
    lang: Literal["en", "nl"]
    scenario: str | None = Field(description="Policy scenario evaluated instead of current law, if any.")
    ruleset_hash: str = Field(description="Content hash of the rule files that gave the verdict.")
    engine_version: str
    proposal_media_type: str = Field(description="Content type the proposal was sent with.")
    links: Links
    proposal: ProposalDocument
    verdict: VerdictDocument


class VerdictSummary(Closed):
    verdict: Effect
    complete: bool
    could_become: Effect
    could_fall_to: Effect


class CheckSummary(Closed):
    id: str
    status: str
    owner: str
    created_at: str
    title: str | None = Field(description="The proposal's title, if it has one.")
    as_of: str
    lang: Literal["en", "nl"]
    scenario: str | None
    ruleset_hash: str
    engine_version: str
    verdict: VerdictSummary
    links: Links


class PageLinks(Closed):
    next: str | None = Field(description="The next page, or null on the last page.")


class CheckPage(Closed):
    items: list[CheckSummary]
    next_cursor: str | None = Field(description="Pass as 'cursor' to get the next page; null on the last page.")
    links: PageLinks


# -- catalogue -----------------------------------------------------------------------------------
class Citation(Closed):
    source: str
    source_title: Text
    citation: str
    article: str
    article_summary: Text
    identifier: str | None
    url: str | None
    quote: str | None
    binding: bool
    verified: bool


class Ruleset(Closed):
    hash: str = Field(description="Content hash of the rule files.")
    engine_version: str
    rules: int
    sources: int


class RuleSummary(Closed):
    id: str
    domain: str
    title: Text
    effect: Literal["allowed", "conditional", "prohibited", "advice", "derive"]
    derives: str | None = Field(None, description="For classification rules: the fact they establish.")
    valid_from: str
    valid_to: str | None
    citations: list[Citation]
    links: Links


class RuleFact(Closed):
    fact: str
    question: Text | None
    derived: bool


class RuleCondition(Closed):
    what: Text
    authority: Text
    citation: Citation


class RuleDetail(RuleSummary):
    file: str
    when: dict[str, Any] = Field(description="The condition, as written in the rule file.")
    facts: list[RuleFact]
    conditions: list[RuleCondition]
    exceptions: list[str] = Field(description="Rules that set this rule aside once they apply.")
    exception_to: list[str] = Field(description="Rules this rule sets aside.")
    explanation: Text | None
    open_norm: Text | None
    transitional: Text | None
    notes: str | None


class RuleList(Closed):
    ruleset: Ruleset
    rules: list[RuleSummary]


class RuleDocument(Closed):
    ruleset: Ruleset
    rule: RuleDetail


class Article(Closed):
    article: str
    summary: Text
    url: str | None
    quote: str | None
    verified: bool


class SourceDoc(Closed):
    id: str
    title: Text
    citation: str
    identifier: str | None
    url: str | None
    kind: str
    binding: bool
    status: str
    valid_from: str | None
    valid_to: str | None
    verification: str | None
    articles: list[Article]
    notes: str | None


class SourceList(Closed):
    ruleset: Ruleset
    sources: list[SourceDoc]


# -- health ----------------------------------------------------------------------------------------
class Health(Closed):
    status: Literal["ok"]


class Ready(Closed):
    status: Literal["ready"]
    ruleset: Ruleset
    database: Literal["sqlite", "postgresql"]
    schema_revision: str
