"""Every case in the case base is a specification: the engine must give the verdict the law gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from biotoets.api.analysis.casebase import check_case, load_cases
from biotoets.api.documents.inputs import to_proposal

from ..conftest import TODAY

CASES = load_cases()
VERDICT_SCHEMA = Draft202012Validator(
    json.loads((Path(__file__).resolve().parents[2] / "schemas" / "verdict.schema.json").read_text(encoding="utf-8"))
)


def test_case_base_size_and_spread():
    assert len(CASES) >= 40
    verdicts = {c.expected["verdict"] for c in CASES}
    assert verdicts == {"allowed", "conditional", "prohibited"}
    assert any(c.as_of for c in CASES), "some cases look at the law of a past date"
    assert any(c.expected.get("questions") for c in CASES), "some cases are incomplete and expect questions"


@pytest.mark.parametrize("case", [c for c in CASES if c.scenario is None], ids=lambda c: c.id)
def test_case(engine, case):
    verdict = engine.evaluate(to_proposal(case.proposal), case.as_of or TODAY)
    assert check_case(case, verdict) == []
    VERDICT_SCHEMA.validate(verdict)


def test_a_case_base_run_does_not_compute_what_would_change_it(engine, monkeypatch):
    """A bulk run: explanations are computed only when someone asks for one verdict."""
    from datetime import date

    from biotoets.api.analysis.casebase import run_cases

    def asked(*args):
        raise AssertionError("explained in a bulk run")

    monkeypatch.setattr(engine.explainer, "changes", asked)
    cases = [c for c in CASES if c.scenario is None][:8]
    outcomes = run_cases(cases, lambda _scenario: engine, date(2025, 6, 1))
    assert all(o.verdict is not None for o in outcomes)
    assert [o.verdict["changes"] for o in outcomes] == [[]] * len(cases)
