"""A bad rule file stops loading with its file, rule id, JSON path and reason -- one test per defect."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from biotoets.engine.loader import RuleLoadError, load_rule_base


def edit(path: Path, change) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def edit_rule(rules_copy: Path, rule_id: str, change) -> str:
    """Apply ``change`` to one rule, wherever it is; return its JSON path."""
    for path in sorted(rules_copy.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, rule in enumerate(doc.get("rules", []) if isinstance(doc, dict) else []):
            if rule["id"] == rule_id:
                change(rule)
                path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
                return f"/rules/{i}"
    raise AssertionError(f"no rule {rule_id}")


def load_error(rules_copy: Path) -> RuleLoadError:
    with pytest.raises(RuleLoadError) as info:
        load_rule_base(rules_copy)
    return info.value


def test_shipped_rules_load(base):
    assert len(base.rules) >= 20
    assert len(base.digest) == 64


def test_schema_error_names_file_rule_and_path(rules_copy):
    where = edit_rule(rules_copy, "germline.reproductive-ban", lambda r: r.update(effect="forbidden"))
    err = load_error(rules_copy)
    assert err.file == "germline.yaml"
    assert err.rule == "germline.reproductive-ban"
    assert err.path == where + "/effect"
    assert "forbidden" in str(err)


def test_missing_required_field(rules_copy):
    edit_rule(rules_copy, "xeno.ban", lambda r: r.pop("when"))
    err = load_error(rules_copy)
    assert (err.file, err.rule) == ("xeno.yaml", "xeno.ban")
    assert "'when' is a required property" in err.reason


def test_bad_operator_in_condition(rules_copy):
    where = edit_rule(
        rules_copy, "xeno.ban", lambda r: r.update(when={"fact": "xenotransplantation", "equals": True})
    )
    err = load_error(rules_copy)
    assert err.rule == "xeno.ban"
    assert err.path.startswith(where + "/when")


def test_unknown_fact(rules_copy):
    where = edit_rule(
        rules_copy, "xeno.ban", lambda r: r.update(when={"fact": "human.telepathy", "eq": True})
    )
    err = load_error(rules_copy)
    assert err.rule == "xeno.ban" and err.path == where + "/when/fact"
    assert "unknown fact 'human.telepathy'" in err.reason


def test_wrong_literal_for_fact(rules_copy):
    where = edit_rule(
        rules_copy, "germline.fourteen-day-limit", lambda r: r["when"]["all"][1].update(gt="fourteen")
    )
    err = load_error(rules_copy)
    assert err.path.startswith(where)


def test_enum_value_not_in_domain(rules_copy):
    edit_rule(
        rules_copy, "xeno.classify-xenotransplantation", lambda r: r["when"]["all"][0].update(eq="martian")
    )
    err = load_error(rules_copy)
    assert err.rule == "xeno.classify-xenotransplantation"
    assert "'martian' is not a possible value of 'transplant.recipient'" in err.reason


def test_order_operator_on_non_number(rules_copy):
    edit_rule(rules_copy, "xeno.ban", lambda r: r.update(when={"fact": "transplant.recipient", "gt": 3}))
    err = load_error(rules_copy)
    assert "compares numbers" in err.reason


def test_list_operator_on_scalar_fact(rules_copy):
    edit_rule(
        rules_copy,
        "xeno.ban",
        lambda r: r.update(when={"fact": "transplant.recipient", "contains_any": ["human"]}),
    )
    assert "needs a list fact" in load_error(rules_copy).reason


def test_dangling_citation_source(rules_copy):
    where = edit_rule(rules_copy, "xeno.ban", lambda r: r["citations"][0].update(source="nl-wet-op-niets"))
    err = load_error(rules_copy)
    assert err.rule == "xeno.ban" and err.path == where + "/citations/0/source"
    assert "unknown source 'nl-wet-op-niets'" in err.reason


def test_dangling_citation_article(rules_copy):
    where = edit_rule(rules_copy, "xeno.ban", lambda r: r["citations"][0].update(article="art. 99"))
    err = load_error(rules_copy)
    assert err.path == where + "/citations/0/article"
    assert "has no article 'art. 99'" in err.reason


def test_duplicate_rule_id(rules_copy):
    edit_rule(rules_copy, "xeno.human-animal-chimera", lambda r: r.update(id="xeno.ban"))
    err = load_error(rules_copy)
    assert err.rule == "xeno.ban" and "duplicate rule id" in err.reason


def test_exception_that_is_not_a_rule(rules_copy):
    where = edit_rule(
        rules_copy, "animals.biotechnology-licence", lambda r: r.update(exceptions=["animals.no-such-rule"])
    )
    err = load_error(rules_copy)
    assert err.rule == "animals.biotechnology-licence" and err.path == where + "/exceptions/0"


def test_rule_as_its_own_exception(rules_copy):
    edit_rule(
        rules_copy,
        "animals.biotechnology-licence",
        lambda r: r.update(exceptions=["animals.biotechnology-licence"]),
    )
    assert "its own exception" in load_error(rules_copy).reason


def test_exception_cycle(rules_copy):
    edit_rule(
        rules_copy,
        "animals.licence-granted",
        lambda r: r.update(exceptions=["animals.biotechnology-licence"]),
    )
    assert "exceptions form a cycle" in load_error(rules_copy).reason


def test_derived_fact_cycle(rules_copy):
    edit_rule(
        rules_copy,
        "animals.classify-biotechnology",
        lambda r: r.update(when={"all": [{"fact": "xenotransplantation", "eq": True}, r["when"]]}),
    )
    edit_rule(
        rules_copy,
        "xeno.classify-xenotransplantation",
        lambda r: r.update(when={"all": [{"fact": "animal_biotechnology", "eq": True}, r["when"]]}),
    )
    err = load_error(rules_copy)
    assert "derived facts form a cycle" in err.reason


def test_derived_fact_named_like_a_proposal_fact(rules_copy):
    edit_rule(rules_copy, "xeno.classify-xenotransplantation", lambda r: r.update(derives="technique"))
    assert "pattern" in load_error(rules_copy).reason or "clashes" in load_error(rules_copy).reason


def test_conditional_rule_without_conditions(rules_copy):
    edit_rule(rules_copy, "gmo.contained-use-notification", lambda r: r.pop("conditions"))
    err = load_error(rules_copy)
    assert err.rule == "gmo.contained-use-notification"
    assert "conditions" in err.reason


def test_prohibiting_rule_without_citation(rules_copy):
    edit_rule(rules_copy, "xeno.ban", lambda r: r.update(citations=[]))
    err = load_error(rules_copy)
    assert err.rule == "xeno.ban"


def test_prohibiting_rule_citing_only_non_binding_advice(rules_copy):
    edit_rule(
        rules_copy,
        "gmo.risk-above-negligible",
        lambda r: r.update(citations=[{"source": "nl-cogem-cgm-221206-02", "article": "signalering"}]),
    )
    assert "must cite an article of law" in load_error(rules_copy).reason


def test_valid_to_before_valid_from(rules_copy):
    edit_rule(rules_copy, "xeno.ban", lambda r: r.update(valid_to="2000-01-01"))
    assert "valid_to lies before valid_from" in load_error(rules_copy).reason


def test_bad_date(rules_copy):
    where = edit_rule(rules_copy, "xeno.ban", lambda r: r.update(valid_from="2002-13-01"))
    err = load_error(rules_copy)
    assert err.path == where + "/valid_from"


def test_unknown_named_list(rules_copy):
    edit_rule(
        rules_copy,
        "sanctions.country-regime",
        lambda r: r["when"]["any"][0].update(contains_any={"list": "no_such_list"}),
    )
    assert "unknown list 'no_such_list'" in load_error(rules_copy).reason


def test_fact_without_question_text(rules_copy):
    edit(rules_copy / "questions.yaml", lambda d: d["questions"].pop("transplant.recipient"))
    assert "no question text" in load_error(rules_copy).reason


def test_missing_translation(rules_copy):
    where = edit_rule(rules_copy, "xeno.ban", lambda r: r["title"].pop("nl"))
    err = load_error(rules_copy)
    assert err.path == where + "/title" and "'nl' is a required property" in err.reason


def test_invalid_yaml(rules_copy):
    (rules_copy / "xeno.yaml").write_text("domain: xeno\nrules: [\n", encoding="utf-8")
    err = load_error(rules_copy)
    assert err.file == "xeno.yaml" and "invalid YAML" in err.reason


def test_yaml_aliases_refused(rules_copy):
    text = (rules_copy / "xeno.yaml").read_text(encoding="utf-8")
    (rules_copy / "xeno.yaml").write_text(
        text.replace("title: {nl:", "title: &t {nl:", 1) + "\nextra: *t\n", encoding="utf-8"
    )
    assert "anchors and aliases are not allowed" in load_error(rules_copy).reason


def test_duplicate_yaml_key(rules_copy):
    text = (rules_copy / "xeno.yaml").read_text(encoding="utf-8")
    (rules_copy / "xeno.yaml").write_text(
        text.replace("domain: xeno", "domain: xeno\ndomain: xeno2", 1), encoding="utf-8"
    )
    assert "duplicate key 'domain'" in load_error(rules_copy).reason


def test_missing_sources_file(rules_copy):
    (rules_copy / "sources.yaml").unlink()
    err = load_error(rules_copy)
    assert err.file == "sources.yaml" and "missing" in err.reason


def test_duplicate_source_id(rules_copy):
    edit(rules_copy / "sources.yaml", lambda d: d["sources"].append(copy.deepcopy(d["sources"][0])))
    assert "duplicate source id" in load_error(rules_copy).reason


def test_empty_rules_directory(tmp_path):
    for name in ("sources.yaml", "lists.yaml", "questions.yaml"):
        (tmp_path / name).write_text(
            (Path(__file__).parents[2] / "rules" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    err = load_error(tmp_path)
    assert "no rule files found" in err.reason


def test_digest_changes_with_content(rules_copy, base):
    edit_rule(rules_copy, "xeno.ban", lambda r: r.update(notes="changed"))
    assert load_rule_base(rules_copy).digest != base.digest
