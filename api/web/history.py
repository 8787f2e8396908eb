"""A check's earlier evaluations as an assessor reads them: for each new evaluation, which answers changed (from
what to what) and whether the verdict moved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..documents import answers as ans
from . import form as webform


def changes(lang: str, before: Mapping[str, Any], after: Mapping[str, Any],
            order: Sequence[str]) -> list[dict[str, Any]]:
    """The answers that differ between two proposals, in the questions' order (a missing answer: I don't know)."""
    old, new = ans.known_facts(before), ans.known_facts(after)
    rank = {f: i for i, f in enumerate(order)}
    facts = sorted({f for f in (*old, *new) if ans.answerable(f) and old.get(f) != new.get(f)},
                   key=lambda f: (rank.get(f, len(rank)), f))
    return [{"label": webform.fact_label(f, lang), "before": webform.value_label(f, old.get(f), lang),
             "after": webform.value_label(f, new.get(f), lang)} for f in facts]


def diffs(lang: str, revisions: Sequence[Mapping[str, Any]], proposals: Mapping[int, Mapping[str, Any]],
          current: Mapping[str, Any], current_revision: int, current_verdict: str,
          order: Sequence[str]) -> list[dict[str, Any]]:
    """Each step from one evaluation to the next, newest first: revisions, verdicts and changed answers."""
    steps = []
    chain = [(r["revision"], r["verdict"], proposals.get(r["revision"], {})) for r in revisions]
    chain.append((current_revision, current_verdict, current))
    for (rev_a, verdict_a, doc_a), (rev_b, verdict_b, doc_b) in zip(chain, chain[1:], strict=False):
        steps.append({"from": rev_a, "to": rev_b, "verdict_before": verdict_a, "verdict_after": verdict_b,
                      "changes": changes(lang, doc_a, doc_b, order)})
    return steps[::-1]
