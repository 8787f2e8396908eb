"""The legal-fidelity lint: each defect kind is found in a copy of the clean fixture changed to have it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from biotoets.engine.lint import lint_directory

CLEAN = Path(__file__).parent.parent / "fixtures" / "lint" / "clean"


def _copy(tmp_path: Path) -> tuple[Path, dict, dict]:
    target = tmp_path / "rules"
    shutil.copytree(CLEAN, target)
    rules = yaml.safe_load((target / "rules.yaml").read_text(encoding="utf-8"))
    sources = yaml.safe_load((target / "sources.yaml").read_text(encoding="utf-8"))
    return target, rules, sources


def _write(target: Path, rules: dict, sources: dict) -> list[tuple[str, str, str]]:
    (target / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    (target / "sources.yaml").write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    return [(f.check, f.subject, f.message) for f in lint_directory(target).findings]


def _rule(rules: dict, rid: str) -> dict:
    return next(r for r in rules["rules"] if r["id"] == rid)


LEGAL = {"binding-effect-missing", "non-binding-only", "binding-support", "scope-basis"}


def test_the_clean_fixture_has_no_legal_findings(tmp_path: Path) -> None:
    target, rules, sources = _copy(tmp_path)
    assert [f for f in _write(target, rules, sources) if f[0] in LEGAL] == []


def test_an_article_without_binding_effect_is_named_with_the_rule_that_cites_it(tmp_path: Path) -> None:
    target, rules, sources = _copy(tmp_path)
    del sources["sources"][0]["articles"]["art. 4"]["binding_effect"]
    found = [f for f in _write(target, rules, sources) if f[0] == "binding-effect-missing"]
    assert found == [("binding-effect-missing", "fx-law art. 4",
                      "cited by fx.listed-export, but the article has no binding_effect in sources.yaml")]


def test_a_prohibition_resting_only_on_a_policy_letter_is_refused(tmp_path: Path) -> None:
    target, rules, sources = _copy(tmp_path)
    rule = _rule(rules, "fx.long-culture")
    rule["citations"] = [{"source": "fx-policy", "article": "brief"}]
    rule["notes"] = "not binding, on purpose for the test"
    found = {(f[0], f[1]) for f in _write(target, rules, sources)}
    assert ("non-binding-only", "fx.long-culture") in found


def test_a_prohibition_on_an_article_that_only_informs_is_refused(tmp_path: Path) -> None:
    target, rules, sources = _copy(tmp_path)
    sources["sources"][0]["articles"]["art. 3"]["binding_effect"] = "informs"
    found = {(f[0], f[1]) for f in _write(target, rules, sources)}
    assert ("non-binding-only", "fx.long-culture") in found


def test_a_prohibition_on_an_article_that_only_requires_a_licence_is_refused(tmp_path: Path) -> None:
    target, rules, sources = _copy(tmp_path)
    _rule(rules, "fx.long-culture")["citations"] = [{"source": "fx-law", "article": "art. 4"}]
    found = [f for f in _write(target, rules, sources) if f[0] == "binding-support"]
    assert len(found) == 1 and found[0][1] == "fx.long-culture"
    assert "prohibits or prohibits_unless" in found[0][2] and "requires" in found[0][2]


@pytest.mark.parametrize("effect", ["requires", "prohibits_unless"])
def test_a_condition_is_supported_by_a_duty_or_a_ban_lifted_by_permit(tmp_path: Path, effect: str) -> None:
    target, rules, sources = _copy(tmp_path)
    sources["sources"][0]["articles"]["art. 4"]["binding_effect"] = effect
    assert [f for f in _write(target, rules, sources) if f[0] in LEGAL] == []


def test_a_condition_on_a_definition_alone_is_refused(tmp_path: Path) -> None:
    target, rules, sources = _copy(tmp_path)
    sources["sources"][0]["articles"]["art. 4"]["binding_effect"] = "defines"
    found = {(f[0], f[1]) for f in _write(target, rules, sources)}
    assert ("binding-support", "fx.listed-export") in found


def test_reading_activity_without_scope_basis_is_refused(tmp_path: Path) -> None:
    target, rules, sources = _copy(tmp_path)
    del _rule(rules, "fx.listed-export")["scope_basis"]
    found = [f for f in _write(target, rules, sources) if f[0] == "scope-basis"]
    assert len(found) == 1 and found[0][1] == "fx.listed-export"
    assert "reads activity without a scope_basis" in found[0][2]


def test_reading_an_activity_value_the_basis_does_not_name_is_refused(tmp_path: Path) -> None:
    target, rules, sources = _copy(tmp_path)
    _rule(rules, "fx.listed-export")["when"]["all"][0] = {"fact": "activity", "in": ["export", "market"]}
    found = [f for f in _write(target, rules, sources) if f[0] == "scope-basis"]
    assert [f[2] for f in found] == ["reads activity = market, which no scope_basis entry names"]


def test_a_scope_basis_must_point_at_an_article_the_rule_cites(tmp_path: Path) -> None:
    target, rules, sources = _copy(tmp_path)
    _rule(rules, "fx.listed-export")["scope_basis"][0]["article"] = "art. 1"
    found = [f for f in _write(target, rules, sources) if f[0] == "scope-basis"]
    assert [f[2] for f in found] == ["scope_basis for activity points at fx-law art. 1, which the rule does not cite"]
