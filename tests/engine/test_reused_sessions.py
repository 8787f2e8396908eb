"""Reused durable_rules sessions (engine/host.py): same answers as fresh sessions, clean after failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import durable_rules_engine as dre
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biotoets.api.analysis.generate import generate_proposals
from biotoets.engine.evaluate import Engine
from biotoets.engine.facts import flatten
from biotoets.engine.host import SID, DurableHost, EngineError
from biotoets.engine.proposal import Proposal

from ..conftest import TODAY
from ..strategies import complete_proposals, proposals

ROOT = Path(__file__).resolve().parents[2]
MANY = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
dates = st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31))
GUARDED = '{"r": {"all": [{"p": {"$and": [{"kind": "proposal"}, {"$gt": {"x": 1}}]}}]},' \
          ' "_guard": {"pri": 65000, "all": [{"p": {"kind": "proposal"}}]}}'


def fact(**fields: object) -> str:
    return json.dumps({"kind": "proposal", "sid": SID, "id": "p", **fields}, separators=(",", ":"))


@pytest.fixture(scope="module")
def fresh(base):
    e = Engine(base, name="fresh-sessions", host=DurableHost(reuse_sessions=False))
    yield e
    e.close()


@pytest.fixture(params=[True, False], ids=["results-only call", "step by step"])
def results_only(request):
    """Both ways of driving the C core: the patched build's one call, and the stock calls (the fallback)."""
    return request.param


@pytest.fixture(scope="module")
def stock_calls(base):
    e = Engine(base, name="stock-calls", host=DurableHost(results_only=False))
    yield e
    e.close()


def _fired(trace):
    return [(t["fired"], t["form"]) for t in trace]


@MANY
@given(proposals(), dates)
def test_reused_sessions_fire_what_fresh_sessions_fire(engine, fresh, proposal, on):
    """The differential test on the reused path: rule by rule and in firing order, against fresh sessions."""
    assert engine.host.reuse_sessions and not fresh.host.reuse_sessions
    facts = flatten(Proposal.model_validate(proposal))
    got, want = engine.fire(facts, on), fresh.fire(facts, on)
    assert (got.statuses, got.derived, _fired(got.trace)) == (want.statuses, want.derived, _fired(want.trace))


def test_the_results_only_call_is_built():
    """make install builds durable_rules with the project's patch (patches/); the engine uses its call."""
    assert hasattr(dre, "assert_fact_fired")
    assert DurableHost().results_only


@MANY
@given(st.one_of(proposals(), complete_proposals()), dates)
def test_the_results_only_call_fires_what_the_stock_calls_fire(engine, stock_calls, proposal, on):
    """The differential test of the patched call against the stock path it replaces, in firing order."""
    assert engine.host.results_only and not stock_calls.host.results_only
    facts = flatten(Proposal.model_validate(proposal))
    got, want = engine.fire(facts, on), stock_calls.fire(facts, on)
    assert (got.statuses, got.derived, _fired(got.trace)) == (want.statuses, want.derived, _fired(want.trace))


def test_more_actions_than_the_limit_fail_closed(monkeypatch, results_only):
    host = DurableHost(results_only=results_only)
    host.register("many", GUARDED, fact())
    monkeypatch.setattr("biotoets.engine.host.MAX_ACTIONS", 1)
    with pytest.raises(EngineError):
        host.run("many", fact(x=5))
    monkeypatch.undo()
    assert host.run("many", fact(x=5)) == ["r", "_guard"]
    host.close()


def test_a_fresh_session_per_evaluation_on_both_paths(results_only):
    host = DurableHost(reuse_sessions=False, results_only=results_only)
    host.register("fresh", GUARDED, fact())
    for x in (5, 0, 5):
        assert host.run("fresh", fact(x=x)) == (["r", "_guard"] if x > 1 else ["_guard"])
    host.close()


def test_a_fact_without_the_fixed_id_is_refused(results_only):
    host = DurableHost(results_only=results_only)
    host.register("noid", GUARDED, fact())
    with pytest.raises(EngineError, match="id"):
        host.run("noid", json.dumps({"kind": "proposal", "sid": SID, "x": 5}))
    assert host.run("noid", fact(x=5)) == ["r", "_guard"]
    host.close()


def test_the_fact_is_retracted_after_each_run(results_only):
    host = DurableHost(results_only=results_only)
    host.register("retract", GUARDED, fact())
    for x in (5, 0, 5, 5, 0):
        assert host.run("retract", fact(x=x)) == (["r", "_guard"] if x > 1 else ["_guard"])
    host.close()


