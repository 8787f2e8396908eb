"""The slim verdict: the form stored and answered by default, and its expansion into the full form.

The full verdict (``engine/verdict.build_verdict``, schemas/verdict.schema.json) repeats for every ground a
rule's bilingual title, its citations with their sources' titles, summaries and URLs, its explanation and open
norm, and every question's text in both languages. All of that is static: it belongs to the rule base the
verdict was made with (its digest is ``ruleset.hash``), and the catalogue (``/v1/rules``, ``/v1/sources``,
``/v1/questions``) holds it. The slim form (schemas/verdict-slim.schema.json, built directly by
``engine/slim.build_slim``) keeps what belongs to this verdict and refers to rules, conditions and questions by
id -- long lists of rules (a question's rules, the rules waiting on a scope question) and the trace by rule number
(``compiler.rule_numbers``) -- with its summary and disclaimer in the verdict's language (``lang``). What follows
from the rest and the rule base is left out and made again here: what was checked, the "nothing applies"
ground, why the outcome is not determined, the texts of refusals and of waiting rules (the engine's wording,
like the disclaimer). An answer carries the texts of what the verdict names, in its language, beside it
(``texts``); they are not stored.

``slim(verdict, base)`` and ``expand(slim, base)`` are each other's inverse for the rule base ``base`` the
verdict was evaluated under (``expand(slim(v, base), base) == v``, a hypothesis property). Expansion of an
old check must use *its* rule base, found by ``ruleset.hash`` (``store/bases.py``): never today's texts for
yesterday's verdict. When that rule base is lost, ``readable`` gives the full form's shape from the slim form
alone, naming rules and questions by id, for pages and the terminal. Every reader of a stored verdict goes
through ``full``, which also accepts checks stored in the full form before slim verdicts, and in the first slim
form (``slim_v1``: checks whose rule base 0008 could not find).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from biotoets.engine.compiler import fired_rule, rule_numbers
from biotoets.engine.model import RuleBase, per_rule_base
from biotoets.engine.relevance import REFUSED, not_assessed_text
from biotoets.engine.slim import CHECKED, SLIM, slim_trace, verdict_texts
from biotoets.engine.verdict import advice_json, checked, checked_ground, ground_json, undetermined

from . import slim_v1
from .slim_v1 import MAY_APPLY, WrongRuleBase, disclaimer

__all__ = ["SLIM", "WrongRuleBase", "applying", "disclaimer", "exactly", "expand", "full", "is_slim", "readable",
           "slim", "texts"]


def is_slim(verdict: Mapping[str, Any]) -> bool:
    return verdict.get("view") == SLIM


def _is_first_form(verdict: Mapping[str, Any]) -> bool:
    return "checked" in verdict  # the first slim form kept it; this one makes it from the rule base


def _check_base(verdict: Mapping[str, Any], base: RuleBase) -> None:
    if verdict["ruleset"]["hash"] != base.digest:
        raise WrongRuleBase(f"the verdict was evaluated under ruleset {verdict['ruleset']['hash'][:12]}, "
                            f"not {base.digest[:12]}")


class _Numbers:
    def __init__(self, base: RuleBase) -> None:
        self.ids = rule_numbers(base)
        self.of = {rid: n for n, rid in enumerate(self.ids)}


_numbers = per_rule_base(_Numbers)
_DROPPED = ("undetermined", "checked")  # made again from the rest by ``expand``


# -- full -> slim -----------------------------------------------------------------------------------------
def slim(verdict: Mapping[str, Any], base: RuleBase, lang: str | None = None) -> dict[str, Any]:
    """The slim form of a full verdict, in ``lang`` (default: the verdict's): its summary stays as it is, its
    disclaimer in that language. A verdict whose texts are not its rule base's and the engine's wording does not
    come back whole: ``exactly`` checks that."""
    if is_slim(verdict):
        return dict(verdict)
    _check_base(verdict, base)
    lang = lang or verdict["lang"]
    number = _numbers(base).of
    values: dict[str, Any] = {}

    def keep(g: Mapping[str, Any]) -> Mapping[str, Any]:
        values.update(g["facts"])  # a fact has one value in every ground ("unknown" ones are dropped at the end)
        return g

    out: dict[str, Any] = {"view": SLIM}
    for key, value in verdict.items():
        if key in _DROPPED:
            continue
        if key == "grounds":
            out[key] = [CHECKED if g["rule"] == CHECKED else {"rule": keep(g)["rule"], "effect": g["effect"]}
                        for g in value]
        elif key == "possible_grounds":
            out[key] = [keep(g)["rule"] for g in value]
        elif key == "not_assessed":
            out[key] = [{"until": g["until"], "domains": _domain_counts(base, g["rules"]),
                         "rules": [number[r] for r in g["rules"]]} for g in value]
        elif key == "defeated":
            out[key] = [{"rule": d["rule"], "by": d["by"]} for d in value]
        elif key == "conditions":
            out[key] = [_slim_condition(base, c) for c in value]
        elif key == "questions":
            out[key] = [{"fact": q["fact"], "could_lead_to": q["could_lead_to"],
                         "rules": [number[r] for r in q["rules"]], "tier": q["tier"]} for q in value]
        elif key == "open_norms":
            out[key] = [{"rule": n["rule"], "status": n["status"]} for n in value]
        elif key == "advice":
            # (an item of another shape than a rule's advice is kept as it is)
            out[key] = [keep(a)["rule"] if "rule" in a and "facts" in a else dict(a) for a in value]
        elif key == "trace":
            out[key] = slim_trace(value)
        elif key == "disclaimer":
            out[key] = value[lang]
        elif key == "lang":
            out[key] = lang
        else:  # verdict, summary, changes, derived, ruleset, ...: kept as they are
            out[key] = value
    out["values"] = {fact: value for fact, value in values.items() if value != "unknown"}
    return out


def exactly(verdict: Mapping[str, Any], base: RuleBase) -> dict[str, Any] | None:
    """The slim form of a full verdict if it expands back to exactly that verdict, else None."""
    try:
        thin = slim(verdict, base)
        return thin if expand(thin, base) == verdict else None
    except (KeyError, ValueError, TypeError, IndexError):  # a shape this rule base cannot name
        return None


def _domain_counts(base: RuleBase, rule_ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rid in rule_ids:
        counts[base.rules[rid].domain] = counts.get(base.rules[rid].domain, 0) + 1
    return dict(sorted(counts.items()))


def _slim_condition(base: RuleBase, c: Mapping[str, Any]) -> dict[str, Any]:
    out = slim_v1._slim_condition(base, c, "en")
    del out["what"], out["authority"]  # the rule's n-th condition: its texts are in the catalogue
    if "if_refused" in out:  # its text is the engine's (relevance.REFUSED)
        out["if_refused"] = {"rules": out["if_refused"]["rules"]}
    return out


# -- slim -> full -----------------------------------------------------------------------------------------
def expand(verdict: Mapping[str, Any], base: RuleBase) -> dict[str, Any]:
    """The full form of a slim verdict, with the texts of ``base``: the rule base it was evaluated under."""
    if not is_slim(verdict):
        return dict(verdict)
    _check_base(verdict, base)
    if _is_first_form(verdict):
        return slim_v1.expand(verdict, base)
    ids = _numbers(base).ids
    values: dict[str, Any] = dict(verdict["values"])
    rules, gates = base.rules, base.gates
    questions = [{"fact": q["fact"], "question": base.questions[q["fact"]].as_dict(),
                  "could_lead_to": q["could_lead_to"], "rules": [ids[n] for n in q["rules"]], "tier": q["tier"],
                  "depends_on": list(gates.questions[q["fact"]].depends_on) if q["fact"] in gates.questions else []}
                 for q in verdict["questions"]]
    open_scope = [q["fact"] for q in questions if q["tier"] == "A"]
    on = dt.date.fromisoformat(verdict["ruleset"]["as_of"])
    out: dict[str, Any] = {}
    for key, value in verdict.items():
        if key in ("view", "values", "texts"):  # (an answer's texts are its rule base's: the full form has them)
            continue
        if key == "determined":
            out[key] = value
            # (a combined verdict can be determined with scope questions still listed: they cannot change it)
            out["undetermined"] = None if value else undetermined(open_scope)
        elif key == "not_assessed":
            out[key] = [_expand_waiting(g, ids) for g in value]
        elif key == "grounds":
            out[key] = [_expand_ground(base, g, values, on) for g in value]
        elif key == "possible_grounds":
            out[key] = [ground_json(base, rules[rid], values, MAY_APPLY) for rid in value]
        elif key == "defeated":
            out[key] = [{"rule": d["rule"], "title": rules[d["rule"]].title.as_dict(), "by": d["by"]} for d in value]
        elif key == "conditions":
            out[key] = [_expand_condition(base, c) for c in value]
        elif key == "questions":
            out[key] = questions
        elif key == "open_norms":
            out[key] = [{**n, "norm": slim_v1._norm(base, n["rule"])} for n in value]
        elif key == "advice":
            out[key] = [advice_json(base, rules[a], values) if isinstance(a, str) else dict(a) for a in value]
        elif key == "derived":
            out[key] = value
            out["checked"] = checked(base, on)
        elif key == "trace":
            out[key] = _expand_trace(value, ids)
        elif key == "disclaimer":
            out[key] = disclaimer(verdict)
        else:
            out[key] = value
    return out


def _expand_waiting(g: Mapping[str, Any], ids: list[str]) -> dict[str, Any]:
    domains = list(g["domains"])
    rules = [ids[n] for n in g["rules"]]
    return {"until": list(g["until"]), "domains": domains, "rules": rules,
            "text": not_assessed_text(g["until"], domains, len(rules)).as_dict()}


def _expand_ground(base: RuleBase, g: Mapping[str, Any] | str, values: dict[str, Any], on: dt.date) -> dict[str, Any]:
    if g == CHECKED:
        what = checked(base, on)
        return checked_ground(what["rules"], what["domains"])
    assert not isinstance(g, str)
    return ground_json(base, base.rules[g["rule"]], values, "applies")


def _expand_condition(base: RuleBase, c: Mapping[str, Any]) -> dict[str, Any]:
    out = slim_v1._expand_condition(base, c)
    if "if_refused" in out:
        out["if_refused"] = {"rules": list(out["if_refused"]["rules"]), "text": REFUSED.as_dict()}
    return out


def _expand_trace(runs: list[list[Any]], ids: list[str] | None) -> list[dict[str, str]]:
    """The trace's steps (``ids``: the rule base's rule numbers; None when it is lost: the rule is then named by
    its number)."""
    out = []
    for ruleset, steps in runs:
        if isinstance(steps, list):  # steps that are not firings: the declared implications
            out += [{"ruleset": ruleset, "fired": fired, "rule": rule, "form": "implied"} for fired, rule in steps]
            continue
        for name in steps.split(" "):
            if ids is None:
                rule, form = f"#{name[:-1]}", "definite" if name[-1] == "t" else "possible"
            else:
                rule, form = fired_rule(ids, name)
            out.append({"ruleset": ruleset, "fired": name, "rule": rule, "form": form})
    return out


# -- reading a stored verdict -----------------------------------------------------------------------------
def readable(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The full form's shape from a slim verdict alone, for when its rule base is lost: each text in the
    verdict's one language (``{lang: text}``), no citations (the rule ids say where to look), rules the slim form
    names by number named ``#n``."""
    if not is_slim(verdict):
        return dict(verdict)
    if _is_first_form(verdict):
        return slim_v1.readable(verdict)
    lang = verdict["lang"]
    first = {k: v for k, v in verdict.items() if k != "texts"}
    # In the first form's shape (its readable view is the one pages know), with what this form leaves out.
    nothing = checked_ground(verdict["ruleset"]["rules_in_force"], [])
    first["grounds"] = [{**nothing, "title": {lang: nothing["title"][lang]}} if g == CHECKED else
                        {**g, "status": "applies", "title": g["rule"]} for g in verdict["grounds"]]
    first["defeated"] = [{**d, "title": d["rule"]} for d in verdict["defeated"]]
    first["conditions"] = [{**c, "what": "", "authority": ""} for c in verdict["conditions"]]
    first["advice"] = [{"rule": a, "title": a} if isinstance(a, str) else a for a in verdict["advice"]]
    open_scope = [q["fact"] for q in verdict["questions"] if q["tier"] == "A"]
    first["undetermined"] = None if verdict["determined"] else undetermined(open_scope)
    first["not_assessed"] = [
        {"until": g["until"], "domains": list(g["domains"]), "rules": [f"#{n}" for n in g["rules"]],
         "text": {lang: not_assessed_text(g["until"], g["domains"], len(g["rules"])).get(lang)}}
        for g in verdict["not_assessed"]]
    first["questions"] = [{**q, "question": q["fact"], "rules": [f"#{n}" for n in q["rules"]], "depends_on": []}
                          for q in verdict["questions"]]
    first["checked"] = {"domains": [], "rules": verdict["ruleset"]["rules_in_force"]}
    first["trace"] = []
    out = slim_v1.readable(first)
    out["trace"] = _expand_trace(verdict["trace"], None)
    return out


def texts(verdict: Mapping[str, Any], base: RuleBase | None) -> dict[str, Any] | None:
    """The texts an answer carries beside a slim verdict (``engine/slim.verdict_texts``), from the rule base it
    was evaluated under; None when that is not known here, or the verdict is not in today's slim form (the full
    form and the first slim form have their texts inline)."""
    if base is None or not is_slim(verdict) or _is_first_form(verdict) or verdict["ruleset"]["hash"] != base.digest:
        return None
    return verdict_texts(base, dict(verdict))


def applying(verdict: Mapping[str, Any]) -> list[str]:
    """The rules that apply and decide the verdict (not the classifications), in any form of a verdict."""
    return [g["rule"] for g in verdict["grounds"]
            if g != CHECKED and g.get("status", "applies") == "applies" and g["effect"] != "derive"]


def full(verdict: Mapping[str, Any], base: RuleBase | None) -> dict[str, Any]:
    """A stored verdict in the full form: expanded with its own rule base, or -- that lost -- ``readable``."""
    if not is_slim(verdict):
        return dict(verdict)
    if base is None:
        return readable(verdict)
    return expand(verdict, base)
