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

from biotoets.api.documents import slim, slim_v1
from biotoets.api.store import bases
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
    for key in ("verdict", "complete", "determined", "undetermined", "next_question", "could_become", "could_fall_to",
                "summary", "changes", "derived", "ruleset", "lang", "disclaimer"):
        assert readable[key] == full[key], key
    assert readable["checked"]["rules"] == full["checked"]["rules"]
    assert [g["rule"] for g in readable["grounds"]] == [g["rule"] for g in full["grounds"]]
    assert [g["rule"] for g in readable["possible_grounds"]] == [g["rule"] for g in full["possible_grounds"]]
    assert [g["title"] for g in readable["grounds"]] == [{"nl": g["rule"]} for g in full["grounds"]]
    assert [q["fact"] for q in readable["questions"]] == [q["fact"] for q in full["questions"]]
    assert [c["rule"] for c in readable["conditions"]] == [c["rule"] for c in full["conditions"]]
    numbers = {rid: n for n, rid in enumerate(sorted(base.rules))}
    assert [(s["ruleset"], s["fired"], s["form"]) for s in readable["trace"]] == \
        [(s["ruleset"], s["fired"], s["form"]) for s in full["trace"]]
    assert [s["rule"] for s in readable["trace"]] == \
        [s["rule"] if s["form"] == "implied" else f"#{numbers[s['rule']]}" for s in full["trace"]]


def test_a_verdict_stored_in_the_full_form_reads_as_it_is(engine: Engine, base: RuleBase) -> None:
    full = as_json(engine.evaluate(PLAIN, date(2026, 6, 1)))
    assert slim.full(full, base) == full == slim.full(full, None)
    assert slim.disclaimer(full) == full["disclaimer"]


def test_what_follows_from_the_rest_comes_back(engine: Engine, base: RuleBase) -> None:
    """Not determined yet: why, the scope questions, the next question, the rules waiting on a scope question
    with their text, the questions' depends_on -- left out of the slim form, made again by expanding it."""
    full = as_json(engine.evaluate({"title": "t", "activity": "basic_research"}, date(2026, 6, 1), lang="en"))
    assert full["determined"] is False and full["undetermined"] and full["not_assessed"]
    thin = as_json(slim.slim(full, base))
    SLIM_SCHEMA.validate(thin)
    assert not {"undetermined", "checked"} & set(thin) and thin["next_question"] == full["next_question"]
    assert all(set(g) == {"until", "domains", "rules"} for g in thin["not_assessed"])
    assert sum(sum(g["domains"].values()) for g in thin["not_assessed"]) == \
        sum(len(g["rules"]) for g in full["not_assessed"])
    assert slim.expand(thin, base) == full


def test_texts_that_are_not_the_engines_wording_keep_a_verdict_full(engine: Engine, base: RuleBase) -> None:
    """A full verdict whose made texts differ from the engine's (another engine's words) is not slimmed: its
    slim form would read differently. The store keeps it as it is."""
    full = as_json(engine.evaluate({"title": "t", "activity": "basic_research"}, date(2026, 6, 1), lang="en"))
    assert slim.exactly(full, base) is not None
    other = {**full, "not_assessed": [{**g, "text": {"nl": "anders", "en": "other words"}}
                                      for g in full["not_assessed"]]}
    assert slim.exactly(other, base) is None
    with bases.forgotten():
        bases.remember(base)
        assert bases.stored_form(other) == other
        assert bases.stored_form(full) == slim.slim(full, base)


def test_the_first_slim_form_still_reads(engine: Engine, base: RuleBase) -> None:
    """Checks stored in the first slim form (their rule base lost, so migration 0008 left them) read as before."""
    for doc in (GERMLINE, PLAIN, REPRODUCTIVE, {"title": "t", "activity": "basic_research"}):
        full = as_json(engine.evaluate(doc, date(2026, 6, 1), lang="nl"))
        first = as_json(slim_v1.slim(full, base))
        assert "checked" in first and slim.is_slim(first)
        assert slim.expand(first, base) == full
        assert slim.full(first, None) == slim_v1.readable(first)
        assert slim.applying(first) == slim.applying(full) == slim.applying(as_json(slim.slim(full, base)))
