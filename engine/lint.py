"""Rule-base analysis: what a rule author should fix before the rules are used.

Loading already checks schemas and references (a bad file never loads). The
checks here look at the rule base as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .loader import RuleBase


@dataclass(frozen=True)
class Finding:
    check: str  # short name of the check
    subject: str  # rule id, source id or fact name
    message: str

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: {self.message}"


def unused_sources(base: RuleBase) -> list[Finding]:
    cited = {c.source for r in base.rules.values() for c in r.citations}
    cited |= {c.citation.source for r in base.rules.values() for c in r.conditions}
    cited |= {lst.source for lst in base.lists.values()}
    return [Finding("unused-source", s, "no rule or list cites this source") for s in sorted(set(base.sources) - cited)]


def unread_facts(base: RuleBase) -> list[Finding]:
    read: set[str] = set()
    for r in base.rules.values():
        read |= r.facts
    companions = {f"{name}.count" for name in read} | {"partners.count"}
    return [
        Finding("unread-fact", name, "no rule reads this proposal fact")
        for name, fact in sorted(base.facts.items())
        if not fact.derived and name not in read and name not in companions
    ]


def unused_questions(base: RuleBase) -> list[Finding]:
    return [
        Finding("unused-question", name, "questions.yaml has a question for a fact that is not in the proposal schema")
        for name in sorted(base.questions) if name not in base.facts
    ]


def uncovered_rules(base: RuleBase, covered: Iterable[str]) -> list[Finding]:
    done = set(covered)
    return [Finding("uncovered-rule", rid, "no case in the case base makes this rule apply")
            for rid in sorted(set(base.rules) - done)]


def lint(base: RuleBase, covered_rules: Iterable[str] | None = None) -> list[Finding]:
    findings = unused_sources(base) + unread_facts(base) + unused_questions(base)
    if covered_rules is not None:
        findings += uncovered_rules(base, covered_rules)
    return findings
