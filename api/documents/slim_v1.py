"""The first slim form (stored from migration 0007 until 0008; issue 17, first part): read and written here only
to read checks still stored in it (their rule base lost, so 0008 could not rewrite them) and for 0008's downgrade.

It differs from today's form (``slim.py``) in: ``checked``, ``undetermined`` and ``next_question`` kept; grounds
with their ``status``; the "nothing applies" ground, ``not_assessed`` (rule ids and text), questions'
``depends_on`` and refusals' text kept whole; the trace as ``[ruleset, ["<durable rule> <rule id> <d|p|i>", ...]]``.
It is told apart by its ``checked`` field. ``slim(expand(v, base), base) == v`` for the rule base ``base`` the
verdict was evaluated under (the callers check that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from biotoets.engine.model import RuleBase, per_rule_base
from biotoets.engine.verdict import ADVICE_LABEL, DISCLAIMER, advice_json, citation_json, ground_json

SLIM = "slim"
CHECKED = "_checked"
MAY_APPLY = "may_apply"  # the ground an allowed verdict gets: what was checked (its text is made per verdict)


class WrongRuleBase(ValueError):
    """A verdict was to be slimmed or expanded with a rule base it was not evaluated under."""


_FORMS = {"definite": "d", "possible": "p", "implied": "i"}
_FORM_NAMES = {v: k for k, v in _FORMS.items()}


# -- full -> slim -----------------------------------------------------------------------------------------
def slim(verdict: Mapping[str, Any], base: RuleBase, lang: str | None = None) -> dict[str, Any]:
    """The slim form of a full verdict, with its catalogue texts in ``lang`` (default: the verdict's)."""
    lang = lang or verdict["lang"]
    values: dict[str, Any] = {}
    out: dict[str, Any] = {"view": SLIM}
    for key, value in verdict.items():
        if key == "grounds":
            out[key] = [_slim_ground(g, lang, values) for g in value]
        elif key == "possible_grounds":  # rules that may apply: by id only (their titles are in the catalogue)
            out[key] = [g["rule"] if g["status"] == MAY_APPLY else _slim_ground(g, lang, values)
                        for g in (_keep_values(g, values) for g in value)]
        elif key == "defeated":
            out[key] = [{"rule": d["rule"], "by": d["by"], "title": d["title"][lang]} for d in value]
        elif key == "conditions":
            out[key] = [_slim_condition(base, c, lang) for c in value]
        elif key == "questions":
            out[key] = [{**q, "question": q["question"][lang]} for q in value]
        elif key == "open_norms":
            out[key] = [{"rule": n["rule"], "status": n["status"]} for n in value]
        elif key == "advice":
            out[key] = [_slim_advice(a, lang, values) for a in value]
        elif key == "trace":
            out[key] = _slim_trace(value)
        elif key == "disclaimer":
            out[key] = value[lang]
        elif key == "lang":
            out[key] = lang
        else:  # verdict, summary, changes, derived, ruleset, the relevance fields, ...: kept as they are
            out[key] = value
    out["values"] = {fact: value for fact, value in values.items() if value != "unknown"}
    return out


def _keep_values(g: Mapping[str, Any], values: dict[str, Any]) -> Mapping[str, Any]:
    values.update(g["facts"])  # a fact has one value in every ground ("unknown" ones are dropped at the end)
    return g


def _slim_ground(g: Mapping[str, Any], lang: str, values: dict[str, Any]) -> dict[str, Any]:
    if g["rule"] == CHECKED:
        return dict(g)
    _keep_values(g, values)
    return {"rule": g["rule"], "status": g["status"], "effect": g["effect"], "title": g["title"][lang]}


def _is_slim_advice(a: Mapping[str, Any]) -> bool:
    return set(a) == {"rule", "title"} and isinstance(a["title"], str)


def _slim_advice(a: Mapping[str, Any], lang: str, values: dict[str, Any]) -> dict[str, Any]:
    if "rule" not in a or "facts" not in a:  # not a rule's advice as the engine writes it: kept as it is
        return dict(a)
    _keep_values(a, values)
    return {"rule": a["rule"], "title": a["title"][lang]}


def _condition_numbers(base: RuleBase) -> dict[tuple[str, str, str, str, str], int]:
    return {(r.id, k.what.nl, k.what.en, k.authority.nl, k.authority.en): i
            for r in base.rules.values() for i, k in enumerate(r.conditions)}


_numbers = per_rule_base(_condition_numbers)


def _slim_condition(base: RuleBase, c: Mapping[str, Any], lang: str) -> dict[str, Any]:
    what, authority = c["what"], c["authority"]
    index = _numbers(base)[(c["rule"], what["nl"], what["en"], authority["nl"], authority["en"])]
    extra = {k: v for k, v in c.items() if k not in ("rule", "what", "authority", "citation")}
    return {"rule": c["rule"], "n": index, "what": c["what"][lang], "authority": c["authority"][lang], **extra}


def _slim_trace(trace: list[Mapping[str, str]]) -> list[list[Any]]:
    """Runs of firings by ruleset: ``[[ruleset, ["fired rule form", ...]], ...]`` (form d, p or i)."""
    runs: list[list[Any]] = []
    for step in trace:
        if not runs or runs[-1][0] != step["ruleset"]:
            runs.append([step["ruleset"], []])
        runs[-1][1].append(f"{step['fired']} {step['rule']} {_FORMS[step['form']]}")
    return runs


# -- slim -> full -----------------------------------------------------------------------------------------
def expand(verdict: Mapping[str, Any], base: RuleBase) -> dict[str, Any]:
    """The full form of a slim verdict, with the texts of ``base``: the rule base it was evaluated under."""
    values: dict[str, Any] = dict(verdict["values"])
    rules = base.rules
    out: dict[str, Any] = {}
    for key, value in verdict.items():
        if key in ("view", "values"):
            continue
        if key in ("grounds", "possible_grounds"):
            out[key] = [_expand_ground(base, g, values) for g in value]
        elif key == "defeated":
            out[key] = [{"rule": d["rule"], "title": rules[d["rule"]].title.as_dict(), "by": d["by"]} for d in value]
        elif key == "conditions":
            out[key] = [_expand_condition(base, c) for c in value]
        elif key == "questions":
            out[key] = [{**q, "question": base.questions[q["fact"]].as_dict()} for q in value]
        elif key == "open_norms":
            out[key] = [{**n, "norm": _norm(base, n["rule"])} for n in value]
        elif key == "advice":
            # (an item of another shape than a rule's advice is kept as it is)
            out[key] = [advice_json(base, rules[a["rule"]], values) if _is_slim_advice(a) else dict(a) for a in value]
        elif key == "trace":
            out[key] = _expand_trace(value)
        elif key == "disclaimer":
            out[key] = disclaimer(verdict)
        else:
            out[key] = value
    return out


def _expand_ground(base: RuleBase, g: Mapping[str, Any] | str, values: dict[str, Any]) -> dict[str, Any]:
    if isinstance(g, str):
        return ground_json(base, base.rules[g], values, MAY_APPLY)
    if g["rule"] == CHECKED:
        return dict(g)
    return ground_json(base, base.rules[g["rule"]], values, g["status"])


def _norm(base: RuleBase, rule_id: str) -> dict[str, str]:
    norm = base.rules[rule_id].open_norm
    if norm is None:
        raise WrongRuleBase(f"rule {rule_id} has no open norm in ruleset {base.digest[:12]}")
    return norm.as_dict()


def _expand_condition(base: RuleBase, c: Mapping[str, Any]) -> dict[str, Any]:
    cond = base.rules[c["rule"]].conditions[c["n"]]
    extra = {k: v for k, v in c.items() if k not in ("rule", "n", "what", "authority")}
    return {"rule": c["rule"], "what": cond.what.as_dict(), "authority": cond.authority.as_dict(),
            "citation": citation_json(base, cond.citation), **extra}


def _expand_trace(runs: list[list[Any]]) -> list[dict[str, str]]:
    out = []
    for ruleset, steps in runs:
        for step in steps:
            fired, rule, form = step.split(" ")
            out.append({"ruleset": ruleset, "fired": fired, "rule": rule, "form": _FORM_NAMES[form]})
    return out


# -- reading a stored verdict -----------------------------------------------------------------------------
def readable(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The full form's shape from a slim verdict alone, for when its rule base is lost: each text in the
    verdict's one language (``{lang: text}``), no citations (the rule ids say where to look)."""
    lang = verdict["lang"]
    values = verdict["values"]

    def text(s: str) -> dict[str, str]:
        return {lang: s}

    def ground(g: Mapping[str, Any] | str) -> dict[str, Any]:
        if isinstance(g, str):  # a rule that may apply, by id: its title and effect are in its lost rule base
            return {"rule": g, "status": MAY_APPLY, "title": text(g), "domain": g.split(".")[0], "effect": "allowed",
                    "facts": {}, "citations": []}
        if g["rule"] == CHECKED:
            return dict(g)
        return {"rule": g["rule"], "status": g["status"], "title": text(g["title"]), "domain": g["rule"].split(".")[0],
                "effect": g["effect"], "facts": {}, "citations": []}

    out: dict[str, Any] = {k: v for k, v in verdict.items() if k not in ("view", "values")}
    out.update(
        grounds=[ground(g) for g in verdict["grounds"]],
        possible_grounds=[ground(g) for g in verdict["possible_grounds"]],
        defeated=[{"rule": d["rule"], "title": text(d["title"]), "by": d["by"]} for d in verdict["defeated"]],
        conditions=[{**{k: v for k, v in c.items() if k != "n"}, "what": text(c["what"]),
                     "authority": text(c["authority"]), "citation": _lost_citation(c["rule"])}
                    for c in verdict["conditions"]],
        questions=[{**q, "question": text(q["question"])} for q in verdict["questions"]],
        open_norms=[{**n, "norm": text("")} for n in verdict["open_norms"]],
        advice=[{"rule": a["rule"], "title": text(a["title"]), "label": ADVICE_LABEL.as_dict(), "facts": {},
                 "sources": []} if _is_slim_advice(a) else dict(a) for a in verdict.get("advice", [])],
        trace=_expand_trace(verdict["trace"]),
        disclaimer=disclaimer(verdict),
    )
    out["values"] = values
    return out


def _lost_citation(rule_id: str) -> dict[str, Any]:
    """A citation's place when the rule base is lost: the rule's id is all that is known of it."""
    return {"source": None, "source_title": {}, "citation": rule_id, "article": "", "article_summary": {},
            "identifier": None, "url": None, "quote": None, "binding": True, "verified": False}


def disclaimer(verdict: Mapping[str, Any]) -> dict[str, str]:
    """The verdict's disclaimer in both languages: the engine's wording, with the stored text in the verdict's
    language (the disclaimer is the engine's, not the rule base's)."""
    if verdict.get("view") != SLIM:
        return dict(verdict["disclaimer"])
    return {**DISCLAIMER.as_dict(), verdict["lang"]: verdict["disclaimer"]}
