"""Evaluate many proposals on all cores: a process pool of engines.

durable_rules holds the GIL and is confined to one thread, so the only way to
use more than one core is more processes. Each worker process builds its own
``Engine`` once, in its initializer, and then evaluates chunks of proposals;
results come back in input order, whatever order the chunks finish in.

Used by the policy-impact report (100,000 generated proposals against today's
rules and an amendment) and by the batch benchmark.

``summary=True`` (the default) returns a compact summary per proposal instead of
the full verdict JSON -- far less to pickle back to the parent: ``Engine.outcome``,
which computes only the outcome, its range, the rules that apply and the conditions
(equal to ``summarize`` of the full verdict) and skips the grounds, questions and
explanations that are most of an evaluation's cost.
A proposal that fails to validate or evaluate gives ``{"error": "..."}`` in its
place rather than stopping the batch.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import load_rule_base
from biotoets.engine.outcome import of_verdict
from biotoets.engine.scenarios import load_scenario

Progress = Callable[[int, int], None]  # (done, total)

_ENGINE: Engine | None = None
_LANG = "en"


def summarize(verdict: dict[str, Any]) -> dict[str, Any]:
    """The compact form of a full verdict: what ``Engine.outcome`` computes without building one (the
    outcome, its range, the rules that apply and the conditions) -- enough to compare rule versions."""
    return of_verdict(verdict)


def _init(rules_dir: str | None, lang: str, scenario: str | None = None) -> None:
    """Worker initializer: build this process's one engine, on this process's main thread."""
    global _ENGINE, _LANG
    directory = Path(rules_dir) if rules_dir else None
    if scenario:
        base, info = load_scenario(scenario, directory)
        _ENGINE = Engine(base, name=f"scenario/{scenario}", scenario=info)
    else:
        _ENGINE = Engine(load_rule_base(directory))
    _LANG = lang


def _run_chunk(args: tuple[int, Sequence[dict[str, Any]], date, bool]) -> tuple[int, list[dict[str, Any]]]:
    start, proposals, on, summary = args
    engine = _ENGINE
    assert engine is not None, "worker was not initialised"
    out: list[dict[str, Any]] = []
    for proposal in proposals:
        try:
            # A summary is the outcome alone (Engine.outcome): no grounds, questions or explanations to build.
            out.append(engine.outcome(proposal, on) if summary else engine.evaluate(proposal, on, lang=_LANG))
        except Exception as exc:  # one bad proposal must not sink the batch
            out.append({"error": f"{type(exc).__name__}: {exc}"})
    return start, out


def _chunks(proposals: Sequence[dict[str, Any]], size: int) -> Iterable[tuple[int, Sequence[dict[str, Any]]]]:
    for i in range(0, len(proposals), size):
        yield i, proposals[i : i + size]


def evaluate_many(
    proposals: Sequence[dict[str, Any]],
    on: date,
    *,
    workers: int | None = None,
    chunk: int = 500,
    rules_dir: Path | str | None = None,
    summary: bool = True,
    lang: str = "en",
    progress: Progress | None = None,
    mp_context: str = "spawn",
    scenario: str | None = None,
) -> list[dict[str, Any]]:
    """Evaluate ``proposals`` as of ``on`` on ``workers`` processes (default: every core).

    Returns one result per proposal, in input order: ``summarize(verdict)`` when
    ``summary`` is true, else the full verdict JSON. ``progress(done, total)`` is
    called in the calling process as chunks complete. Workers start with
    ``mp_context`` ("spawn" by default: safe even when the caller has threads).
    ``scenario`` evaluates under a policy scenario (``rules/scenarios/<id>.yaml``).
    """
    total = len(proposals)
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    workers = workers or os.cpu_count() or 1
    results: list[dict[str, Any] | None] = [None] * total
    done = 0
    if progress:
        progress(0, total)
    if total == 0:
        return []
    ctx = multiprocessing.get_context(mp_context)
    with ProcessPoolExecutor(
        max_workers=min(workers, (total + chunk - 1) // chunk),
        mp_context=ctx,
        initializer=_init,
        initargs=(str(rules_dir) if rules_dir else None, lang, scenario),
    ) as pool:
        tasks = ((start, part, on, summary) for start, part in _chunks(proposals, chunk))
        # map() yields in submission order; chunks are small enough that this costs no parallelism.
        for start, out in pool.map(_run_chunk, tasks):
            results[start : start + len(out)] = out
            done += len(out)
            if progress:
                progress(done, total)
    return results  # type: ignore[return-value]
