"""Annex I codes keep their form: category digit, product group A-E, three digits, optional dotted sub-items."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from biotoets.api.documents.answers import ANNEX_CODE
from biotoets.engine.loader import load_rule_base
from biotoets.engine.proposal import Proposal


@pytest.mark.parametrize("code", ["1C351", "1C353", "2B352", "1E001", "1C351.a.1", "1C991.b", "2B352.f.2"])
def test_well_formed_codes_are_accepted(code: str) -> None:
    Proposal.model_validate({"export": {"dual_use_items": [code]}})
    assert ANNEX_CODE.match(code)


@pytest.mark.parametrize("code", ["1C35", "1F351", "C1351", "1C351..a", "1C351.", "1c351", "1C351 a", "1C351.abcd"])
def test_malformed_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError):
        Proposal.model_validate({"export": {"dual_use_items": [code]}})
    assert not ANNEX_CODE.match(code)


def test_the_biotech_list_is_well_formed_and_titled() -> None:
    base = load_rule_base()
    codes = base.lists["biotech_dual_use_codes"].values
    assert {"1C351", "1C353", "1C354", "2B352", "1E001"} <= set(codes)
    assert all(ANNEX_CODE.match(c) for c in codes)
    kinds = base.lists["dual_use_item_kinds_listed"].values
    assert "other_unlisted" not in kinds and "human_animal_pathogen" in kinds
