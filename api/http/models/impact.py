"""Response and request models of policy scenarios and impact analysis."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...vocab import Effect
from .base import Closed, Text


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
