"""Synthetic rule bases of the real rules' shapes, for the scaling benchmark.

A synthetic base of N rules keeps every classification rule of the real base and
fills up to N with the real verdict rules and then *clones* of them: the same
condition tree, citations, conditions and exceptions, with the literals redrawn
from the facts' own value ranges (another enum member, another threshold, a
flipped boolean test). So the shapes -- depth, width, operators, derived-fact
reads, exceptions -- are the real ones; only the numbers of rules differ.
The result goes through the real loader's cross-checks (``build_from_documents``).
"""

from __future__ import annotations

import copy
import random
from typing import Any

from biotoets.engine.loader import Documents, build_from_documents, read_documents
from biotoets.engine.model import RuleBase


def _redraw(node: Any, base: RuleBase, rng: random.Random) -> Any:
    if "all" in node or "any" in node:
        k = "all" if "all" in node else "any"
        return {k: [_redraw(x, base, rng) for x in node[k]]}
    if "not" in node:
        return {"not": _redraw(node["not"], base, rng)}
    fact = base.facts[node["fact"]]
    (op,) = [k for k in node if k != "fact"]
    value = node[op]
    if op == "present" or fact.derived or isinstance(value, dict):
        return dict(node)
    if fact.kind == "bool" and isinstance(value, bool):
        value = value if rng.random() < 0.7 else not value
    elif fact.kind == "int" and isinstance(value, int):
        lo = fact.minimum if fact.minimum is not None else 0
        hi = min(fact.maximum if fact.maximum is not None else 100, lo + 60)
        value = rng.randint(lo, hi)
    elif fact.kind == "enum" and fact.values:
        if isinstance(value, list):
            value = sorted(rng.sample(list(fact.values), min(len(value), len(fact.values))))
        else:
            value = rng.choice(fact.values)
    return {"fact": node["fact"], op: value}


def synthetic_documents(n: int, seed: int = 1) -> Documents:
    """The real rule documents grown (or trimmed) to ``n`` rules of the same shapes."""
    docs = read_documents()
    real = build_from_documents(docs)
    rng = random.Random(seed)
    files = [(fname, copy.deepcopy(doc)) for fname, doc in docs.rules]
    derive = [(i, raw) for i, (_, doc) in enumerate(files) for raw in doc["rules"] if raw["effect"] == "derive"]
    verdict = [(i, raw) for i, (_, doc) in enumerate(files) for raw in doc["rules"] if raw["effect"] != "derive"]
    needed = {e for _, raw in verdict for e in raw.get("exceptions", [])}
    keep = n - len(derive)
    if keep < len(needed):
        raise ValueError(f"a rule base of {n} rules cannot hold the real classification rules and exceptions")
    chosen = [x for x in verdict if x[1]["id"] in needed]
    chosen += [x for x in verdict if x[1]["id"] not in needed][: max(0, keep - len(chosen))]
    out_rules: dict[int, list[Any]] = {i: [] for i in range(len(files))}
    for i, raw in derive + chosen:
        out_rules[i].append(raw)
    k = 0
    while sum(len(v) for v in out_rules.values()) < n:
        i, raw = verdict[k % len(verdict)]
        clone = copy.deepcopy(raw)
        clone["id"] = f"{raw['id']}-s{k}"
        clone["when"] = _redraw(raw["when"], real, rng)
        out_rules[i].append(clone)
        k += 1
    rule_docs = []
    for i, (fname, doc) in enumerate(files):
        if out_rules[i]:
            rule_docs.append((fname, {**doc, "rules": out_rules[i]}))
    # The clones read facts wherever their redrawn conditions lead, so the questions' gates (asked only where
    # the rules need them) would not hold for them and the load-time proof would refuse the base: a synthetic
    # base is for timing evaluation, so its questions have no gates (the real base's proof is what matters).
    questions = copy.deepcopy(docs.questions)
    for q in questions["questions"].values():
        q.pop("ask_when", None)
    return Documents(docs.sources, docs.lists, questions, rule_docs, {"synthetic": f"{n}:{seed}".encode()})


def synthetic_rule_base(n: int, seed: int = 1) -> RuleBase:
    return build_from_documents(synthetic_documents(n, seed))
