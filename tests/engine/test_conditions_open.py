"""``conditions.open_facts`` (one pass) gives what its plain definition gives: the unknown facts under the parts
of a condition that are themselves undecided -- on every rule of the rule base, over generated facts."""

from __future__ import annotations

from typing import Any

from biotoets.api.analysis.generate import generate_proposals
from biotoets.engine.conditions import Leaf, Node, Not, kleene, open_facts
from biotoets.engine.facts import flatten
from biotoets.engine.model import RuleBase
from biotoets.engine.proposal import Proposal


def plain_open_facts(node: Node, facts: dict[str, Any]) -> set[str]:
    """The definition: nothing if the condition is decided; else the open facts of each undecided part."""
    if kleene(node, facts) is not None:
        return set()
    if isinstance(node, Leaf):
        return {node.fact}
    if isinstance(node, Not):
        return plain_open_facts(node.item, facts)
    out: set[str] = set()
    for part in node.items:
        out |= plain_open_facts(part, facts)
    return out


def test_open_facts_is_its_plain_definition(base: RuleBase) -> None:
    undecided = 0
    for unknown in (0.2, 0.5, 0.8):
        for doc in generate_proposals(40, seed=31, unknown=unknown):
            facts = flatten(Proposal.model_validate(doc))
            for rule in base.rules.values():
                want = plain_open_facts(rule.when, facts)
                assert open_facts(rule.when, facts) == want, rule.id
                undecided += bool(want)
    assert undecided > 1000  # the undecided conditions were tried, not only decided ones
