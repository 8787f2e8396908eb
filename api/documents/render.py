"""Plain-text rendering of verdicts and rules for the terminal, in Dutch or English."""

from __future__ import annotations

from typing import Any

from biotoets.engine import conditions as cond
from biotoets.engine.model import EFFECTS, Rule, RuleBase

from .items import codes_of

LABELS = {
    "en": {
        "verdict": "Verdict", "could_become": "could become", "could_fall_to": "could fall to",
        "complete": "complete", "incomplete": "incomplete — answer the questions below",
        "grounds": "Grounds", "possible": "May also apply (facts missing)", "conditions": "Conditions to fulfil",
        "questions": "Open questions", "open_norms": "Open norms for an assessor to weigh",
        "advice": "Advice (recommended, not legally required; does not change the verdict)",
        "authority": "with or by whom", "defeated": "Set aside by an exception", "checked": "Checked",
        "rules": "rules in force", "domains": "domains", "ruleset": "Rule base", "as_of": "law as of",
        "scenario": "SCENARIO (not current law)", "leads_to": "could lead to", "facts": "facts",
        "allowed": "ALLOWED", "conditional": "CONDITIONAL", "prohibited": "PROHIBITED", "derive": "classification",
        "condition": "Condition", "citations": "Cited", "exceptions": "Exceptions", "valid": "In force",
        "from": "from", "to": "to", "open_norm": "Open norm", "notes": "Notes", "effect": "Effect",
        "domain": "Domain", "explanation": "Explanation", "transitional": "Transitional provision",
        "unverified": "wording not verified in a primary source", "derives": "derives",
        "changes": "What would change it",
        "facts_read": "Facts read", "derived_by": "derived by",
        "assessor": "a judgement an assessor must weigh",
        "undetermined": "Not enough information yet", "on_facts_given": "on the facts given",
        "range": "range", "tier": "tier", "not_assessed": "Not assessed yet",
        "activities": "Activities (each checked on its own; the strictest outcome counts)", "only_for": "for",
    },
    "nl": {
        "verdict": "Oordeel", "could_become": "kan worden", "could_fall_to": "kan dalen tot",
        "complete": "volledig", "incomplete": "onvolledig — beantwoord de vragen hieronder",
        "grounds": "Gronden", "possible": "Kan ook van toepassing zijn (gegevens ontbreken)",
        "conditions": "Voorwaarden", "questions": "Open vragen", "open_norms": "Open normen voor de beoordelaar",
        "advice": "Advies (aanbevolen, niet wettelijk verplicht; verandert het oordeel niet)",
        "authority": "bij of door wie", "defeated": "Opzij gezet door een uitzondering", "checked": "Getoetst",
        "rules": "regels van kracht", "domains": "domeinen", "ruleset": "Regelbestand", "as_of": "peildatum",
        "scenario": "SCENARIO (geen geldend recht)", "leads_to": "kan leiden tot", "facts": "feiten",
        "allowed": "TOEGESTAAN", "conditional": "ONDER VOORWAARDEN", "prohibited": "VERBODEN",
        "derive": "classificatie",
        "condition": "Voorwaarde", "citations": "Bronnen", "exceptions": "Uitzonderingen", "valid": "Geldig",
        "from": "vanaf", "to": "tot en met", "open_norm": "Open norm", "notes": "Toelichting", "effect": "Gevolg",
        "domain": "Domein", "explanation": "Uitleg", "transitional": "Overgangsrecht",
        "unverified": "tekst niet in een primaire bron geverifieerd", "derives": "leidt af",
        "changes": "Wat het oordeel zou veranderen",
        "facts_read": "Gelezen feiten", "derived_by": "afgeleid door",
        "assessor": "een afweging voor de beoordelaar",
        "undetermined": "Nog niet genoeg informatie", "on_facts_given": "op grond van de gegeven feiten",
        "range": "bereik", "tier": "niveau", "not_assessed": "Nog niet beoordeeld",
        "activities": "Activiteiten (elk apart getoetst; de strengste uitkomst telt)", "only_for": "voor",
    },
}


def _cite(c: dict[str, Any], lang: str) -> str:
    line = f"{c['citation']}, {c['article']}"
    if c.get("identifier"):
        line += f" [{c['identifier']}]"
    if c.get("quote"):
        line += f' — "{c["quote"]}"'
    if c.get("url"):
        line += f" <{c['url']}>"
    if not c.get("verified", True):
        line += f" ({LABELS[lang]['unverified']})"
    return line


