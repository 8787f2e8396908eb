"""Error 102: durable_rules refused a freshly compiled ruleset, once in a few hundred fresh workers.

The cause (rete.c): an ``$or`` is built around a "forward" node whose right operand type is never set, and an
``$iany``/``$iall`` test checks the type of the right operand of the last node its inner expression built. With
``{"$iany": {f: {"$or": ...}}}`` that is the uninitialised byte: whatever the heap held there. 0x09 or 0x0C (an
identifier or an expression) fails the whole ruleset with ERR_UNEXPECTED_TYPE (102). It depends on what the
process allocated and freed before, hence "a fresh worker, not reproduced in 260 runs". The compiler now ends such
tests in a plain comparison (engine/compiler.py), and refuses any that would end in an ``$or``.

The soak runs fresh processes -- varied ``PYTHONHASHSEED``, scenario order and heap contents, the heap filled with
those bytes right before every ruleset is created -- each registering every rule base and evaluating on it. On
the old compiler 13 of 30 processes failed with exactly the reported error. ``BIOTOETS_SOAK_PROCESSES``
sets how many (default 16, two at a time; the full soak is 200).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import durable_rules_engine as dre
import pytest

from biotoets.engine.compiler import CompileError, _check_safe, compile_rule_base
from biotoets.engine.loader import load_rule_base
from biotoets.engine.scenarios import load_scenario, scenario_names
from tests.figures import note, tally

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = int(os.environ.get("BIOTOETS_SOAK_PROCESSES", "16"))
GUARD = {"_guard": {"all": [{"m": {"kind": "proposal"}}]}}


def _one(i: int) -> tuple[int, int, str]:
    seed = (i * 2_654_435_761) % 2**32
    proc = subprocess.run([sys.executable, "-m", "tests.reliability.engine_soak_child", str(seed)], cwd=ROOT,
                          env={**os.environ, "PYTHONHASHSEED": str(seed)}, capture_output=True, text=True,
                          timeout=300)
    said = proc.stdout.strip().splitlines() or proc.stderr.strip().splitlines() or [""]
    return seed, proc.returncode, said[-1]


def test_fresh_processes_register_every_rule_base_on_a_dirty_heap() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_one, range(PROCESSES)))
    failed = [(seed, out) for seed, code, out in results if code != 0 or not out.startswith("ok ")]
    tally("engine soak: fresh processes", len(results))
    registered = sum(int(out.split()[1]) for _, _, out in results if out.startswith("ok"))
    tally("engine soak: rule bases registered", registered)
    note("engine soak (error 102)", f"{len(results) - len(failed)} of {len(results)} fresh processes registered "
                                    "and evaluated every rule base")
    assert not failed, failed[:5]


def _ruleset(inner: dict[str, object]) -> str:
    rule = {"all": [{"m": {"$and": [{"kind": "proposal"}, {"$iany": {"xs": inner}}]}}]}
    return json.dumps({"r": rule, **GUARD})


def _refusals(definition: str, fill: int, tries: int = 200) -> int:
    refused = 0
    for i in range(tries):
        junk = [bytes([fill]) * n for n in range(64, 20_000, 37)]
        del junk
        try:
            dre.delete_ruleset(dre.create_ruleset(f"probe-{fill}-{i}", definition))
        except dre.error as exc:
            assert "error code: 102" in str(exc)
            refused += 1
    return refused


def test_the_compiled_iany_shape_is_never_refused_on_a_dirty_heap() -> None:
    old = _ruleset({"$or": [{"$i": "a"}, {"$i": "b"}]})
    new = _ruleset({"$and": [{"$or": [{"$i": "a"}, {"$i": "b"}]}, {"$ex": {"$i": 1}}]})
    # The old shape is refused only when the heap happens to hold the wrong bytes where the node's type should be:
    # how often depends on the allocator, so it is reported, not asserted (in CI runs it ranged from 0 to 87 of 200).
    note("engine 102: old $iany/$or shape refused on a 0x09-filled heap", f"{_refusals(old, 0x09)} of 200")
    assert _refusals(new, 0x09) == 0 and _refusals(new, 0x0C) == 0  # what the compiler emits now: never


def _array_tests(expr: object) -> list[dict[str, object]]:
    found = []
    if isinstance(expr, dict):
        for k, v in expr.items():
            if k in ("$iany", "$iall"):
                found.append(v)
            found += _array_tests(v)
    elif isinstance(expr, list):
        for v in expr:
            found += _array_tests(v)
    return found


def test_no_compiled_array_test_ends_in_an_or() -> None:
    bases = [load_rule_base()] + [load_scenario(n)[0] for n in scenario_names()]
    checked = 0
    for base in bases:
        for stratum in compile_rule_base(base).strata:
            for shard in stratum.shards:
                for test in _array_tests(shard.definition):
                    for inner in test.values():  # type: ignore[union-attr]
                        while isinstance(inner, dict) and "$and" in inner:
                            inner = inner["$and"][-1]
                        assert not (isinstance(inner, dict) and "$or" in inner), shard.name
                        checked += 1
    assert checked > 0


def test_the_compiler_refuses_an_array_test_that_ends_in_an_or(base) -> None:  # type: ignore[no-untyped-def]
    rule = next(iter(base.rules.values()))
    with pytest.raises(CompileError, match=r"ends in an \$or, which durable_rules cannot compile reliably"):
        _check_safe(rule, {"$and": [{"kind": "proposal"}, {"$iany": {"xs": {"$or": [{"$i": 1}, {"$i": 2}]}}}]})
