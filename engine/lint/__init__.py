"""Rule-base analysis: what a rule author should fix before the rules are used.

Loading already checks schemas and references (a bad file never loads; ``lint_directory``
turns that refusal into a finding). The checks here look at the rule base as a whole:

* bookkeeping: unused sources, proposal facts no rule reads, questions without a fact,
  rules no case makes apply, texts left untranslated, validity periods that outrun
  their legal grounds, unverified grounds the notes keep quiet about, prohibiting or
  conditioning rules that rest on non-binding text without saying so;
* logic, decided exactly over the three-valued (Kleene) semantics of the engine:
  a rule whose condition can never hold, or that holds but is always defeated;
  a permission (``allowed``) and a restriction on the same provision that can both
  apply with no exception between them; an exception that can never defeat its rule;
* legal fidelity (legal.py): a restricting rule rests on a binding article whose ``binding_effect`` supports it,
  and reads ``activity``/``purpose`` only where a cited article names that activity or purpose.

The logical checks quantify over every proposal. Each fact's domain is finite once it
is cut at the literals the rules compare it with (enum values, integer thresholds,
the regions of the value lists a set is tested against), plus "unknown". When the
product of the domains a question touches is small, every assignment is enumerated
for every period in which the rule base is constant; otherwise the question goes to
the z3 SMT solver with the same semantics. Both are exact; each finding says which
method decided it, and ``LintReport.methods`` counts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..loader import RuleLoadError, load_rule_base
from ..model import RuleBase
from .bookkeeping import (
    grounds_honesty,
    uncovered_rules,
    unread_facts,
    untranslated,
    unused_questions,
    unused_sources,
    validity,
)
from .legal import legal_findings
from .logical import ENUMERATION_LIMIT, Analyser, logical
from .report import Finding, LintReport

__all__ = [
    "ENUMERATION_LIMIT", "Analyser", "Finding", "LintReport", "grounds_honesty", "lint", "lint_directory",
    "lint_report", "logical", "uncovered_rules", "unread_facts", "untranslated", "unused_questions",
    "unused_sources", "validity",
]


def lint_report(base: RuleBase, covered_rules: Iterable[str] | None = None,
                analyser: Analyser | None = None) -> LintReport:
    an = analyser or Analyser(base)
    findings = (unused_sources(base) + unread_facts(base) + unused_questions(base) + untranslated(base)
                + validity(base) + grounds_honesty(base) + logical(base, an)
                + [Finding(*f) for f in legal_findings(base)])
    if covered_rules is not None:
        findings += uncovered_rules(base, covered_rules)
    return LintReport(findings, dict(an.methods))


def lint(base: RuleBase, covered_rules: Iterable[str] | None = None) -> list[Finding]:
    return lint_report(base, covered_rules).findings


def lint_directory(directory: Path, covered_rules: Iterable[str] | None = None) -> LintReport:
    """Lint a rule directory; a directory that does not load is one 'schema' or 'reference' finding."""
    try:
        base = load_rule_base(directory)
    except RuleLoadError as exc:
        schema = exc.path and any(s in exc.reason for s in (
            "is not valid", "is a required property", "does not match", "is not of type", "Additional properties",
            "is not one of", "is too short"))
        kind = exc.check or ("schema" if schema else "reference")  # gates.py names its own defects
        return LintReport([Finding(kind, exc.rule or exc.file, str(exc))])
    return lint_report(base, covered_rules)
