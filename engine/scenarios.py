"""Policy scenarios: overlays on today's rules that model a proposed change of the law.

A scenario file (``rules/scenarios/<id>.yaml``) can add, replace, disable or
re-date rules and add or replace sources. It is validated like a rule file; an
overlay that names a rule or source that does not exist stops loading with the
scenario file, the id and the JSON path. A verdict under a scenario names the
scenario and its status and never passes as current law.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .loader import (
    Documents,
    RuleLoadError,
    _parse,
    _read,
    build_from_documents,
    default_rules_dir,
    documents_from_files,
    read_documents,
    validate_document,
)
from .model import RuleBase, Scenario, Text

STATUS_WORDS = {
    "proposal": Text("voorstel", "proposal"),
    "bill": Text("wetsvoorstel", "bill"),
    "adopted_not_applicable": Text("aangenomen, nog niet van toepassing", "adopted, not yet applicable"),
    "motion": Text("motie", "motion"),
    "study": Text("verkenning", "study"),
}


def scenarios_dir(rules_dir: Path | None = None) -> Path:
    return (rules_dir or default_rules_dir()) / "scenarios"


def scenario_names(rules_dir: Path | None = None) -> list[str]:
    d = scenarios_dir(rules_dir)
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def read_scenario(name: str, rules_dir: Path | None = None) -> tuple[dict[str, Any], bytes]:
    fname = f"scenarios/{name}.yaml"
    path = scenarios_dir(rules_dir) / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(scenario_names(rules_dir)) or "none"
        raise RuleLoadError(fname, f"no scenario {name!r} (known scenarios: {known})")
    doc, data = _read(path, fname)
    validate_document(doc, "scenario.schema.json", fname)
    if doc["id"] != name:
        raise RuleLoadError(fname, f"the scenario id {doc['id']!r} must equal its file name {name!r}", path="/id")
    return doc, data


def scenario_info(doc: dict[str, Any]) -> Scenario:
    return Scenario(doc["id"], Text(**doc["title"]), doc["status"], Text(**doc["description"]), doc["source"])


def load_scenario(name: str, rules_dir: Path | None = None) -> tuple[RuleBase, Scenario]:
    """Today's rules with a scenario applied, cross-checked like the rules themselves."""
    doc, data = read_scenario(name, rules_dir)
    docs = apply_overlay(read_documents(rules_dir), doc, f"scenarios/{name}.yaml")
    docs.files[f"scenarios/{name}.yaml"] = data
    base = build_from_documents(docs)
    if doc["source"] not in base.sources:
        raise RuleLoadError(f"scenarios/{name}.yaml", f"unknown source {doc['source']!r}", path="/source")
    return base, scenario_info(doc)


