"""Response models of the catalogue: rules, facts, the legal sources they cite."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...vocab import RuleEffect
from .base import Closed, Links, Text


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
    number: int = Field(description="The rule's number: a slim verdict names rules by it in its trace, in "
                                    "not_assessed and in its questions' rules (the position of the id in the ids "
                                    "sorted).")
    domain: str
    title: Text
    effect: RuleEffect
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


class QuestionDoc(Closed):
    fact: str = Field(description="The fact the question asks for: a verdict's questions[].fact.")
    question: Text
    rules: list[str] = Field(description="The rules that read the fact.")


class QuestionList(Closed):
    ruleset: Ruleset
    questions: list[QuestionDoc]
