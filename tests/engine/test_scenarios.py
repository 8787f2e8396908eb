"""Policy scenarios: overlays that load like rules, verdicts that say they are not current law, impact reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from biotoets.api.analysis import impact
from biotoets.api.cli import main
from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import RuleLoadError
from biotoets.engine.scenarios import load_scenario, scenario_names

from ..conftest import TODAY

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["embryowet-36416", "gene-therapy-acceptable-risk", "knowledge-security-screening-act", "ngt-plants",
           "xeno-research-motion"]


@pytest.fixture(scope="module")
def own_cases(tmp_path_factory) -> Path:
    """The lead's case files only, so the expected transitions do not drift with other case files."""
    d = tmp_path_factory.mktemp("cases")
    for name in ("core.yaml", "policy.yaml"):
        shutil.copy(ROOT / "casebase" / name, d / name)
    return d


def test_every_required_scenario_ships():
    assert set(SHIPPED) <= set(scenario_names())


@pytest.mark.parametrize("name", SHIPPED)
def test_scenario_verdicts_never_pass_as_current_law(name, base):
    sc_base, info = load_scenario(name)
    engine = Engine(sc_base, name=f"test/{name}", scenario=info)
    try:
        v = engine.evaluate({}, TODAY)
    finally:
        engine.close()
    sc = v["ruleset"]["scenario"]
    assert sc["id"] == name and sc["is_current_law"] is False
    assert sc["status"] in ("proposal", "bill", "adopted_not_applicable", "motion", "study")
    assert v["ruleset"]["hash"] != base.digest


EXPECTED = {
    "xeno-research-motion": {("policy-xeno-clinical-trial-today", "prohibited", "conditional")},
    # A small risk is conditional under current law already (Besluit ggo art. 3.2 bans only release without a permit);
    # the scenario changes the permit route, not the verdict.
    "gene-therapy-acceptable-risk": set(),
    "embryowet-36416": {("germline-embryos-created-for-research", "prohibited", "conditional")},
    "knowledge-security-screening-act": {
        ("knowledge-security-screening-done", "allowed", "conditional"),
        ("knowledge-security-sensitive-partner", "allowed", "conditional"),
        ("knowledge-no-concern", "allowed", "conditional"),
        ("policy-sensitive-lab-research-today", "allowed", "conditional"),
    },
    "ngt-plants": set(),
}


@pytest.mark.parametrize("name", SHIPPED)
def test_each_scenario_changes_exactly_the_cases_it_should(name, own_cases):
    report = impact.run_cases(name, own_cases, TODAY)
    moved = {(c["id"], c["from"], c["to"]) for c in report["changes"] if c["from"] != c["to"]}
    assert moved == EXPECTED[name]
    off_diagonal = sum(n for f, row in report["matrix"].items() for t, n in row.items() if f != t)
    assert off_diagonal == len(EXPECTED[name])
    assert report["total"] == sum(sum(row.values()) for row in report["matrix"].values())


def test_ngt_scenario_swaps_the_gmo_authorisation_for_a_verification(own_cases):
    report = impact.run_cases("ngt-plants", own_cases, TODAY)
    ngt = next(c for c in report["changes"] if c["id"] == "policy-ngt-category-1-market-today")
    assert "gmo.ngt-category-1-verification" in ngt["rules_added"]
    assert "gmo.classify-organism" in ngt["rules_removed"]
    assert any(r == "gmo.ngt-category-1-verification" for r, _ in ngt["conditions_added"])


