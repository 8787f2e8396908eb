"""Impact of a policy scenario: compare verdicts under today's rules and under the scenario, case by case.

Works on compact verdict summaries (verdict, rules that apply, conditions), so
the same comparison serves the case base and a generated population of any size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .model import EFFECTS


def summary(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a verdict an impact analysis compares."""
    return {
        "verdict": verdict["verdict"],
        "could_become": verdict["could_become"],
        "applies": sorted(g["rule"] for g in verdict["grounds"] if g["status"] == "applies"),
        "conditions": sorted([c["rule"], c["what"]["en"]] for c in verdict["conditions"]),
    }


def compare(ids: Sequence[str], before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]],
            keep: int = 500) -> dict[str, Any]:
    """Transition matrix, changed cases with their causes, and conditions that appear or disappear.

    A case *changes* when its verdict, its upper bound or its conditions differ.
    ``keep`` bounds how many changed cases are listed one by one (all are counted).
    """
    matrix = {f: dict.fromkeys(EFFECTS, 0) for f in EFFECTS}
    changed: list[dict[str, Any]] = []
    appear: Counter[tuple[str, str]] = Counter()
    disappear: Counter[tuple[str, str]] = Counter()
    causes: Counter[str] = Counter()
    errors: list[dict[str, str]] = []
    n_changed = 0
    for cid, b, a in zip(ids, before, after, strict=True):
        if "error" in b or "error" in a:
            errors.append({"id": cid, "error": b.get("error") or a.get("error", "")})
            continue
        matrix[b["verdict"]][a["verdict"]] += 1
        b_cond = {tuple(c) for c in b["conditions"]}
        a_cond = {tuple(c) for c in a["conditions"]}
        added_c, removed_c = sorted(a_cond - b_cond), sorted(b_cond - a_cond)
        appear.update(added_c)
        disappear.update(removed_c)
        if b["verdict"] == a["verdict"] and b["could_become"] == a["could_become"] and not added_c and not removed_c:
            continue
        n_changed += 1
        rules_added = sorted(set(a["applies"]) - set(b["applies"]))
        rules_removed = sorted(set(b["applies"]) - set(a["applies"]))
        causes.update(rules_added + rules_removed)
        if len(changed) < keep:
            changed.append({
                "id": cid, "from": b["verdict"], "to": a["verdict"],
                "could_become": [b["could_become"], a["could_become"]],
                "rules_added": rules_added, "rules_removed": rules_removed,
                "conditions_added": [list(c) for c in added_c], "conditions_removed": [list(c) for c in removed_c],
            })
    total = len(ids) - len(errors)
    return {
        "total": total,
        "changed": n_changed,
        "matrix": matrix,
        "changes": changed,
        "causes": dict(causes.most_common()),
        "conditions_appear": [{"rule": r, "what": w, "cases": n} for (r, w), n in appear.most_common()],
        "conditions_disappear": [{"rule": r, "what": w, "cases": n} for (r, w), n in disappear.most_common()],
        "errors": errors,
    }
