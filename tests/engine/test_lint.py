"""Rule-base analysis: the shipped rules are clean, and each kind of defect is found in a fixture built to have it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from biotoets.api.analysis import casebase as cb
from biotoets.api.cli import main
from biotoets.engine.lint import Analyser, lint, lint_directory, lint_report, logical
from biotoets.engine.loader import load_rule_base
from biotoets.engine.model import RuleBase

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lint"

# fixture directory -> the finding it was built to produce
DEFECTS = {
    "schema": "schema",
    "reference": "reference",
    "unused-source": "unused-source",
    "unused-question": "unused-question",
    "unread-fact": "unread-fact",
    "uncovered-rule": "uncovered-rule",
    "unsatisfiable": "unsatisfiable",
    "always-defeated": "always-defeated",
    "dead-exception": "dead-exception",
    "conflict": "conflict",
    "untranslated": "untranslated",
    "validity": "validity",
    "non-binding-ground": "non-binding-ground",
    "unverified-ground": "unverified-ground",
    "wide": "unsatisfiable",
}
# Fixtures read few of the proposal's facts, so every fixture reports unread facts; ignore those elsewhere.
BACKGROUND = {"unread-fact"}


def kinds(directory: Path, covered: list[str] | None = None) -> set[str]:
    return {f.check for f in lint_directory(directory, covered).findings}


def test_the_shipped_rules_have_no_findings(engine) -> None:
    outcomes = cb.run_cases(cb.load_cases(), lambda _s: engine, date.today())
    covered = cb.coverage(engine, outcomes)["rules"]["covered"]
    report = lint_report(engine.base, covered)
    assert report.findings == []
    assert set(report.methods) <= {"enumeration", "z3"} and sum(report.methods.values()) > len(engine.base.rules)


def test_the_clean_fixture_has_no_findings_but_unread_facts() -> None:
    assert kinds(FIXTURES / "clean") - BACKGROUND == set()


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_defect_is_found_in_its_fixture(name: str) -> None:
    covered = [] if name == "uncovered-rule" else None
    assert DEFECTS[name] in kinds(FIXTURES / name, covered)


def test_every_fixture_directory_is_expected() -> None:
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} == set(DEFECTS) | {"clean"}


def test_a_conflict_names_both_rules_the_provision_and_a_witness() -> None:
    (finding,) = [f for f in lint_directory(FIXTURES / "conflict").findings if f.check == "conflict"]
    assert finding.subject == "fx.licence-granted / fx.licence-needed"
    assert "fx-law art. 1" in finding.message
    assert "gmo.use=contained" in finding.message and "gmo.permit=granted" in finding.message


def test_a_dead_exception_names_rule_and_exception() -> None:
    (finding,) = [f for f in lint_directory(FIXTURES / "dead-exception").findings if f.check == "dead-exception"]
    assert finding.subject == "fx.licence-needed <- fx.release-granted"


def test_the_wide_fixture_is_decided_by_z3_and_says_so() -> None:
    report = lint_directory(FIXTURES / "wide")
    assert report.methods.get("z3", 0) > 0
    (finding,) = [f for f in report.findings if f.check == "unsatisfiable"]
    assert finding.subject == "fx.never-both" and finding.message.endswith("[z3]")


def test_small_questions_are_decided_by_enumeration_and_say_so() -> None:
    (finding,) = [f for f in lint_directory(FIXTURES / "unsatisfiable").findings if f.check == "unsatisfiable"]
    assert finding.message.endswith("[enumeration]")


def _logical_verdicts(base: RuleBase, limit: int) -> set[tuple[str, str]]:
    return {(f.check, f.subject) for f in logical(base, Analyser(base, enumeration_limit=limit))}


@pytest.mark.parametrize("name", ["always-defeated", "dead-exception", "conflict", "unsatisfiable", "clean"])
def test_z3_and_enumeration_agree_on_the_fixtures(name: str) -> None:
    base = load_rule_base(FIXTURES / name)
    assert _logical_verdicts(base, 0) == _logical_verdicts(base, 10**9)


def test_z3_and_enumeration_agree_on_every_shipped_rule(base: RuleBase) -> None:
    z3_only, mixed = Analyser(base, enumeration_limit=0), Analyser(base)
    for rid in sorted(base.rules):
        assert (z3_only.can_hold(rid)[0] is None) == (mixed.can_hold(rid)[0] is None), rid
        assert (z3_only.can_apply(rid)[0] is None) == (mixed.can_apply(rid)[0] is None), rid
    assert set(z3_only.methods) == {"z3"}


def test_lint_keeps_its_finding_api(base: RuleBase) -> None:
    findings = lint(base, covered_rules=[])
    assert findings and all(f.check == "uncovered-rule" for f in findings)
    assert str(findings[0]).startswith("uncovered-rule: ")


def test_cli_lint_passes_on_the_shipped_rules_and_names_its_methods(capsys) -> None:
    assert main(["rules", "lint"]) == 0
    out = capsys.readouterr().out
    assert "0 finding(s)" in out and "by enumeration" in out and "z3" in out


def test_cli_lint_fails_on_a_defect(capsys) -> None:
    assert main(["--rules", str(FIXTURES / "conflict"), "rules", "lint", "--no-cases"]) == 1
    assert "conflict: fx.licence-granted / fx.licence-needed" in capsys.readouterr().out


def test_cli_lint_refuses_a_rule_base_that_does_not_load(capsys) -> None:
    assert main(["--rules", str(FIXTURES / "schema"), "rules", "lint", "--no-cases"]) == 3
    assert "'en' is a required property" in capsys.readouterr().err