def test_impact_text_json_and_html(capsys, own_cases, tmp_path):
    out = tmp_path / "report.html"
    code = main(["impact", "--scenario", "embryowet-36416", "--cases", str(own_cases), "--out", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert code == 0
    assert "1 of " in text and " cases changed" in text
    assert "germline-embryos-created-for-research: prohibited -> conditional" in text
    page = out.read_text(encoding="utf-8")
    assert "<svg" in page and "not current law" in page and "<script" not in page
    code = main(["impact", "--scenario", "embryowet-36416", "--cases", str(own_cases), "--json", "--quiet"])
    import json

    report = json.loads(capsys.readouterr().out)
    assert report["matrix"]["prohibited"]["conditional"] == 1
    assert report["scenario"]["is_current_law"] is False


def test_impact_report_renders_in_chromium(own_cases, tmp_path):
    from ..browser import chromium, screenshot_path

    report = impact.run_cases("knowledge-security-screening-act", own_cases, TODAY)
    page_file = tmp_path / "impact.html"
    page_file.write_text(impact.html_report(report), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 1200})
        page.goto(page_file.as_uri())
        assert report["changed"] == 4  # three verdicts move, one case gains a condition
        assert page.locator("#summary").inner_text() == f"4 of {report['total']} cases changed"
        box = page.locator("svg").bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150
        assert page.locator("svg path").count() >= 3
        assert page.locator("#matrix td").count() == 9
        page.screenshot(path=str(screenshot_path("impact-report")), full_page=True)


def test_check_under_a_scenario(capsys):
    p = ROOT / "tests" / "fixtures-xeno-trial.yaml"
    p.write_text(yaml.safe_dump({"activity": "clinical_trial", "transplant": {
        "source": "animal", "living_material": True, "recipient": "human"}}), encoding="utf-8")
    try:
        assert main(["check", str(p), "--scenario", "xeno-research-motion"]) == 0
        out = capsys.readouterr().out
        assert "SCENARIO (not current law): xeno-research-motion" in out
        # the scope (animals, GMOs, partners ...) is not answered: not a verdict yet, but what the facts say
        assert out.startswith("Not enough information yet  (on the facts given: CONDITIONAL")
    finally:
        p.unlink()


def test_scenarios_list(capsys):
    assert main(["scenarios", "list"]) == 0
    out = capsys.readouterr().out
    for name in SHIPPED:
        assert name in out


def _scenario_dir(tmp_path: Path, doc: dict) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    (rules / "scenarios" / f"{doc['id']}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return rules


BASE_DOC = {"id": "broken", "title": {"nl": "kapot", "en": "broken"}, "description": {"nl": "x", "en": "x"},
            "status": "proposal", "source": "nl-embryowet"}


@pytest.mark.parametrize(
    ("rules", "message", "path"),
    [
        ({"disable": ["xeno.no-such-rule"]}, "cannot disable rule 'xeno.no-such-rule': no such rule",
         "/rules/disable/0"),
        ({"redate": [{"id": "nope", "valid_from": "2030-01-01"}]}, "cannot re-date rule 'nope'", "/rules/redate/0/id"),
        ({"exceptions": [{"rule": "nope", "add": ["xeno.ban"]}]}, "cannot give rule 'nope' exceptions",
         "/rules/exceptions/0/rule"),
        ({"replace": [{"id": "xeno.nope", "title": {"nl": "a", "en": "a"}, "effect": "allowed",
                       "when": {"fact": "human.embryo", "eq": True}, "valid_from": "2000-01-01"}]},
         "cannot replace rule 'xeno.nope'", "/rules/replace/0/id"),
        ({"add": [{"domain": "xeno", "rule": {"id": "xeno.ban", "title": {"nl": "a", "en": "a"}, "effect": "allowed",
                                              "when": {"fact": "human.embryo", "eq": True},
                                              "valid_from": "2000-01-01"}}]},
         "cannot add rule 'xeno.ban': it exists already", "/rules/add/0/rule/id"),
        ({"add": [{"domain": "astrology", "rule": {"id": "astrology.x", "title": {"nl": "a", "en": "a"},
                                                   "effect": "allowed", "when": {"fact": "human.embryo", "eq": True},
                                                   "valid_from": "2000-01-01"}}]},
         "unknown domain 'astrology'", "/rules/add/0/domain"),
    ],
)
def test_scenario_referencing_a_missing_rule_fails_with_a_clear_message(tmp_path, rules, message, path):
    d = _scenario_dir(tmp_path, dict(BASE_DOC, rules=rules))
    with pytest.raises(RuleLoadError) as info:
        load_scenario("broken", d)
    assert info.value.file == "scenarios/broken.yaml"
    assert message in info.value.reason
    assert info.value.path == path


def test_scenario_schema_error_and_name_mismatch(tmp_path):
    d = _scenario_dir(tmp_path, dict(BASE_DOC, status="rumour"))
    with pytest.raises(RuleLoadError) as info:
        load_scenario("broken", d)
    assert info.value.path == "/status"
    d2 = _scenario_dir(tmp_path / "b", dict(BASE_DOC, id="broken"))
    (d2 / "scenarios" / "broken.yaml").rename(d2 / "scenarios" / "other.yaml")
    with pytest.raises(RuleLoadError) as info:
        load_scenario("other", d2)
    assert "must equal its file name" in info.value.reason


def test_unknown_scenario_name(capsys):
    code = main(["check", str(ROOT / "examples" / "germline-editing.yaml"), "--scenario", "utopia"])
    err = capsys.readouterr().err
    assert code == 3
    assert "no scenario 'utopia' (known scenarios:" in err


def test_scenario_rule_with_dangling_citation_names_the_scenario_file(tmp_path):
    rule = {"id": "xeno.new", "title": {"nl": "a", "en": "a"}, "effect": "prohibited",
            "when": {"fact": "human.embryo", "eq": True}, "valid_from": "2000-01-01",
            "citations": [{"source": "nl-nowhere", "article": "art. 1"}]}
    d = _scenario_dir(tmp_path, dict(BASE_DOC, rules={"add": [{"domain": "xeno", "rule": rule}]}))
    with pytest.raises(RuleLoadError) as info:
        load_scenario("broken", d)
    assert info.value.file == "scenarios/broken.yaml" and info.value.rule == "xeno.new"
    assert "unknown source 'nl-nowhere'" in info.value.reason


@pytest.mark.parametrize("name", [None, "embryowet-36416"])
def test_rule_base_rebuilds_from_its_snapshot(base, name):
    from biotoets.engine.scenarios import rule_base_from_snapshot

    original, info = (base, None) if name is None else load_scenario(name)
    rebuilt, rebuilt_info = rule_base_from_snapshot(dict(original.files))
    assert rebuilt.digest == original.digest
    assert set(rebuilt.rules) == set(original.rules)
    assert (rebuilt_info.id if rebuilt_info else None) == name