def _value(v: Any, fact: str = "") -> str:
    if fact == "export.items" and isinstance(v, list):  # items in words, with the Annex I codes they map to
        return "[" + ", ".join(f"{i} ({', '.join(codes_of([i]))})" if codes_of([i]) else i for i in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


def _only_for(v: dict[str, Any], key: str) -> dict[str, str]:
    """For a proposal that is several activities: the items of ``key`` that came from some activities only."""
    out: dict[str, list[str]] = {}
    for a in v.get("activities") or []:
        for item in a.get(key, []):
            out.setdefault(item, []).append(a["activity"])
    return {item: ", ".join(names) for item, names in out.items()}


def verdict_text(v: dict[str, Any], lang: str = "en") -> str:
    L = LABELS[lang]
    only = {key: _only_for(v, key) for key in ("grounds", "conditions", "questions", "changes")}

    def tag(key: str, item: str) -> str:
        return f"  ({L['only_for']} {only[key][item]})" if item in only[key] else ""

    out: list[str] = []
    head = f"{L['verdict']}: {L[v['verdict']]}"
    if v.get("determined") is False:
        # Not a verdict yet: what the facts given say, and how far the open scope questions can move it.
        span = sorted({v["could_fall_to"], v["verdict"], v["could_become"]}, key=list(EFFECTS).index)
        head = (f"{L['undetermined']}  ({L['on_facts_given']}: {L[v['verdict']]}; "
                f"{L['range']}: {' – '.join(L[x] for x in (span[0], span[-1])) if len(span) > 1 else L[span[0]]})")
    elif not v["complete"]:
        head += f"  ({L['incomplete']}; {L['could_become']} {L[v['could_become']]}"
        if v.get("could_fall_to", v["verdict"]) != v["verdict"]:
            head += f", {L['could_fall_to']} {L[v['could_fall_to']]}"
        head += ")"
    out.append(head)
    scenario = v["ruleset"].get("scenario")
    if scenario:
        out.append(f"{L['scenario']}: {scenario['id']} — {scenario['title'][lang]} [{scenario['status']}]")
    out.append(v["summary"])
    if v.get("activities"):
        out += ["", L["activities"] + ":"]
        for a in v["activities"]:
            more = "" if a["could_become"] == a["verdict"] else f"; {L['could_become']} {L[a['could_become']]}"
            out.append(f"  {a['activity']}: {L[a['verdict']]}{more}"
                       + ("" if a["determined"] else f" ({L['undetermined'].lower()})"))
    if v["grounds"]:
        out += ["", L["grounds"] + ":"]
        for g in v["grounds"]:
            eff = L[g["effect"]] if g["effect"] != "derive" else f"{L['derive']} → {g.get('derives')}"
            if g["rule"] == "_checked" and not v.get("determined", True):
                eff = L["checked"].upper()  # nothing applies on the facts given, which is no verdict yet
            out.append(f"  [{eff}] {g['title'][lang]}  ({g['rule']}){tag('grounds', g['rule'])}")
            for c in g["citations"]:
                out.append(f"      {_cite(c, lang)}")
            facts = ", ".join(f"{k}={_value(val, k)}" for k, val in g["facts"].items())
            out.append(f"      {L['facts']}: {facts}")
    if v["defeated"]:
        out += ["", L["defeated"] + ":"]
        for d in v["defeated"]:
            out.append(f"  {d['title'][lang]} ({d['rule']}) ← {', '.join(d['by'])}")
    if v["conditions"]:
        out += ["", L["conditions"] + ":"]
        for c in v["conditions"]:
            out.append(f"  [ ] {c['what'][lang]}{tag('conditions', c['rule'])}")
            out.append(f"      {L['authority']}: {c['authority'][lang]}; {_cite(c['citation'], lang)}")
            if c.get("if_refused"):
                out.append(f"      {c['if_refused']['text'][lang]}")
    if v["open_norms"]:
        out += ["", L["open_norms"] + ":"]
        for n in v["open_norms"]:
            out.append(f"  ! {n['norm'][lang]} ({n['rule']})")
    if v.get("advice"):
        out += ["", L["advice"] + ":"]
        for a in v["advice"]:
            out.append(f"  i {a['title'][lang]} ({a['rule']})")
            for c in a["sources"]:
                out.append(f"      {_cite(c, lang)}")
    if v.get("changes"):
        out += ["", L["changes"] + ":"]
        for ch in v["changes"]:
            out.append(f"  - {ch['text'][lang]}{tag('changes', ch['fact'])}")
    if v["questions"]:
        out += ["", L["questions"] + ":"]
        for q in v["questions"]:
            tier = f"{L['tier']} {q['tier']}; " if "tier" in q else ""
            out.append(f"  ? {q['question'][lang]}  [{tier}{q['fact']}; {L['leads_to']} {L[q['could_lead_to']]}]"
                       + tag("questions", q["fact"]))
    if v["possible_grounds"]:
        out += ["", L["possible"] + ":"]
        for g in v["possible_grounds"][:12]:
            out.append(f"  ~ [{L[g['effect']]}] {g['title'][lang]} ({g['rule']})")
        if len(v["possible_grounds"]) > 12:
            out.append(f"  … +{len(v['possible_grounds']) - 12}")
    if v.get("not_assessed"):
        out += ["", L["not_assessed"] + ":"]
        for n in v["not_assessed"]:
            out.append(f"  … {n['text'][lang]}")
    rs = v["ruleset"]
    out += [
        "",
        f"{L['checked']}: {rs['rules_in_force']} {L['rules']}; {L['domains']}: {', '.join(v['checked']['domains'])}",
        f"{L['ruleset']}: {rs['hash'][:16]} · {L['as_of']} {rs['as_of']} · engine {rs['engine_version']}",
        "",
        v["disclaimer"][lang],
    ]
    return "\n".join(out)


def rule_text(base: RuleBase, rule: Rule, lang: str = "en") -> str:
    """A rule as a lawyer reads it: title, condition in words, articles quoted, identifiers linked."""
    L = LABELS[lang]
    eff = L[rule.effect] if rule.effect != "derive" else f"{L['derive']} ({L['derives']} {rule.derives})"
    out = [
        f"{rule.id}",
        f"{rule.title.get(lang)}",
        "",
        f"{L['effect']}: {eff}",
        f"{L['domain']}: {rule.domain} ({base.domains[rule.domain].get(lang)}) — rules/{rule.file}",
        f"{L['valid']}: {L['from']} {rule.valid_from}" + (f" {L['to']} {rule.valid_to}" if rule.valid_to else ""),
        "",
        f"{L['condition']}:",
    ]
    out += ["  " + line for line in cond.words(rule.when, lang=lang)]
    out += ["", f"{L['facts_read']}:"]
    derived = base.derived_facts()
    for name in sorted(rule.facts):
        if name in derived:
            by = ", ".join(r.id for r in derived[name])
            out.append(f"  {name}: {L['derived_by']} {by}")
        elif name in base.questions:
            out.append(f"  {name}: {base.questions[name].get(lang)}")
    if rule.explanation:
        out += ["", f"{L['explanation']}: {rule.explanation.get(lang)}"]
    if rule.citations:
        out += ["", f"{L['citations']}:"]
        for c in rule.citations:
            src = base.sources[c.source]
            art = src.articles[c.article]
            out.append(f"  {src.title.get(lang)} — {c.article}")
            out.append(f"    {art.summary.get(lang)}")
            quote = c.quote or art.quote
            if quote:
                out.append(f'    "{quote}"')
            ident = f"    {src.identifier}" if src.identifier else "   "
            out.append(ident + (f"  <{art.url or src.url}>" if (art.url or src.url) else ""))
            if not art.verified or src.verification in ("secondary", "unverified"):
                out.append(f"    ({L['unverified']})")
    if rule.conditions:
        out += ["", L["conditions"] + ":"]
        for todo in rule.conditions:
            out.append(f"  [ ] {todo.what.get(lang)} — {L['authority']}: {todo.authority.get(lang)} "
                       f"({todo.citation.article})")
    if rule.exceptions:
        out += ["", f"{L['exceptions']}: " + ", ".join(rule.exceptions)]
    if rule.open_norm:
        out += ["", f"{L['open_norm']} ({L['assessor']}): {rule.open_norm.get(lang)}"]
    if rule.transitional:
        out += ["", f"{L['transitional']}: {rule.transitional.get(lang)}"]
    if rule.notes:
        out += ["", f"{L['notes']}: {rule.notes}"]
    return "\n".join(out)
