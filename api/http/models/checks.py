"""Response models of stored checks and their lists."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...vocab import CheckStatus, Effect, Lang
from .base import Closed, Links, ProposalDocument, VerdictDocument


# -- checks ------------------------------------------------------------------------------------
class Decision(Closed):
    """An assessor's final decision on a check."""

    decision: Literal["confirm", "override"] = Field(description="confirm: the automated verdict stands; "
                                                     "override: the assessor replaced it.")
    verdict: Effect = Field(description="The verdict that stands.")
    reason: str | None = Field(description="The assessor's reason (always given for an override).")
    at: str = Field(description="When the decision was recorded (RFC 3339, UTC).")


class Check(Closed):
    """A stored check."""

    id: str = Field(description="The check's id (a UUID).")
    case_number: str | None = Field(description="The check's case number (BT-000123): it never changes.")
    revision: int = Field(description="Which evaluation of the check this is (1 = the first; each re-evaluation "
                          "after new answers adds one).")
    reference: str | None = Field(description="Case number and revision together (BT-000123/2): names this "
                                  "evaluation of the check.")
    status: CheckStatus = Field(
        description="Where the check stands in an assessor's review; a check stored through the API is "
                    "'submitted'; 'draft': the applicant's private result from the web form, not yet submitted.")
    final_verdict: Effect | None = Field(description="The verdict that stands after an assessor's decision "
                                         "(confirmed or overridden); null until then.")
    decision: Decision | None = Field(description="The assessor's final decision; null until there is one.")
    owner: str = Field(description="Id of the API key that created the check.")
    created_at: str = Field(description="When the check was stored (RFC 3339, UTC).")
    as_of: str = Field(description="The date whose law was applied.")
    lang: Lang
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
    lang: Lang
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
