"""A proposal that is several activities at once: one verdict from the verdicts for each activity.

The law for each activity applies (embryo research that is also treatment must meet the Embryo Act's research
conditions even though plain treatment need not), so ``Engine.evaluate`` evaluates the proposal once per
activity -- the ordinary path, with ``activity`` set to that one value, checked by the reference evaluator
each time -- and ``combine`` makes one verdict of them:

* ``verdict``, ``could_become``, ``could_fall_to``: the strictest of the parts' (prohibited > conditional >
  allowed). Every outcome of the whole is the strictest of its parts' outcomes, so each bound is the
  strictest of the parts' bounds.
* ``determined``: an undetermined part leaves the whole undetermined only when it could still be stricter
  than what the determined parts already give (a part that may become at most conditional changes nothing
  next to a part that is prohibited); nothing determined at all is undetermined.
* grounds, conditions, permits, questions, open norms, advice, what would change it: the union without
  duplicates (a rule that applies under two activities is one ground), each list in its own order (grounds
  most severe first, questions in relevance order). A rule that applies under one activity is not listed
  as "may apply" or "set aside" for another: it applies.
* ``activities``: per activity its own outcome, and what in the lists above came from that activity alone
  (what every activity shares is not repeated), so a reader sees which activity each ground came from.

A fact's value is the same in every ground (the slim form keeps one value per fact): the activity is the
list of activities; a derived fact that differs between activities reads "differs by activity", with each
activity's value under ``activities``.

Only a proposal with several activities comes here; one activity takes the ordinary path unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from .model import SEVERITY, Text, strictest
from .relevance import question_order, scope_reason, undetermined_summary
from .verdict import summary_text

Verdict = dict[str, Any]
DIFFERS = "differs by activity"
CHECKED = "_checked"


def _union(parts: Sequence[tuple[str, Verdict]], key: str, ident: Callable[[Any], Hashable],
           skip: Callable[[Any], bool] = lambda item: False) -> tuple[list[Any], dict[Hashable, list[str]]]:
    """The items of ``key`` over every part, each once (the first seen), and the activities each came from."""
    items: dict[Hashable, Any] = {}
    where: dict[Hashable, list[str]] = {}
    for activity, v in parts:
        for item in v[key]:
            if skip(item):
                continue
            k = ident(item)
            items.setdefault(k, item)
            if activity not in where.setdefault(k, []):
                where[k].append(activity)
    return list(items.values()), where


def _ground_order(g: dict[str, Any]) -> tuple[int, int, str]:
    """Verdict grounds most severe first, then classifications, each by rule id (as ``build_verdict`` lists them)."""
    return (0, -SEVERITY[g["effect"]], g["rule"]) if g["effect"] in SEVERITY else (1, 0, g["rule"])


def _merged_question(asked: list[dict[str, Any]]) -> dict[str, Any]:
    """One fact asked under several activities: the rules it settles under any, the strictest it can lead to."""
    q = dict(asked[0])
    q["rules"] = list(dict.fromkeys(r for a in asked for r in a["rules"]))
    q["could_lead_to"] = strictest(a["could_lead_to"] for a in asked)
    q["tier"] = min(a["tier"] for a in asked)
    return q


def _values(parts: Sequence[tuple[str, Verdict]]) -> dict[str, Any]:
    """One value per fact over every part's grounds and advice (see the module docstring)."""
    seen: dict[str, list[Any]] = {}
    for _, v in parts:
        for g in (*v["grounds"], *v["possible_grounds"], *v["advice"]):
            for fact, value in g.get("facts", {}).items():
                seen.setdefault(fact, []).append(value)
    out: dict[str, Any] = {}
    for fact, values in seen.items():
        if fact == "activity":
            out[fact] = [a for a, _ in parts]
        else:
            out[fact] = values[0] if all(x == values[0] for x in values) else DIFFERS
    return out


