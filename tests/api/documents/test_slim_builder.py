"""The slim verdict built directly (engine/slim.build_slim) is today's verdict: expanded, it equals what the builder
before it gave (kept as the oracle, tests/engine/verdict_oracle.py), on the case base and on generated proposals,
in both languages, on several dates, under a scenario, with and without "what would change it" -- and it is what
slimming that full verdict gives, so a check stored either way reads the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from biotoets.api.analysis.casebase import load_cases
from biotoets.api.analysis.generate import generate_proposals
from biotoets.api.documents import slim
from biotoets.engine.activities import per_activity
from biotoets.engine.evaluate import ENGINE_VERSION, Engine
from biotoets.engine.facts import flatten
from biotoets.engine.model import RuleBase
from biotoets.engine.proposal import Proposal
from biotoets.engine.scenarios import load_scenario, scenario_names
from biotoets.engine.slim import build_slim
from biotoets.engine.verdict import build_verdict

from ...engine.verdict_oracle import oracle_verdict
from ..helpers import GERMLINE

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
SLIM_SCHEMA = Draft202012Validator(json.loads((SCHEMAS / "verdict-slim.schema.json").read_text(encoding="utf-8")))
DATES = (date(2021, 1, 1), date(2025, 6, 1), date(2026, 6, 1), date(2031, 1, 1))


def as_json(value: Any) -> Any:
    """What a reader gets back from storage."""
    return orjson.loads(orjson.dumps(value))


def compare(engine: Engine, doc: dict[str, Any], on: date, lang: str, explain: bool) -> None:
    base = engine.base
    kw: dict[str, Any] = {"lang": lang, "engine_version": ENGINE_VERSION, "scenario": engine.scenario,
                          "explainer": engine.explainer if explain else None}
    for facts in per_activity(flatten(Proposal.model_validate(doc))):  # several activities: each on its own
        ev = engine.evaluate_facts(facts, on)
        want = as_json(oracle_verdict(base, ev, **kw))
        thin = as_json(build_slim(base, ev, **kw))
        SLIM_SCHEMA.validate(thin)
        assert slim.expand(thin, base) == want
        assert as_json(build_verdict(base, ev, **kw)) == want
        assert slim.slim(want, base) == thin


def test_case_base_in_both_languages(engine: Engine) -> None:
    cases = [c for c in load_cases() if c.scenario is None]
    assert len(cases) > 200
    for i, case in enumerate(cases):
        for lang in ("nl", "en"):
            compare(engine, case.proposal, case.as_of or DATES[i % len(DATES)], lang, explain=i % 9 == 0)


def test_generated_proposals_on_several_dates(engine: Engine) -> None:
    docs = generate_proposals(160, seed=17) + generate_proposals(40, seed=5, complete=True)
    for i, doc in enumerate(docs):
        compare(engine, doc, DATES[i % len(DATES)], "nl" if i % 2 else "en", explain=i % 11 == 0)


@pytest.fixture(scope="module")
def scenario_engine() -> Iterator[Engine]:
    base, scenario = load_scenario(scenario_names()[0])
    engine = Engine(base, name=f"scenario/{scenario.id}", scenario=scenario)
    yield engine
    engine.close()


def test_under_a_scenario(scenario_engine: Engine) -> None:
    for i, doc in enumerate(generate_proposals(40, seed=23)):
        compare(scenario_engine, doc, date(2027, 1, 1), "nl" if i % 2 else "en", explain=False)


def test_the_engine_answers_slim_as_it_is_built(engine: Engine, base: RuleBase) -> None:
    doc = generate_proposals(1, seed=2)[0]
    thin = engine.evaluate(doc, date(2026, 6, 1), lang="nl", explain=False, view="slim")
    assert thin["view"] == "slim" and thin["lang"] == "nl"
    assert slim.expand(as_json(thin), base) == as_json(engine.evaluate(doc, date(2026, 6, 1), lang="nl",
                                                                       explain=False))


def test_slim_verdicts_and_their_texts_share_no_mutable_parts(engine: Engine, base: RuleBase) -> None:
    doc = GERMLINE
    first = engine.evaluate(doc, date(2026, 6, 1), lang="nl", explain=False, view="slim")
    second = engine.evaluate(doc, date(2026, 6, 1), lang="nl", explain=False, view="slim")
    texts = slim.texts(first, base)
    assert first == second and texts == slim.texts(second, base) and texts is not None and texts["conditions"]
    for part in ("not_assessed", "questions", "conditions", "grounds"):
        for item in first[part]:
            if isinstance(item, dict):
                item.clear()
    for conditions in texts["conditions"].values():
        for c in conditions:
            c["what"] = "changed"
    texts["rules"].clear()
    again = engine.evaluate(doc, date(2026, 6, 1), lang="nl", explain=False, view="slim")
    assert again == second and slim.texts(again, base) == slim.texts(second, base)
