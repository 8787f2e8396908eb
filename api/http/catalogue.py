"""The rule catalogue as the API shows it: every rule with its citations, and the legal sources.

The rule base does not change while a process runs, so the documents are
built once and kept as bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from biotoets.engine.compiler import rule_numbers
from biotoets.engine.model import Rule, RuleBase, Source
from biotoets.engine.verdict import citation_json


def ruleset_json(base: RuleBase, engine_version: str) -> dict[str, Any]:
    return {"hash": base.digest, "engine_version": engine_version, "rules": len(base.rules),
            "sources": len(base.sources)}


def rule_summary(base: RuleBase, rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": rule.id,
        "number": rule_numbers(base).index(rule.id),
        "domain": rule.domain,
        "title": rule.title.as_dict(),
        "effect": rule.effect,
        "valid_from": rule.valid_from,
        "valid_to": rule.valid_to,
        "citations": [citation_json(base, c) for c in rule.citations],
        "links": {"self": f"/v1/rules/{rule.id}"},
    }
    if rule.derives:
        out["derives"] = rule.derives
    return out


def rule_detail(base: RuleBase, rule: Rule) -> dict[str, Any]:
    out = rule_summary(base, rule)
    out.update({
        "file": rule.file,
        "when": rule.when_raw,
        "facts": [
            {"fact": f, "question": base.questions[f].as_dict() if f in base.questions else None,
             "derived": bool(base.facts[f].derived) if f in base.facts else False}
            for f in sorted(rule.facts)
        ],
        "conditions": [
            {"what": c.what.as_dict(), "authority": c.authority.as_dict(), "citation": citation_json(base, c.citation)}
            for c in rule.conditions
        ],
        "exceptions": list(rule.exceptions),
        "exception_to": sorted(r.id for r in base.rules.values() if rule.id in r.exceptions),
        "explanation": rule.explanation.as_dict() if rule.explanation else None,
        "open_norm": rule.open_norm.as_dict() if rule.open_norm else None,
        "transitional": rule.transitional.as_dict() if rule.transitional else None,
        "notes": rule.notes or None,
    })
    return out


def source_json(source: Source) -> dict[str, Any]:
    return {
        "id": source.id,
        "title": source.title.as_dict(),
        "citation": source.citation,
        "identifier": source.identifier,
        "url": source.url,
        "kind": source.kind,
        "binding": source.binding,
        "status": source.status,
        "valid_from": source.valid_from,
        "valid_to": source.valid_to,
        "verification": source.verification,
        "articles": [
            {"article": a.key, "summary": a.summary.as_dict(), "url": a.url or source.url, "quote": a.quote,
             "verified": a.verified}
            for a in source.articles.values()
        ],
        "notes": source.notes or None,
    }


@dataclass
class Catalogue:
    """Serialized catalogue documents of one rule base."""

    ruleset: dict[str, Any]
    rules: list[dict[str, Any]]
    rule_details: dict[str, bytes]
    sources: bytes
    domains: list[str]
    questions: bytes

    @classmethod
    def build(cls, base: RuleBase, engine_version: str) -> Catalogue:
        ruleset = ruleset_json(base, engine_version)
        ordered = sorted(base.rules.values(), key=lambda r: (r.domain, r.id))
        details = {
            r.id: orjson.dumps({"ruleset": ruleset, "rule": rule_detail(base, r)}) for r in ordered
        }
        sources = orjson.dumps({
            "ruleset": ruleset,
            "sources": [source_json(s) for s in sorted(base.sources.values(), key=lambda s: s.id)],
        })
        questions = orjson.dumps({"ruleset": ruleset, "questions": [
            {"fact": fact, "question": text.as_dict(),
             "rules": sorted(r.id for r in base.rules.values() if fact in r.facts)}
            for fact, text in sorted(base.questions.items())]})
        return cls(ruleset, [rule_summary(base, r) for r in ordered], details, sources, sorted(base.domains),
                   questions)

    def rules_document(self, domain: str | None, effect: str | None) -> bytes:
        rules = [r for r in self.rules
                 if (domain is None or r["domain"] == domain) and (effect is None or r["effect"] == effect)]
        return orjson.dumps({"ruleset": self.ruleset, "rules": rules})
