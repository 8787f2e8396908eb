"""The slim verdict: it expands back to exactly the full verdict it was made from, with the rule base the verdict
was evaluated under; it matches its schema; and without its rule base it still reads."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from biotoets.api.documents import slim
from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import load_rule_base
from biotoets.engine.model import RuleBase

from ...strategies import proposals
from ..helpers import GERMLINE, PLAIN, REPRODUCTIVE

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
SLIM_SCHEMA = Draft202012Validator(json.loads((SCHEMAS / "verdict-slim.schema.json").read_text(encoding="utf-8")))
FULL_SCHEMA = Draft202012Validator(json.loads((SCHEMAS / "verdict.schema.json").read_text(encoding="utf-8")))
SOME = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
dates = st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31))


def as_json(value: Any) -> Any:
    """What a reader gets back from storage."""
    return orjson.loads(orjson.dumps(value))


@SOME
@given(proposals(), dates, st.sampled_from(["nl", "en"]), st.booleans())
def test_expanding_a_slim_verdict_gives_back_the_full_verdict(engine: Engine, base: RuleBase, proposal: dict[str, Any],
                                                              on: date, lang: str, explain: bool) -> None:
    full = as_json(engine.evaluate(proposal, on, lang=lang, explain=explain))
    thin = as_json(slim.slim(full, base, lang))
    SLIM_SCHEMA.validate(thin)
    assert slim.expand(thin, base) == full
    assert slim.slim(thin, base) == thin and slim.expand(full, base) == full  # each form stays what it is
    assert len(orjson.dumps(thin)) < len(orjson.dumps(full))


def test_the_expanded_form_is_the_full_schema(engine: Engine, base: RuleBase) -> None:
    for doc in (GERMLINE, PLAIN, REPRODUCTIVE):
        full = engine.evaluate(doc, date(2026, 6, 1), lang="nl")
        thin = as_json(slim.slim(full, base))
        FULL_SCHEMA.validate(slim.expand(thin, base))
        assert thin["lang"] == "nl" and thin["disclaimer"] == full["disclaimer"]["nl"]


def test_a_verdict_is_never_slimmed_or_expanded_with_another_rule_base(engine: Engine, base: RuleBase,
                                                                      rules_copy: Path) -> None:
    (rules_copy / "germline.yaml").write_text((rules_copy / "germline.yaml").read_text(encoding="utf-8")
                                              .replace("Ban on reproductive germline modification", "Other words"),
                                              encoding="utf-8")
    other = load_rule_base(rules_copy)
    full = engine.evaluate(REPRODUCTIVE, date(2026, 6, 1))
    message = (f"the verdict was evaluated under ruleset {base.digest[:12]}, not {other.digest[:12]}")
    with pytest.raises(slim.WrongRuleBase, match=message):
        slim.slim(full, other)
    with pytest.raises(slim.WrongRuleBase, match=message):
        slim.expand(slim.slim(full, base), other)


def test_without_its_rule_base_a_slim_verdict_reads_in_its_own_language(engine: Engine, base: RuleBase) -> None:
    full = as_json(engine.evaluate(GERMLINE, date(2026, 6, 1), lang="nl"))
    readable = slim.full(as_json(slim.slim(full, base)), None)
    for key in ("verdict", "complete", "could_become", "could_fall_to", "summary", "changes", "derived", "checked",
                "trace", "ruleset", "lang", "disclaimer"):
        assert readable[key] == full[key], key
    assert [g["rule"] for g in readable["grounds"]] == [g["rule"] for g in full["grounds"]]
    assert [g["rule"] for g in readable["possible_grounds"]] == [g["rule"] for g in full["possible_grounds"]]
    assert [g["title"] for g in readable["grounds"]] == [{"nl": g["title"]["nl"]} for g in full["grounds"]]
    assert [q["question"] for q in readable["questions"]] == [{"nl": q["question"]["nl"]} for q in full["questions"]]
    assert [c["what"] for c in readable["conditions"]] == [{"nl": c["what"]["nl"]} for c in full["conditions"]]


def test_a_verdict_stored_in_the_full_form_reads_as_it_is(engine: Engine, base: RuleBase) -> None:
    full = as_json(engine.evaluate(PLAIN, date(2026, 6, 1)))
    assert slim.full(full, base) == full == slim.full(full, None)
    assert slim.disclaimer(full) == full["disclaimer"]


def test_the_relevance_fields_come_back_as_they_were(engine: Engine, base: RuleBase) -> None:
    """determined, undetermined, next_question, not_assessed, questions' tier and depends_on, conditions'
    if_refused (issue 14): per-verdict fields and texts, kept inline through the slim form."""
    full = as_json(engine.evaluate(GERMLINE, date(2026, 6, 1), lang="en"))
    text = {"nl": "Nog niet genoeg informatie.", "en": "Not enough information yet."}
    full.update(determined=False, undetermined={"reason": text, "scope_questions": ["animal.involved"]},
                next_question=full["questions"][0]["fact"],
                not_assessed=[{"until": ["animal.involved"], "domains": ["animals"],
                               "rules": ["animals.licence-refused"], "text": text}])
    for i, q in enumerate(full["questions"]):
        q.update(tier="ABCD"[i % 4], depends_on=["human.embryo"] if i else [])
    full["conditions"][0]["if_refused"] = {"rules": ["germline.embryo-research"], "text": text}
    thin = as_json(slim.slim(full, base))
    SLIM_SCHEMA.validate(thin)
    assert thin["undetermined"] == full["undetermined"] and thin["not_assessed"] == full["not_assessed"]
    assert thin["conditions"][0]["if_refused"] == full["conditions"][0]["if_refused"]
    assert [q["tier"] for q in thin["questions"]] == [q["tier"] for q in full["questions"]]
    assert slim.expand(thin, base) == full