def _with_values(item: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    if "facts" not in item:
        return item
    return {**item, "facts": {f: values.get(f, value) for f, value in item["facts"].items()}}


def verdicts(parts: Sequence[tuple[str, Verdict]]) -> Verdict:
    """One verdict for a proposal that is several activities, from the verdict for each (in the given order)."""
    first = parts[0][1]
    lang = first["lang"]
    verdict = strictest(v["verdict"] for _, v in parts)
    could_become = strictest(v["could_become"] for _, v in parts)
    floor = strictest(v["could_fall_to"] for _, v in parts)
    settled = [v["verdict"] for _, v in parts if v["determined"]]
    open_parts = [v for _, v in parts if not v["determined"]]
    determined = not open_parts or (bool(settled) and all(
        SEVERITY[v["could_become"]] <= SEVERITY[strictest(settled)] for v in open_parts))
    values = _values(parts)
    sharing = len(parts)
    own: dict[str, dict[str, Any]] = {a: {} for a, _ in parts}

    def note(name: str, where: dict[Hashable, list[str]], label: Callable[[Hashable], Any]) -> None:
        for k, activities in where.items():
            if len(activities) < sharing:
                for a in activities:
                    listed = own[a].setdefault(name, [])
                    if label(k) not in listed:
                        listed.append(label(k))

    # Grounds: every rule that applies under some activity; "nothing applies" only when nothing applies under any.
    all_checked = all(any(g["rule"] == CHECKED for g in v["grounds"]) for _, v in parts)
    grounds, where = _union(parts, "grounds", lambda g: g["rule"],
                            skip=lambda g: g["rule"] == CHECKED and not all_checked)
    grounds.sort(key=lambda g: (-1, 0, "") if g["rule"] == CHECKED else _ground_order(g))
    note("grounds", {k: w for k, w in where.items() if k != CHECKED}, lambda k: k)
    applying = {g["rule"] for g in grounds}
    possible, where = _union(parts, "possible_grounds", lambda g: g["rule"], skip=lambda g: g["rule"] in applying)
    note("possible_grounds", where, lambda k: k)
    defeated, _ = _union(parts, "defeated", lambda d: d["rule"], skip=lambda d: d["rule"] in applying)
    conditions, where = _union(parts, "conditions", lambda c: (c["rule"], c["what"]["en"], c["authority"]["en"]))
    rank = {g["rule"]: i for i, g in enumerate(grounds)}
    conditions.sort(key=lambda c: rank.get(c["rule"], len(rank)))
    note("conditions", where, lambda k: k[0])  # type: ignore[index]

    asked: dict[str, list[dict[str, Any]]] = {}
    for _, v in parts:
        for q in v["questions"]:
            asked.setdefault(q["fact"], []).append(q)
    questions = sorted((_merged_question(qs) for qs in asked.values()), key=question_order)
    scoped = {f for v in open_parts for f in (v["undetermined"] or {}).get("scope_questions", [])}
    open_scope = [q["fact"] for q in questions if q["fact"] in scoped]  # in the order they are asked
    if not determined:  # what the proposal involves first, as for one activity
        questions = [q for q in questions if q["tier"] == "A"]
    note("questions", {f: [a for a, v in parts if any(q["fact"] == f for q in v["questions"])] for f in asked},
         lambda k: k)

    norms = {n["rule"]: n for _, v in parts for n in v["open_norms"] if n["status"] == "applies"}
    for _, v in parts:
        for n in v["open_norms"]:
            norms.setdefault(n["rule"], n)
    advice, where = _union(parts, "advice", lambda a: a.get("rule") or repr(a))
    note("advice", where, lambda k: k)
    changes, where = _union(parts, "changes", lambda c: (c["fact"], repr(c["from"]), repr(c["to"]), c["verdict"]))
    note("changes", where, lambda k: k[0])  # type: ignore[index]
    not_assessed, _ = _union(parts, "not_assessed", lambda n: (tuple(n["until"]), tuple(n["rules"])))

    derived: dict[str, Any] = {}
    for fact in sorted({f for _, v in parts for f in v["derived"]}):
        got = {a: v["derived"].get(fact) for a, v in parts}
        same = len({repr(x) for x in got.values()}) == 1
        derived[fact] = next(iter(got.values())) if same else None
        if not same:
            for a, x in got.items():
                own[a].setdefault("derived", {})[fact] = x

    trace: list[dict[str, str]] = []
    for activity, v in parts:
        trace.append({"ruleset": "activity", "fired": f"activity={activity}", "rule": "activity", "form": "implied"})
        trace += v["trace"]

    names = ", ".join(a for a, _ in parts)
    said = Text(f"Getoetst voor elke activiteit ({names}); de strengste uitkomst telt. ",
                f"Checked for each activity ({names}); the strictest outcome counts. ")
    summary = summary_text(verdict, could_become, floor, []) if determined else \
        undetermined_summary(open_scope, verdict, could_become, floor)
    return {
        **first,
        "verdict": verdict,
        "complete": floor == verdict == could_become,
        "determined": determined,
        "undetermined": None if determined or not open_scope else {
            "reason": scope_reason(open_scope).as_dict(), "scope_questions": open_scope},
        "next_question": questions[0]["fact"] if questions else None,
        "not_assessed": not_assessed,
        "could_become": could_become,
        "could_fall_to": floor,
        "summary": said.get(lang) + summary.get(lang),
        "grounds": [_with_values(g, values) for g in grounds],
        "possible_grounds": [_with_values(g, values) for g in possible],
        "defeated": defeated,
        "conditions": conditions,
        "questions": questions,
        "open_norms": [norms[r] for r in dict.fromkeys(n["rule"] for _, v in parts for n in v["open_norms"])],
        "advice": [_with_values(a, values) for a in advice],
        "changes": changes,
        "derived": derived,
        "trace": trace,
        "activities": [
            {"activity": a, "verdict": v["verdict"], "could_become": v["could_become"],
             "could_fall_to": v["could_fall_to"], "determined": v["determined"], **own[a]}
            for a, v in parts
        ],
    }
