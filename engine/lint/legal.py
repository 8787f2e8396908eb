"""Legal-fidelity checks: a verdict is raised only by binding law that says so, and scope only as the law draws it.

Four checks over a loaded rule base, each a finding a rule author must fix:

* ``binding-effect-missing`` -- a cited article has no ``binding_effect`` in the source registry, so nobody
  can tell whether it bans, requires or only informs;
* ``non-binding-only`` -- a prohibiting or conditioning rule rests only on non-binding sources (guidance,
  advice, policy letters, bills) or only on articles that inform: such text is advice, not a ground;
* ``binding-support`` -- a prohibiting rule cites no binding article that prohibits (or prohibits unless a
  permit is granted), or a conditioning rule none that requires something (or prohibits unless);
* ``scope-basis`` -- a rule reads ``activity`` or ``purpose`` for a value that no ``scope_basis`` entry names,
  or an entry points at an article the rule does not cite: a label may narrow a rule only where the cited
  article itself names that activity or purpose.

The checks return plain ``(check, subject, message)`` triples; ``lint_report`` wraps them as its findings.
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import conditions as cond
from ..model import Citation, Rule, RuleBase

# Which article effects can carry which verdict effect.
SUPPORTS = {
    "prohibited": frozenset({"prohibits", "prohibits_unless"}),
    "conditional": frozenset({"requires", "prohibits_unless"}),
}
SCOPED_FACTS = ("activity", "purpose")
LegalFinding = tuple[str, str, str]


def _cited(rule: Rule) -> list[Citation]:
    return list(rule.citations) + [c.citation for c in rule.conditions]


def missing_binding_effect(base: RuleBase) -> list[LegalFinding]:
    """Every cited article must say what it does in law."""
    out: list[LegalFinding] = []
    seen: set[tuple[str, str]] = set()
    for rule in sorted(base.rules.values(), key=lambda r: r.id):
        for c in _cited(rule):
            key = (c.source, c.article)
            if key in seen:
                continue
            seen.add(key)
            if base.sources[c.source].articles[c.article].binding_effect is None:
                out.append(("binding-effect-missing", f"{c.source} {c.article}",
                            f"cited by {rule.id}, but the article has no binding_effect in sources.yaml"))
    return out


def _binding_effects(base: RuleBase, rule: Rule) -> list[str | None]:
    """The binding_effect of every article the rule cites from a binding source."""
    return [base.sources[c.source].articles[c.article].binding_effect
            for c in rule.citations if base.sources[c.source].binding]


def unsupported_effects(base: RuleBase) -> list[LegalFinding]:
    """A prohibiting or conditioning rule needs a binding article whose own effect supports it."""
    out: list[LegalFinding] = []
    for rule in sorted(base.rules.values(), key=lambda r: r.id):
        wanted = SUPPORTS.get(rule.effect)
        if wanted is None:
            continue
        effects = _binding_effects(base, rule)
        if not effects or all(e == "informs" for e in effects):
            out.append(("non-binding-only", rule.id,
                        f"'{rule.effect}' rests only on non-binding text; make it advice or cite the binding "
                        "article that says so"))
            continue
        if not any(e in wanted for e in effects):
            have = ", ".join(sorted({str(e) for e in effects}))
            out.append(("binding-support", rule.id,
                        f"'{rule.effect}' needs a binding article that {' or '.join(sorted(wanted))}; "
                        f"the binding articles cited only {have}"))
    return out


def _scoped_values(rule: Rule) -> Iterable[tuple[str, tuple[str, ...]]]:
    for leaf in cond.leaves(rule.when):
        if leaf.fact in SCOPED_FACTS:
            values = leaf.value if isinstance(leaf.value, tuple) else (() if leaf.value is None else (leaf.value,))
            yield leaf.fact, tuple(str(v) for v in values)


def scope_basis(base: RuleBase) -> list[LegalFinding]:
    """A rule reads activity or purpose only for the values a cited article names (its scope_basis)."""
    out: list[LegalFinding] = []
    for rule in sorted(base.rules.values(), key=lambda r: r.id):
        cited = {(c.source, c.article) for c in rule.citations}
        for b in rule.scope_basis:
            if (b.source, b.article) not in cited:
                out.append(("scope-basis", rule.id,
                            f"scope_basis for {b.fact} points at {b.source} {b.article}, which the rule does not cite"))
        allowed: dict[str, set[str]] = {}
        for b in rule.scope_basis:
            allowed.setdefault(b.fact, set()).update(b.values)
        for fact, values in _scoped_values(rule):
            if fact not in allowed:
                out.append(("scope-basis", rule.id,
                            f"reads {fact} without a scope_basis: name the cited article that names "
                            f"{', '.join(values) or 'it'}, or drop the condition"))
                continue
            missing = [v for v in values if v not in allowed[fact]]
            if missing:
                out.append(("scope-basis", rule.id,
                            f"reads {fact} = {', '.join(missing)}, which no scope_basis entry names"))
    return out


def legal_findings(base: RuleBase) -> list[LegalFinding]:
    """All legal-fidelity findings of a rule base."""
    return missing_binding_effect(base) + unsupported_effects(base) + scope_basis(base)