def test_after_a_c_error_the_session_is_reopened_clean(results_only):
    host = DurableHost(results_only=results_only)
    host.register("err", GUARDED, fact())
    with pytest.raises(EngineError):
        host.run("err", '{"kind": "proposal", "sid": "e", "id":"p", "x": 1e-05}')  # error 204 (B8)
    assert host.run("err", fact(x=5)) == ["r", "_guard"]
    assert host.run("err", fact(x=0)) == ["_guard"]
    host.close()


def test_a_fact_left_in_the_session_fails_closed(monkeypatch, results_only):
    """If a retract silently removed nothing, the next assert is 'observed': no guard, no result."""
    host = DurableHost(results_only=results_only)
    host.register("left", GUARDED, fact())
    monkeypatch.setattr("biotoets.engine.host._RETRACT", '{"sid":"e","id":"nothing"}')
    assert host.run("left", fact(x=5)) == ["r", "_guard"]
    with pytest.raises(EngineError, match="guard"):
        host.run("left", fact(x=5))
    monkeypatch.undo()
    # The re-opening warm-up ran with the same broken retract, so its fact was left too: one more refusal,
    # then the session is re-opened with the real retract and answers again.
    with pytest.raises(EngineError, match="guard"):
        host.run("left", fact(x=5))
    assert host.run("left", fact(x=5)) == ["r", "_guard"]
    assert host.run("left", fact(x=0)) == ["_guard"]
    host.close()


def test_a_ruleset_that_cannot_reopen_refuses_everything(monkeypatch, results_only):
    host = DurableHost(results_only=results_only)
    host.register("broken", GUARDED, fact())

    def failing(*args: object) -> None:
        raise dre.error("Could not delete state, error code: 999")

    monkeypatch.setattr(dre, "retract_fact", failing)
    monkeypatch.setattr(dre, "assert_fact_fired", failing)
    monkeypatch.setattr(dre, "delete_state", failing)
    with pytest.raises(EngineError):
        host.run("broken", fact(x=5))
    monkeypatch.undo()
    with pytest.raises(EngineError, match="re-open"):
        host.run("broken", fact(x=5))
    host.close()


def test_engine_evaluations_are_repeatable_on_reused_sessions(engine):
    p = {"activity": "production", "purpose": "agriculture_food", "technique": "crispr", "animal": {"involved": True}}
    first = [engine.evaluate(p, TODAY) for _ in range(3)]
    assert first[0] == first[1] == first[2]


def test_soak_reused_sessions_in_a_subprocess():
    """N evaluations (BIOTOETS_SOAK, default 100,000): 0 mismatches with fresh sessions and the reference
    evaluator, RSS flat after the first tenth (growth bounded by 2 MiB)."""
    n = int(os.environ.get("BIOTOETS_SOAK", "100000"))
    out = subprocess.run([sys.executable, "-m", "tests.engine.soak_sessions", str(n)], cwd=ROOT,
                         capture_output=True, text=True, timeout=900, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["evaluations"] == n
    assert result["mismatches"] == 0
    assert result["compared_with_fresh"] >= min(n, 2000)
    assert result["rss_kib_end"] - result["rss_kib_after_first_tenth"] <= 2048, result


@pytest.fixture(scope="module")
def uncollapsed(base):
    e = Engine(base, name="both-forms", collapse=False)
    yield e
    e.close()


def _same_trace(trace):
    # The ruleset names carry the engine's name; the rest must be the same entry for entry, in order.
    return [(t["ruleset"].split("/", 1)[1], t["fired"], t["rule"], t["form"]) for t in trace]


@MANY
@given(st.one_of(proposals(), complete_proposals()), dates)
def test_collapsed_forms_fire_what_both_forms_fire(engine, uncollapsed, proposal, on):
    """A shard whose facts are all known runs its definite forms only; statuses, derived facts and the trace
    (each definite form followed by its possible form, as the full ruleset fires them) are unchanged."""
    assert engine.collapse and not uncollapsed.collapse
    facts = flatten(Proposal.model_validate(proposal))
    got, want = engine.fire(facts, on), uncollapsed.fire(facts, on)
    assert (got.statuses, got.derived, _same_trace(got.trace)) == \
        (want.statuses, want.derived, _same_trace(want.trace))


def test_a_complete_proposal_runs_the_definite_forms_only(engine, monkeypatch):
    ran: list[str] = []
    run = engine.host.run
    monkeypatch.setattr(engine.host, "run", lambda name, fact: ran.append(name) or run(name, fact))
    facts = flatten(Proposal.model_validate(generate_proposals(1, seed=2, complete=True)[0]))
    engine.fire(facts, TODAY)
    first = engine.compiled.strata[0].shards
    assert all(shard.definite_name in ran and shard.name not in ran for shard in first)
    ran.clear()
    engine.fire({}, TODAY)  # nothing known: every shard with its possible forms
    assert all(shard.name in ran for shard in first)
