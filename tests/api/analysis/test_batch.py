"""The process pool gives exactly what evaluating one by one gives, in input order."""

from __future__ import annotations

from datetime import date

import pytest

from biotoets.api.analysis.generate import generate_proposals
from biotoets.api.engines.pool import evaluate_many, summarize
from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import load_rule_base

ON = date(2025, 1, 1)


@pytest.fixture(scope="module")
def proposals() -> list[dict]:
    return generate_proposals(60, seed=21)


@pytest.fixture(scope="module")
def sequential(proposals: list[dict]) -> list[dict]:
    engine = Engine(load_rule_base())
    try:
        return [engine.evaluate(p, ON) for p in proposals]
    finally:
        engine.close()


def test_batch_summaries_equal_sequential_results_in_order(proposals, sequential) -> None:
    seen: list[tuple[int, int]] = []
    out = evaluate_many(proposals, ON, workers=2, chunk=7, progress=lambda d, t: seen.append((d, t)))
    assert out == [summarize(v) for v in sequential]
    assert seen[0] == (0, 60) and seen[-1] == (60, 60)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_batch_full_verdicts_equal_sequential_verdicts(proposals, sequential) -> None:
    assert evaluate_many(proposals[:20], ON, workers=2, chunk=3, summary=False) == sequential[:20]


def test_a_bad_proposal_gives_an_error_entry_not_a_failed_batch(proposals) -> None:
    out = evaluate_many([proposals[0], {"technique": "telepathy"}, proposals[1]], ON, workers=1)
    assert "error" in out[1] and "technique" in out[1]["error"]
    assert "verdict" in out[0] and "verdict" in out[2]


def test_empty_batch() -> None:
    assert evaluate_many([], ON) == []


def test_chunk_must_be_positive(proposals) -> None:
    with pytest.raises(ValueError):
        evaluate_many(proposals, ON, chunk=0)