def apply_overlay(docs: Documents, scenario: dict[str, Any], fname: str) -> Documents:
    """A copy of ``docs`` with the scenario's changes made; refuses ids that do not resolve."""
    out = copy.deepcopy(docs)

    def fail(reason: str, path: str, rule: str | None = None) -> None:
        raise RuleLoadError(fname, reason, rule, path)

    src_index = {s["id"]: i for i, s in enumerate(out.sources["sources"])}
    for i, s in enumerate(scenario.get("sources", {}).get("add", [])):
        if s["id"] in src_index:
            fail(f"source {s['id']!r} already exists; use sources.replace", f"/sources/add/{i}/id")
        src_index[s["id"]] = len(out.sources["sources"])
        out.sources["sources"].append(s)
    for i, s in enumerate(scenario.get("sources", {}).get("replace", [])):
        if s["id"] not in src_index:
            fail(f"source {s['id']!r} does not exist", f"/sources/replace/{i}/id")
        out.sources["sources"][src_index[s["id"]]] = s

    where: dict[str, tuple[int, int]] = {}
    for d, (_, rdoc) in enumerate(out.rules):
        for r, rule in enumerate(rdoc["rules"]):
            where[rule["id"]] = (d, r)
    domain_titles = {rdoc["domain"]: rdoc["title"] for _, rdoc in out.rules}
    changes = scenario.get("rules", {})
    removed: set[str] = set()
    added: dict[str, list[dict[str, Any]]] = {}

    for i, rid in enumerate(changes.get("disable", [])):
        if rid not in where:
            fail(f"cannot disable rule {rid!r}: no such rule", f"/rules/disable/{i}", rid)
        removed.add(rid)
    for i, rule in enumerate(changes.get("replace", [])):
        rid = rule["id"]
        if rid not in where:
            fail(f"cannot replace rule {rid!r}: no such rule", f"/rules/replace/{i}/id", rid)
        if rid in removed:
            fail(f"rule {rid!r} is both disabled and replaced", f"/rules/replace/{i}/id", rid)
        d, _ = where[rid]
        removed.add(rid)
        added.setdefault(out.rules[d][1]["domain"], []).append(rule)
    for i, entry in enumerate(changes.get("add", [])):
        rid = entry["rule"]["id"]
        if rid in where:
            fail(f"cannot add rule {rid!r}: it exists already; use rules.replace", f"/rules/add/{i}/rule/id", rid)
        if entry["domain"] not in domain_titles:
            fail(f"unknown domain {entry['domain']!r}", f"/rules/add/{i}/domain", rid)
        added.setdefault(entry["domain"], []).append(entry["rule"])
    for i, change in enumerate(changes.get("redate", [])):
        rid = change["id"]
        if rid not in where:
            fail(f"cannot re-date rule {rid!r}: no such rule", f"/rules/redate/{i}/id", rid)
        d, r = where[rid]
        rule = out.rules[d][1]["rules"][r]
        for key in ("valid_from", "valid_to"):
            if key in change:
                rule[key] = change[key]

    for i, change in enumerate(changes.get("exceptions", [])):
        rid = change["rule"]
        if rid not in where or rid in removed:
            fail(f"cannot give rule {rid!r} exceptions: no such rule (or it is disabled or replaced)",
                 f"/rules/exceptions/{i}/rule", rid)
        d, r = where[rid]
        rule = out.rules[d][1]["rules"][r]
        rule["exceptions"] = list(dict.fromkeys(rule.get("exceptions", []) + change["add"]))

    kept: list[tuple[str, Any]] = []
    for file, rdoc in out.rules:
        rdoc["rules"] = [r for r in rdoc["rules"] if r["id"] not in removed]
        if rdoc["rules"]:
            kept.append((file, rdoc))
    for domain, rules in added.items():
        kept.append((fname, {"domain": domain, "title": domain_titles[domain], "rules": rules}))
    disabled = set(changes.get("disable", []))
    for _, rdoc in kept:
        for rule in rdoc["rules"]:
            if "exceptions" in rule:
                rule["exceptions"] = [e for e in rule["exceptions"] if e not in disabled]
    out.rules = kept
    if "questions" in scenario:
        out.questions["questions"].update(scenario["questions"])
    return out


def rule_base_from_snapshot(files: Mapping[str, bytes]) -> tuple[RuleBase, Scenario | None]:
    """Rebuild a rule base (with its scenario, if any) from the exact files it was built from.

    ``RuleBase.files`` is such a snapshot; storing it lets a stored check be replayed
    under the rules it was evaluated with, after the shipped rules have changed.
    """
    scenario_files = [name for name in files if name.startswith("scenarios/")]
    if len(scenario_files) > 1:
        raise RuleLoadError("snapshot", f"more than one scenario in one snapshot: {', '.join(scenario_files)}")
    docs = documents_from_files({k: v for k, v in files.items() if not k.startswith("scenarios/")}, "snapshot")
    if not scenario_files:
        return build_from_documents(docs), None
    fname = scenario_files[0]
    doc = _parse(files[fname], fname)
    validate_document(doc, "scenario.schema.json", fname)
    docs = apply_overlay(docs, doc, fname)
    docs.files[fname] = files[fname]
    return build_from_documents(docs), scenario_info(doc)
