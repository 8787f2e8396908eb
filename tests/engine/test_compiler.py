"""The compiler emits only the safe durable_rules subset and rejects what it cannot express safely."""

from __future__ import annotations

import json

import pytest
import yaml

from biotoets.engine import compiler
from biotoets.engine import conditions as cond
from biotoets.engine.compiler import CompileError, compile_rule_base, path_bound, slots, translate
from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import load_rule_base


def all_keys(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from all_keys(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from all_keys(v)


def test_every_pattern_starts_with_the_kind_test_and_uses_whitelisted_operators(base):
    compiled = compile_rule_base(base)
    for stratum in compiled.strata:
        for shard in stratum.shards:
            assert "_guard" in shard.definition
            for name, rule in shard.definition.items():
                (pattern,) = rule["all"]
                expr = pattern["p"]
                first = expr["$and"][0] if "$and" in expr else expr
                assert first == {"kind": "proposal"}, name
                for key in all_keys(expr):
                    if key.startswith("$"):
                        assert key in compiler.SAFE_OPERATORS, key
                    assert key not in ("id", "sid", "$not", "$in")
                assert slots(expr) <= compiler.MAX_SLOTS


def test_shards_respect_the_sibling_budget(base):
    compiled = compile_rule_base(base)
    for stratum in compiled.strata:
        for shard in stratum.shards:
            cost = sum(2 * path_bound(cond.nnf(base.rules[rid].when)) for rid, form in shard.forms.values()
                       if form == "t")
            assert cost <= compiler.SHARD_PATH_BUDGET


def test_all_unknown_proposal_fires_every_possible_form_without_error(engine, base):
    """With every fact unknown all "possibly" forms match at once: the shards keep durable_rules under 64."""
    from datetime import date

    result = engine.fire({}, date(2026, 11, 28))
    in_force = [r for r in base.rules.values() if r.in_force(date(2026, 11, 28))]
    may = [rid for rid, s in result.statuses.items() if s is None]
    assert len(may) >= len(in_force) // 2


def test_definite_and_possible_forms():
    leaf = cond.Leaf("human.embryo", "eq", True)
    assert translate(leaf, False) == {"human.embryo": True}
    assert translate(leaf, True) == {"$or": [{"human.embryo": True}, {"$nex": {"human.embryo": 1}}]}
    member = cond.Leaf("technique", "in", ("crispr", "cloning"))
    assert translate(member, True) == {
        "$or": [{"technique": "crispr"}, {"technique": "cloning"}, {"$nex": {"technique": 1}}]
    }


def test_negation_never_reaches_the_engine():
    tree = cond.Not(cond.All((cond.Leaf("a", "eq", True), cond.Leaf("n", "gt", 14))))
    out = json.dumps(translate(cond.nnf(tree), False))
    assert "$not" not in out
    assert json.loads(out) == {"$or": [{"$neq": {"a": True}}, {"$lte": {"n": 14}}]}


def test_validity_is_part_of_the_pattern(base):
    rule = base.rules["germline.clinical-trial-ban"]
    pattern = compiler.pattern(rule, possible=False)
    assert {"$gte": {"as_of": 20220131}} in pattern["$and"]


def _write_rule(rules_copy, when):
    doc = yaml.safe_load((rules_copy / "xeno.yaml").read_text(encoding="utf-8"))
    doc["rules"].append({
        "id": "xeno.too-big", "title": {"nl": "te groot", "en": "too big"}, "effect": "allowed",
        "when": when, "valid_from": "2000-01-01",
    })
    (rules_copy / "xeno.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def test_too_many_expression_slots_is_rejected_at_load(rules_copy):
    # Facts whose questions have no gate, so that loading (which proves the gates sound) lets the rule through
    # to the compiler.
    facts = ["human.embryo", "human.gametes", "human.somatic_cells", "human.subjects", "animal.involved",
             "plant.involved", "gmo.microorganism", "gmo.viral_vector", "medicine.medicinal_product",
             "knowledge.sensitive_technology", "export.intangible_transfer"]
    more = [{"fact": "activity", "eq": "basic_research"}, {"fact": "technique", "eq": "crispr"},
            {"fact": "transplant.source", "eq": "animal"}, {"fact": "gmo.use", "eq": "contained"},
            {"fact": "partners.count", "gt": 0}]
    _write_rule(rules_copy, {"all": [{"fact": f, "eq": True} for f in facts] + more})
    with pytest.raises(CompileError) as info:
        Engine(load_rule_base(rules_copy))
    assert info.value.rule == "xeno.too-big"
    assert "expression slots" in info.value.reason


def test_too_many_alternative_paths_is_rejected(rules_copy):
    pairs = [{"any": [{"fact": "human.embryo", "eq": True}, {"fact": "human.gametes", "eq": True}]} for _ in range(5)]
    _write_rule(rules_copy, {"all": pairs})
    with pytest.raises(CompileError) as info:
        compile_rule_base(load_rule_base(rules_copy))
    assert "alternative paths" in info.value.reason


def test_strata_follow_derived_facts(base):
    compiled = compile_rule_base(base)
    level_of = {}
    for stratum in compiled.strata:
        for shard in stratum.shards:
            for rid, _ in shard.forms.values():
                level_of[rid] = stratum.level
    assert level_of["germline.classify-modification"] < level_of["germline.reproductive-ban"]
    assert level_of["xeno.classify-xenotransplantation"] < level_of["xeno.ban"]
