"""Evaluate a proposal: durable_rules decides which rules fire, checked by the reference evaluator.

``Engine`` is the functional core's entry point: proposal + rule base + date
=> verdict. It owns compiled rulesets on a ``DurableHost``, which confines the
C engine to the thread that built the ``Engine``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

import orjson

from . import combine, reference
from .activities import several
from .compiler import GUARD, CompiledRuleBase, compile_rule_base
from .conditions import Truth
from .explain import Explainer
from .facts import flatten
from .host import FACT_ID, SID, DurableHost, EngineError
from .implications import apply_implications
from .model import RuleBase, Scenario
from .outcome import of_verdict, outcome
from .proposal import Proposal
from .slim import build_slim
from .verdict import Evaluation, build_verdict

ENGINE_VERSION = "1.0.0"


# A shard, ready to fire: its ruleset, the facts it reads, its fired-rule entries, its definite-only ruleset and
# that one's entries (see Engine.__init__).
_ShardPlan = tuple[str, tuple[str, ...], dict[str, "tuple[str, bool, dict[str, str]] | None"], str,
                   dict[str, "tuple[str, dict[str, str], dict[str, str]] | None"]]


def _trace_entry(ruleset: str, durable_name: str, rule_id: str, form: str) -> dict[str, str]:
    return {"ruleset": ruleset, "fired": durable_name, "rule": rule_id,
            "form": "definite" if form == "t" else "possible"}


class EngineDisagreement(EngineError):
    """durable_rules and the reference evaluator disagree: no verdict is given."""


class Engine:
    """A rule base compiled onto durable_rules, ready to evaluate proposals."""

    def __init__(self, base: RuleBase, name: str = "law", host: DurableHost | None = None,
                 scenario: Scenario | None = None, check_reference: bool = True, collapse: bool = True) -> None:
        self.base = base
        self.name = name
        self.scenario = scenario
        self.check_reference = check_reference
        # Run a shard's definite-only ruleset when every fact it reads is known (compiler: forms collapsed).
        self.collapse = collapse
        self.host = host or DurableHost()
        self.compiled: CompiledRuleBase = compile_rule_base(base, name)
        self.explainer = Explainer(base)
        # Per stratum, per shard, prebuilt so that the fire loop does one dict lookup per fired action: its
        # ruleset, the facts it reads, durable rule name -> (rule id, definite form?, its trace entry) with the
        # guard mapped to None, and the definite-only ruleset with durable rule name -> (rule id, the trace
        # entries of the definite and the possible form, in the order the full ruleset fires them).
        self._plan: list[tuple[list[_ShardPlan], list[tuple[str, tuple[str, ...]]]]] = []
        for stratum in self.compiled.strata:
            plans: list[_ShardPlan] = []
            for shard in stratum.shards:
                entries: dict[str, tuple[str, bool, dict[str, str]] | None] = {GUARD: None}
                both: dict[str, tuple[str, dict[str, str], dict[str, str]] | None] = {GUARD: None}
                for durable_name, (rule_id, form) in shard.forms.items():
                    entry = _trace_entry(shard.name, durable_name, rule_id, form)
                    entries[durable_name] = (rule_id, form == "t", entry)
                    if form == "t":
                        p_name = durable_name[:-1] + "p"
                        both[durable_name] = (rule_id, _trace_entry(shard.name, durable_name, rule_id, "t"),
                                              _trace_entry(shard.name, p_name, rule_id, "p"))
                plans.append((shard.name, shard.reads, entries, shard.definite_name, both))
            derives = [(f, tuple(self.compiled.derived_by[f])) for f in stratum.derives_after]
            self._plan.append((plans, derives))
        warm = orjson.dumps({"kind": "proposal", "as_of": 19000101, "sid": SID, "id": FACT_ID}).decode()
        for stratum in self.compiled.strata:
            for shard in stratum.shards:
                self.host.register(shard.name, orjson.dumps(shard.definition).decode(), warm)
                self.host.register(shard.definite_name, orjson.dumps(shard.definite_definition).decode(), warm)

    def close(self) -> None:
        for stratum in self.compiled.strata:
            for shard in stratum.shards:
                self.host.unregister(shard.name)
                self.host.unregister(shard.definite_name)

    # -- the durable_rules path -------------------------------------------------------------
    def fire(self, facts: Mapping[str, Any], on: date, tracing: bool = True) -> Evaluation:
        """Run the strata on durable_rules; return rule statuses, derived facts and the trace (left empty when
        not ``tracing``: bulk runs that read only the outcome)."""
        known = dict(facts)
        as_of = on.year * 10000 + on.month * 100 + on.day
        definite: set[str] = set()
        possible: set[str] = set()
        trace: list[dict[str, str]] = []
        append = trace.append
        derived: dict[str, Truth] = {}
        run = self.host.run
        dumps = orjson.dumps
        collapse = self.collapse
        for plans, derives in self._plan:
            for name, reads, entries, definite_name, both in plans:
                fact = {k: known[k] for k in reads if k in known}
                complete = collapse and len(fact) == len(reads)
                fact["kind"] = "proposal"
                fact["as_of"] = as_of
                fact["sid"] = SID
                fact["id"] = FACT_ID
                if complete:
                    # Every fact the shard reads is known: its definite forms alone, each one counted as its
                    # possible form too (with the trace entries the full ruleset gives).
                    for durable_name in dict.fromkeys(run(definite_name, dumps(fact).decode())):
                        pair = both[durable_name]
                        if pair is None:
                            continue  # the guard
                        definite.add(pair[0])
                        possible.add(pair[0])
                        if tracing:
                            append(pair[1].copy())
                            append(pair[2].copy())
                    continue
                # dict.fromkeys: an "$or" fires once per true branch; keep the first, in firing order.
                for durable_name in dict.fromkeys(run(name, dumps(fact).decode())):
                    entry = entries[durable_name]
                    if entry is None:
                        continue  # the guard
                    (definite if entry[1] else possible).add(entry[0])
                    if tracing:
                        append(entry[2].copy())
            for fact_name, rules in derives:
                if any(r in definite for r in rules):
                    derived[fact_name] = known[fact_name] = True
                elif any(r in possible for r in rules):
                    derived[fact_name] = None
                else:
                    derived[fact_name] = known[fact_name] = False
        statuses: dict[str, Truth] = dict.fromkeys(self.base.rules, False)
        for rid in possible:
            statuses[rid] = None
        for rid in definite:
            statuses[rid] = True
        if not definite <= possible:
            bad = sorted(definite - possible)
            raise EngineDisagreement(f"rules fired definitely but not possibly: {', '.join(bad)}")
        return Evaluation(dict(facts), statuses, derived, trace, on)

    def evaluate_facts(self, facts: Mapping[str, Any], on: date, tracing: bool = True) -> Evaluation:
        if facts.get("activity").__class__ is list:
            raise EngineError("the facts name several activities: evaluate each on its own "
                              "(activities.per_activity), or the proposal with Engine.evaluate")
        # Declared implications settle facts that were not given (questions.yaml); the trace shows them.
        facts, implied = apply_implications(self.base.gates, facts)
        result = self.fire(facts, on, tracing)
        if tracing:
            result.trace[:0] = [{"ruleset": "implications", "fired": f"{i['fact']}={i['value']}",
                                 "rule": i["implication"], "form": "implied"} for i in implied]
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

    def outcome(self, proposal: Proposal | Mapping[str, Any], on: date) -> dict[str, Any]:
        """The verdict's outcome alone (``outcome.outcome``): for bulk runs that compare outcomes. The same
        validation, durable_rules run and reference check as ``evaluate``; no grounds, questions or texts."""
        if not isinstance(proposal, Proposal):
            proposal = Proposal.model_validate(proposal)
        if several(proposal.activity):  # combined from one verdict per activity (combine.py)
            return of_verdict(self.evaluate(proposal, on, explain=False))
        return outcome(self.base, self.evaluate_facts(flatten(proposal), on, tracing=False))

    def evaluate(self, proposal: Proposal | Mapping[str, Any], on: date, lang: str = "en",
                 explain: bool = True, view: Literal["full", "slim"] = "full") -> dict[str, Any]:
        """The verdict JSON for one proposal as of a date: in the full form, or with ``view="slim"`` in the slim
        form (built directly: what is stored and answered by default).

        A proposal that is several activities is evaluated once per activity and the verdicts combined
        (``combine.verdicts``). ``explain=False`` leaves ``changes`` (what would change the verdict) empty: for
        bulk runs such as an impact analysis, which compare verdicts and never show them one by one.
        """
        if not isinstance(proposal, Proposal):
            proposal = Proposal.model_validate(proposal)
        each = several(proposal.activity)
        if each:  # several activities: the law for each applies (engine/combine.py)
            return combine.verdicts([(a, self.evaluate(proposal.model_copy(update={"activity": a}), on, lang=lang,
                                                         explain=explain)) for a in each])
        result = self.evaluate_facts(flatten(proposal), on)
        build = build_slim if view == "slim" else build_verdict
        return build(self.base, result, lang=lang, engine_version=ENGINE_VERSION,
                     scenario=self.scenario, explainer=self.explainer if explain else None)
