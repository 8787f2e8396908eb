"""Evaluate a proposal: durable_rules decides which rules fire, checked by the reference evaluator.

``Engine`` is the functional core's entry point: proposal + rule base + date
=> verdict. It owns compiled rulesets on a ``DurableHost``, which confines the
C engine to the thread that built the ``Engine``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson

from . import reference
from .compiler import GUARD, CompiledRuleBase, compile_rule_base
from .conditions import Truth
from .explain import Explainer
from .facts import flatten
from .host import FACT_ID, SID, DurableHost, EngineError
from .implications import apply_implications
from .model import RuleBase, Scenario
from .proposal import Proposal
from .verdict import Evaluation, build_verdict

ENGINE_VERSION = "1.0.0"


class EngineDisagreement(EngineError):
    """durable_rules and the reference evaluator disagree: no verdict is given."""


class Engine:
    """A rule base compiled onto durable_rules, ready to evaluate proposals."""

    def __init__(self, base: RuleBase, name: str = "law", host: DurableHost | None = None,
                 scenario: Scenario | None = None, check_reference: bool = True) -> None:
        self.base = base
        self.name = name
        self.scenario = scenario
        self.check_reference = check_reference
        self.host = host or DurableHost()
        self.compiled: CompiledRuleBase = compile_rule_base(base, name)
        self.explainer = Explainer(base)
        # Per ruleset: durable rule name -> (rule id, definite form?, its trace entry), prebuilt so that the fire
        # loop does one dict lookup per fired action; the guard maps to None.
        self._fired: dict[str, dict[str, tuple[str, bool, dict[str, str]] | None]] = {}
        for stratum in self.compiled.strata:
            for shard in stratum.shards:
                entries: dict[str, tuple[str, bool, dict[str, str]] | None] = {GUARD: None}
                for durable_name, (rule_id, form) in shard.forms.items():
                    entries[durable_name] = (rule_id, form == "t", {
                        "ruleset": shard.name, "fired": durable_name, "rule": rule_id,
                        "form": "definite" if form == "t" else "possible"})
                self._fired[shard.name] = entries
        warm = orjson.dumps({"kind": "proposal", "as_of": 19000101, "sid": SID, "id": FACT_ID}).decode()
        for stratum in self.compiled.strata:
            for shard in stratum.shards:
                self.host.register(shard.name, orjson.dumps(shard.definition).decode(), warm)

    def close(self) -> None:
        for stratum in self.compiled.strata:
            for shard in stratum.shards:
                self.host.unregister(shard.name)

    # -- the durable_rules path -------------------------------------------------------------
    def fire(self, facts: Mapping[str, Any], on: date) -> Evaluation:
        """Run the strata on durable_rules; return rule statuses, derived facts and the trace."""
        known = dict(facts)
        as_of = on.year * 10000 + on.month * 100 + on.day
        definite: set[str] = set()
        possible: set[str] = set()
        trace: list[dict[str, str]] = []
        derived: dict[str, Truth] = {}
        run = self.host.run
        dumps = orjson.dumps
        fired_entries = self._fired
        for stratum in self.compiled.strata:
            for shard in stratum.shards:
                fact = {k: known[k] for k in shard.reads if k in known}
                fact["kind"] = "proposal"
                fact["as_of"] = as_of
                fact["sid"] = SID
                fact["id"] = FACT_ID
                entries = fired_entries[shard.name]
                # dict.fromkeys: an "$or" fires once per true branch; keep the first, in firing order.
                for durable_name in dict.fromkeys(run(shard.name, dumps(fact).decode())):
                    entry = entries[durable_name]
                    if entry is None:
                        continue  # the guard
                    (definite if entry[1] else possible).add(entry[0])
                    trace.append(entry[2].copy())
            for name in stratum.derives_after:
                rules = self.compiled.derived_by[name]
                if any(r in definite for r in rules):
                    derived[name] = known[name] = True
                elif any(r in possible for r in rules):
                    derived[name] = None
                else:
                    derived[name] = known[name] = False
        statuses: dict[str, Truth] = {
            rid: True if rid in definite else None if rid in possible else False for rid in self.base.rules
        }
        if not definite <= possible:
            bad = sorted(definite - possible)
            raise EngineDisagreement(f"rules fired definitely but not possibly: {', '.join(bad)}")
        return Evaluation(dict(facts), statuses, derived, trace, on)

    def evaluate_facts(self, facts: Mapping[str, Any], on: date) -> Evaluation:
        # Declared implications settle facts that were not given (questions.yaml); the trace shows them.
        facts, implied = apply_implications(self.base.gates, facts)
        result = self.fire(facts, on)
        result.trace[:0] = [{"ruleset": "implications", "fired": f"{i['fact']}={i['value']}", "rule": i["implication"],
                             "form": "implied"} for i in implied]
        if self.check_reference:
            ref_status, ref_derived = reference.rule_statuses(self.base, facts, on)
            if ref_status != result.statuses or ref_derived != result.derived:
                diff = sorted(
                    rid for rid in set(ref_status) | set(result.statuses)
                    if ref_status.get(rid) != result.statuses.get(rid)
                )
                diff += sorted(
                    f"derived:{f}" for f in set(ref_derived) | set(result.derived)
                    if ref_derived.get(f) != result.derived.get(f)
                )
                raise EngineDisagreement(
                    "durable_rules and the reference evaluator disagree on: " + ", ".join(diff)
                    + "; no verdict is given"
                )
        return result

    def evaluate(self, proposal: Proposal | Mapping[str, Any], on: date, lang: str = "en",
                 explain: bool = True) -> dict[str, Any]:
        """The verdict JSON for one proposal as of a date.

        ``explain=False`` leaves ``changes`` (what would change the verdict) empty: for bulk runs such as an
        impact analysis, which compare verdicts and never show them one by one.
        """
        if not isinstance(proposal, Proposal):
            proposal = Proposal.model_validate(proposal)
        result = self.evaluate_facts(flatten(proposal), on)
        return build_verdict(self.base, result, lang=lang, engine_version=ENGINE_VERSION,
                             scenario=self.scenario, explainer=self.explainer if explain else None)
