"""Run the benchmarks and rewrite ``bench/RESULTS.md``: ``.venv/bin/python -m bench``.

Sections (``--only`` picks some, comma-separated; all by default):

* ``core``    -- full evaluation vs. durable_rules' stock host, the reference evaluator,
                 peer engines (ZEN, Rego) and hand-style Python, on the case base and
                 generated proposals; every contender is checked against biotoets first;
* ``scaling`` -- synthetic rule bases of 64, 512 and 2,048 rules of the real rules' shapes;
* ``startup`` -- load + validate + compile the real rule base, in a fresh process;
* ``batch``   -- 100,000 generated proposals through the process pool on 2 cores;
* ``ccore``   -- is durable_rules' C core optimised, and what do its calls cost;
* ``api``     -- wrk on loopback against ``biotoets serve --workers 2`` (SQLite, PostgreSQL)
                 and a bare FastAPI endpoint with the same server settings;
* ``slim``    -- bytes stored and answered per check, slim and full, and CPU per store (``bench/slim.py``).

``--quick`` runs everything smaller (under two minutes) and writes ``bench/RESULTS.quick.md``
unless ``--out`` says otherwise. Nothing here asserts a timing: targets are reported.
Nothing is installed: a missing peer engine or tool stops with the command to install it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ON = dt.date(2025, 6, 1)  # the law of this date, for every contender
FULL = "biotoets full evaluation (as Engine.evaluate: with why-not explanations)"
LEAN = "biotoets full evaluation without explanations (verdict, grounds, conditions, questions)"
SLIM = "biotoets full evaluation without explanations, slim verdict (as the API stores and answers it)"
FIRE = "biotoets Engine.fire (durable_rules, lean driver)"
FIRE_STOCK_CALLS = "biotoets Engine.fire without the results-only call (stock C calls, one per action)"
FIRE_BOTH_FORMS = "biotoets Engine.fire with definite and possible forms both run (not collapsed)"
SECTIONS = ("core", "scaling", "startup", "batch", "ccore", "api", "slim")
INSTALL_HINT = ".venv/bin/pip install -e '.[bench]'"


@dataclass
class Config:
    quick: bool
    reps: int
    n: int  # proposals per workload in the core section
    scaling_sizes: tuple[int, ...]
    scaling_n: int
    batch_n: int
    api_seconds: int
    api_connections: int
    compare_so: str | None
    budget_s: float  # at most this long per contender and repetition in the core section


@dataclass
class Report:
    sections: dict[str, list[str]] = field(default_factory=dict)
    targets: list[tuple[str, str, str, str]] = field(default_factory=list)  # target, measured, verdict, note

    def add(self, section: str, lines: list[str]) -> None:
        self.sections.setdefault(section, []).extend(lines)
        print("\n".join(lines), flush=True)

    def target(self, name: str, measured: str, met: bool | None | str, note: str = "") -> None:
        verdict = met if isinstance(met, str) else "pending" if met is None else ("met" if met else "missed")
        self.targets.append((name, measured, verdict, note))


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fmt(us: float) -> str:
    if us != us:  # nan
        return "–"
    if us >= 100:
        return f"{us:,.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def ratio(a: float, b: float) -> str:
    return "–" if not b or a != a or b != b else f"{a / b:.2f}×"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def require_peers() -> dict[str, str]:
    """Versions of the peer packages; stop with the install command if one is missing."""
    from importlib import metadata

    versions = {}
    missing = []
    for dist in ("zen-engine", "regopy"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            missing.append(dist)
    if missing:
        sys.exit(f"bench: peer engine(s) not installed: {', '.join(missing)}. Install them with:\n  {INSTALL_HINT}")
    return versions


# -- machine -----------------------------------------------------------------------------------
def machine() -> list[str]:
    from importlib import metadata

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True)

    def version(d: str) -> str:
        try:
            return metadata.version(d)
        except metadata.PackageNotFoundError:
            return "not installed"

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    rows = [
        ["date", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")],
        ["commit", commit.stdout.strip() + (" (+ uncommitted changes)" if dirty.stdout.strip() else "")],
        ["machine", f"{cpu}, {os.cpu_count()} cores, {mem}, {platform.system()} {platform.release()}"],
        ["load average at start", " / ".join(f"{x:.2f}" for x in load)],
        ["Python", f"{platform.python_implementation()} {platform.python_version()}"],
        ["durable-rules", version("durable-rules") + " (C core built by the project's install, see *C core*)"],
        ["peers", ", ".join(f"{d} {version(d)}" for d in ("zen-engine", "regopy"))],
        ["HTTP", ", ".join(f"{d} {version(d)}" for d in ("fastapi", "uvicorn", "uvloop", "httptools"))],
    ]
    return table(["", ""], rows)


# -- core --------------------------------------------------------------------------------------
def section_core(cfg: Config, rep: Report) -> None:
    from biotoets.api.analysis.casebase import load_cases
    from biotoets.api.analysis.generate import generate_proposals
    from biotoets.engine import reference
    from biotoets.engine.activities import per_activity
    from biotoets.engine.evaluate import Engine
    from biotoets.engine.facts import flatten
    from biotoets.engine.host import DurableHost
    from biotoets.engine.loader import load_rule_base
    from biotoets.engine.proposal import Proposal
    from biotoets.engine.slim import build_slim
    from biotoets.engine.verdict import applies, build_verdict

    from .peers import Flat, StockDurable, answer_of_verdict, hand_engine, peer_facts, regopy_engine, zen_engine
    from .timing import interleaved

    log("core: building engines")
    base = load_rule_base()
    engine = Engine(base, name="bench")
    fresh = Engine(base, name="bench-fresh", host=DurableHost(reuse_sessions=False))
    stock_calls = Engine(base, name="bench-stock-calls", host=DurableHost(results_only=False))
    both_forms = Engine(base, name="bench-both-forms", collapse=False)
    stock = StockDurable(engine.compiled)
    flat = Flat(base, ON)
    peers: dict[str, Callable[[Any], Any]] = {
        "hand-style Python (the limit)": hand_engine(flat),
        "ZEN (GoRules, Rust)": zen_engine(flat),
        "Rego (regopy / rego-cpp)": regopy_engine(flat),
    }
    in_force = len(flat.in_force)
    shards = sum(len(s.shards) for s in engine.compiled.strata)

    def facts_of(p: dict[str, Any]) -> dict[str, Any]:
        return flatten(Proposal.model_validate(p))

    def sets(statuses: dict[str, Any]) -> tuple[set[str], set[str]]:
        return ({r for r, s in statuses.items() if s is True}, {r for r, s in statuses.items() if s is not False})

    cases = [c for c in load_cases() if c.scenario is None]
    workloads = {
        "case base": [(p, c.as_of or ON) for c in cases for p in per_activity(c.proposal)],
        "generated (20 % unknown)": [(p, ON) for p in generate_proposals(cfg.n, seed=1)],
        "generated, complete": [(p, ON) for p in generate_proposals(cfg.n, seed=2, complete=True)],
    }
    rows: list[list[str]] = []
    verify_rows: list[list[str]] = []
    medians: dict[tuple[str, str], float] = {}
    for wname, items in workloads.items():
        log(f"core: verifying {wname} ({len(items)} proposals)")
        facts = [(facts_of(p), on) for p, on in items]
        disagree = {"durable_rules stock host": 0, "reference evaluator": 0}
        complete = wname.endswith("complete")
        if complete:
            disagree.update({name: 0 for name in peers})
        first: dict[str, str] = {}
        for (p, on), (f, _) in zip(items, facts, strict=True):
            ev = engine.fire(f, on)
            if stock.run(f, on) != sets(ev.statuses):
                disagree["durable_rules stock host"] += 1
            if reference.rule_statuses(base, f, on)[0] != ev.statuses:
                disagree["reference evaluator"] += 1
            if complete:
                ours = answer_of_verdict(engine.evaluate(p, on), base)
                q = peer_facts(f)
                for name, fn in peers.items():
                    got = fn(q)
                    if got != ours:
                        disagree[name] += 1
                        first.setdefault(name, f"{got} vs biotoets {ours}")
        for name, n in disagree.items():
            verify_rows.append([wname, name, f"{n} of {len(items)}", first.get(name, "")])
        if any(disagree.values()):
            rep.add("core", ["", "**Disagreement before timing -- no timings for this workload:**", ""]
                    + table(["workload", "contender", "disagreements", "first"], verify_rows))
            continue
        log(f"core: timing {wname}")
        contenders: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
            FULL: (lambda x: engine.evaluate(x[0], x[1]), items),
            # Without the why-not explanations ("changes": []), which the full evaluation
            # (verdict, grounds, conditions, questions) does not include.
            LEAN: (lambda x: engine.evaluate(x[0], x[1], explain=False), items),
            SLIM: (lambda x: engine.evaluate(x[0], x[1], explain=False, view="slim"), items),
            FIRE: (lambda x: engine.fire(x[0], x[1]), facts),
            FIRE_STOCK_CALLS: (lambda x: stock_calls.fire(x[0], x[1]), facts),
            FIRE_BOTH_FORMS: (lambda x: both_forms.fire(x[0], x[1]), facts),
            "biotoets Engine.fire, a fresh session per evaluation (the former recipe)": (
                lambda x: fresh.fire(x[0], x[1]), facts),
            "durable_rules stock host, bare assert_fact": (lambda x: stock.run(x[0], x[1]), facts),
            "reference evaluator (plain Python)": (lambda x: reference.rule_statuses(base, x[0], x[1]), facts),
        }
        if complete:
            pfs = [peer_facts(f) for f, _ in facts]
            for name, fn in peers.items():
                contenders[name] = (fn, pfs)
        stats = interleaved(contenders, cfg.reps, budget_s=cfg.budget_s)
        limit = stats.get("hand-style Python (the limit)")
        ours = stats[FULL]
        for name, s in stats.items():
            medians[(wname, name)] = s.cpu
            lo, hi = s.spread
            rows.append([wname, name, fmt(s.median), fmt(s.p99), fmt(s.cpu), f"{fmt(lo)}–{fmt(hi)}",
                         ratio(s.cpu, limit.cpu) if limit else "–", ratio(ours.cpu, s.cpu)])
    # Where the time of a full evaluation goes (generated proposals).
    log("core: breakdown")
    items = workloads["generated (20 % unknown)"]
    parsed = [Proposal.model_validate(p) for p, _ in items]
    facts = [flatten(x) for x in parsed]
    evs = [engine.evaluate_facts(f, ON) for f in facts]
    parts: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
        "validate (pydantic) + flatten": (lambda p: flatten(Proposal.model_validate(p)), [p for p, _ in items]),
        "Engine.fire (durable_rules)": (lambda f: engine.fire(f, ON), facts),
        "reference cross-check": (lambda f: reference.rule_statuses(base, f, ON), facts),
        "build_verdict without explanations": (
            lambda ev: build_verdict(base, ev, lang="en", engine_version="bench", scenario=None), evs),
        "build_slim without explanations (the slim verdict, as the API makes it)": (
            lambda ev: build_slim(base, ev, lang="en", engine_version="bench", scenario=None), evs),
        "build_verdict with explanations (as evaluate does)": (
            lambda ev: build_verdict(base, ev, lang="en", engine_version="bench", scenario=None,
                                     explainer=engine.explainer), evs),
    }
    verdicts = [build_verdict(base, ev, lang="en", engine_version="bench", scenario=None)["verdict"] for ev in evs]
    parts["explanations alone (Explainer.changes, when asked)"] = (
        lambda x: engine.explainer.changes(x[0].facts, x[0].statuses, x[0].as_of, x[1], applies),
        list(zip(evs, verdicts, strict=True)))
    bstats = interleaved(parts, max(2, cfg.reps - 2), budget_s=cfg.budget_s)
    lines = [
        "## Core: one proposal at a time, side by side",
        "",
        f"Real rule base: {len(base.rules)} rules ({in_force} in force on {ON}), compiled into "
        f"{len(engine.compiled.strata)} strata / {shards} durable_rules rulesets. "
        f"{cfg.reps} repetitions, contenders interleaved in rotating order. Median and p99 are wall time per "
        "call; *CPU* is the calling thread's CPU time per call (mean over a pass) -- the robust figure on this "
        "shared machine, and the one the ratios use; each is the median over repetitions, and *CPU spread* is "
        "the lowest–highest per-repetition CPU figure. "
        "Peers and hand-style Python run on complete proposals only (they have no unknowns); they get the "
        "flattened facts, biotoets' full evaluation gets the raw proposal (validation included).",
        "",
        "Agreement, checked on every proposal before any timing (must all be 0):",
        "",
        *table(["workload", "contender", "disagreements", "first"], verify_rows),
        "",
        *table(["workload", "contender", "median µs", "p99 µs", "CPU µs", "CPU spread", "× hand-style",
                "biotoets full ÷ it"], rows),
        "",
        "Where a full evaluation's time goes (generated proposals, 20 % unknown):",
        "",
        *table(["part", "median µs", "p99 µs", "CPU µs"],
               [[n, fmt(s.median), fmt(s.p99), fmt(s.cpu)] for n, s in bstats.items()]),
        "",
    ]
    rep.add("core", lines)
    w = "generated, complete"
    full = medians.get((w, FULL), float("nan"))
    lean_m = medians.get((w, SLIM), float("nan"))
    lean_full = medians.get((w, LEAN), float("nan"))
    zen = medians.get((w, "ZEN (GoRules, Rust)"), float("nan"))
    stock_m = medians.get((w, "durable_rules stock host, bare assert_fact"), float("nan"))
    fire = medians.get((w, FIRE), float("nan"))
    rep.target("full evaluation (explanations not asked) ≤ 3× ZEN's CPU (same rules, complete proposals)",
               f"{fmt(lean_m)} µs vs ZEN {fmt(zen)} µs ({ratio(lean_m, zen)}), slim verdict; full verdict "
               f"{fmt(lean_full)} µs ({ratio(lean_full, zen)}); with explanations {fmt(full)} µs "
               f"({ratio(full, zen)}); durable_rules path alone {fmt(fire)} µs ({ratio(fire, zen)})",
               lean_m <= 3 * zen)
    expl = bstats["explanations alone (Explainer.changes, when asked)"].cpu
    rep.target("explanations alone ≤ 150 µs when asked (generated proposals)", f"{fmt(expl)} µs CPU", expl <= 150)
    rep.target("≥ 3× faster than the bare stock-host durable_rules path",
               f"stock {fmt(stock_m)} µs ÷ full {fmt(full)} µs = {ratio(stock_m, full)}; ÷ without explanations "
               f"{ratio(stock_m, lean_m)}; ÷ durable_rules path alone {ratio(stock_m, fire)}", stock_m >= 3 * full)
    for wname in workloads:
        f_new, f_stock = medians.get((wname, FIRE), float("nan")), medians.get((wname, FIRE_STOCK_CALLS), float("nan"))
        f_both = medians.get((wname, FIRE_BOTH_FORMS), float("nan"))
        rep.target(f"results-only C call and collapsed forms earn their keep ({wname})",
                   f"Engine.fire {fmt(f_new)} µs; stock C calls {fmt(f_stock)} µs ({ratio(f_stock, f_new)} with the "
                   f"call); both forms {fmt(f_both)} µs ({ratio(f_both, f_new)} collapsed)", "reported")
    for e in (engine, fresh, stock_calls, both_forms):
        e.close()


# -- scaling -----------------------------------------------------------------------------------
def section_scaling(cfg: Config, rep: Report) -> None:
    from biotoets.api.analysis.generate import generate_proposals
    from biotoets.engine import reference
    from biotoets.engine.evaluate import Engine
    from biotoets.engine.facts import flatten
    from biotoets.engine.proposal import Proposal

    from .peers import Flat, answer_of_verdict, hand_engine, peer_facts, zen_engine
    from .synth import synthetic_rule_base
    from .timing import interleaved

    props = generate_proposals(cfg.scaling_n, seed=3, complete=True)
    facts = [flatten(Proposal.model_validate(p)) for p in props]
    pfs = [peer_facts(f) for f in facts]
    rows = []
    per: dict[int, dict[str, float]] = {}
    for n in cfg.scaling_sizes:
        log(f"scaling: {n} rules")
        base = synthetic_rule_base(n)
        t1 = time.perf_counter()
        engine = Engine(base, name=f"scale{n}")
        t2 = time.perf_counter()
        flat = Flat(base, ON)
        hand, zen = hand_engine(flat), zen_engine(flat)
        bad = 0
        for p, q in zip(props, pfs, strict=True):
            ours = answer_of_verdict(engine.evaluate(p, ON), base)
            bad += (hand(q) != ours) + (zen(q) != ours)
        contenders: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
            "biotoets full": (lambda p, e=engine: e.evaluate(p, ON), props),
            "full, no explanations": (lambda p, e=engine: e.evaluate(p, ON, explain=False), props),
            "Engine.fire": (lambda f, e=engine: e.fire(f, ON), facts),
            "reference": (lambda f, b=base: reference.rule_statuses(b, f, ON), facts),
            "ZEN": (zen, pfs),
            "hand-style": (hand, pfs),
        }
        stats = interleaved(contenders, max(2, cfg.reps - 2), budget_s=cfg.budget_s / 2)
        per[n] = {k: s.cpu for k, s in stats.items()}
        fired = statistics.mean(len(engine.fire(f, ON).trace) for f in facts[:50])
        shards = sum(len(s.shards) for s in engine.compiled.strata)
        rows.append([str(n), str(len(flat.in_force)), str(shards), f"{fired:.1f}", f"{t2 - t1:.2f} s",
                     *[f"{fmt(stats[k].cpu)} / {fmt(stats[k].p99)}" for k in contenders], str(bad)])
        engine.close()
    lines = ["## Scaling: synthetic rule bases of the real rules' shapes", "",
             f"{cfg.scaling_n} complete generated proposals; CPU µs per proposal / wall p99 µs (see *Core*). "
             "Rules are the real ones "
             "cloned with redrawn literals (`bench/synth.py`); *fired* is durable_rules actions per evaluation; "
             "*disagree* counts ZEN and hand-style answers that differ from biotoets' (must be 0).", "",
             *table(["rules", "in force", "rulesets", "fired", "compile", "biotoets full", "no explanations",
                     "Engine.fire",
                     "reference", "ZEN", "hand-style", "disagree"], rows), ""]
    sizes = sorted(per)
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        growth = [[k, f"{per[b][k] / per[a][k]:.2f}×"] for k in per[a]]
        lines += [f"Cost growth from {a} to {b} rules ({b / a:.0f}× the rules; below {b / a:.0f}× is sub-linear):",
                  "", *table(["contender", "growth"], growth), ""]
        if (a, b) == (512, 2048):
            g = per[b]["biotoets full"] / per[a]["biotoets full"]
            rep.target("cost per proposal grows sub-linearly from 512 to 2,048 rules",
                       f"full evaluation ×{g:.2f} for ×4 rules (without explanations "
                       f"×{per[b]['full, no explanations'] / per[a]['full, no explanations']:.2f}, Engine.fire "
                       f"×{per[b]['Engine.fire'] / per[a]['Engine.fire']:.2f})", g < 4)
    rep.add("scaling", lines)


# -- start-up ------------------------------------------------------------------------------------
STARTUP_PROBE = r"""
import json, time
t0 = time.perf_counter()
from biotoets.engine.loader import load_rule_base
from biotoets.engine.evaluate import Engine
t1 = time.perf_counter()
base = load_rule_base()
t2 = time.perf_counter()
engine = Engine(base)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "compile": t3 - t2, "rules": len(base.rules)}))
"""


def section_startup(cfg: Config, rep: Report) -> None:
    runs = []
    for _ in range(5 if not cfg.quick else 2):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", STARTUP_PROBE], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t
        d = json.loads(out.stdout.strip().splitlines()[-1])
        d["wall"] = wall
        runs.append(d)
    med = {k: statistics.median(r[k] for r in runs) for k in ("import", "load", "compile", "wall")}
    work = med["load"] + med["compile"]
    cli = Path(sys.executable).parent / "biotoets"
    example = ROOT / "examples" / "germline-editing.yaml"
    cli_runs = []
    for _ in range(len(runs)):
        t = time.perf_counter()
        subprocess.run([str(cli), "check", str(example)], capture_output=True, text=True, check=False)
        cli_runs.append(time.perf_counter() - t)
    cli_s = statistics.median(cli_runs)
    rows = [
        ["import the engine (Python modules, pydantic models)", f"{med['import'] * 1000:.0f} ms"],
        ["load + validate the rule files (YAML, JSON Schema, cross-checks)", f"{med['load'] * 1000:.0f} ms"],
        ["compile onto durable_rules + create rulesets + warm-up", f"{med['compile'] * 1000:.0f} ms"],
        ["**load + validate + compile**", f"**{work * 1000:.0f} ms**"],
        ["whole process, interpreter start to ready", f"{med['wall'] * 1000:.0f} ms"],
        [f"CLI `biotoets check {example.relative_to(ROOT)}`, whole process", f"{cli_s * 1000:.0f} ms"],
    ]
    rep.add("startup", ["## Start-up", "", f"Fresh process each time, median of {len(runs)}; "
                        f"{runs[0]['rules']} rules.", "", *table(["step", "time"], rows), ""])
    rep.target("start-up (load + validate + compile) under 1 s", f"{work * 1000:.0f} ms "
               f"({med['wall'] * 1000:.0f} ms with interpreter start and imports)", work < 1.0)
    rep.target("CLI `check` under 1 s, whole process", f"{cli_s * 1000:.0f} ms", cli_s < 1.0)


# -- batch -------------------------------------------------------------------------------------
def section_batch(cfg: Config, rep: Report) -> None:
    from biotoets.api.analysis.generate import generate_proposals
    from biotoets.api.engines.pool import evaluate_many

    log(f"batch: generating {cfg.batch_n} proposals")
    t = time.perf_counter()
    props = generate_proposals(cfg.batch_n, seed=100)
    gen_s = time.perf_counter() - t
    done_at: list[float] = []
    log(f"batch: evaluating {cfg.batch_n} proposals on 2 processes")
    t = time.perf_counter()
    out = evaluate_many(props, ON, workers=2, chunk=500, progress=lambda d, n: done_at.append(time.perf_counter()))
    wall = time.perf_counter() - t
    errors = sum(1 for x in out if "error" in x)
    verdicts: dict[str, int] = {}
    for x in out:
        if "verdict" in x:
            verdicts[x["verdict"]] = verdicts.get(x["verdict"], 0) + 1
    first = done_at[1] - t if len(done_at) > 1 else float("nan")
    rows = [
        ["proposals", f"{cfg.batch_n:,}"],
        ["wall time, pool start to last result", f"{wall:.1f} s"],
        ["throughput", f"{cfg.batch_n / wall:,.0f} proposals/s"],
        ["first chunk back after (worker start-up)", f"{first:.1f} s"],
        ["errors", str(errors)],
        ["verdicts", ", ".join(f"{k} {v:,}" for k, v in sorted(verdicts.items()))],
        ["generating the proposals (not in the wall time)", f"{gen_s:.1f} s"],
    ]
    rep.add("batch", ["## Batch: generated proposals through the process pool", "",
                      "`api.engines.pool.evaluate_many(..., workers=2, chunk=500)`: each proposal validated, run "
                      "through durable_rules and cross-checked by the reference evaluator, then summarised by "
                      "`Engine.outcome` (verdict, range, rules that apply, conditions -- no grounds, questions or "
                      "explanations are built), in input order.", "", *table(["", ""], rows), ""])
    if cfg.batch_n >= 100_000:
        rep.target("100,000 generated proposals in under 10 s on 2 cores (> 10,000/s)",
                   f"{wall:.1f} s ({cfg.batch_n / wall:,.0f}/s)", wall < 10)


# -- C core ------------------------------------------------------------------------------------
def section_ccore(cfg: Config, rep: Report) -> None:
    from .ccore import c_timing, extension_path, frame_pointer_count

    so = extension_path()
    lines = ["## durable_rules' C core: optimised?", ""]
    rows = []
    for label, path in [("installed (Makefile: CPPFLAGS=-O2)", so)] + (
            [("comparison build (--compare-so)", cfg.compare_so)] if cfg.compare_so else []):
        fp = frame_pointer_count(path)
        t = c_timing(cfg.n // 2 or 50, None if path == so else path)
        rows.append([label, "–" if fp is None else f"{fp['frame_pointer_prologues']} of {fp['functions']}",
                     "–" if fp is None else f"{fp['instructions']:,}", fmt(t["assert"]), fmt(t["complete"]),
                     fmt(t["delete"]), fmt(t["total"]), f"{t['actions']:.1f}"])
    lines += [
        "An unoptimised gcc build keeps a frame-pointer prologue (`mov %rsp,%rbp`) in almost every function; "
        "`-O2` drops it. C time per evaluation is the sum of the raw extension calls over all rulesets "
        f"(generated proposals, {rows and 'median of 5 passes'}).", "",
        *table(["build", "functions with frame-pointer prologue", "instructions", "assert_fact µs",
                "actions µs", "delete_state µs", "C total µs", "actions"], rows), ""]
    rep.add("ccore", lines)


# -- API ---------------------------------------------------------------------------------------
def section_api(cfg: Config, rep: Report) -> None:
    from biotoets.api.analysis.generate import generate_proposals

    from .api_load import LoadUnavailable, bodies_for, drop_postgres_schema, load_biotoets, load_noop, postgres_url

    bodies = bodies_for(generate_proposals(64, seed=7))
    rows = []
    results: dict[str, dict[str, Any]] = {}
    pending: list[str] = []
    targets = [("bare FastAPI endpoint (same server settings)", None), ("biotoets, SQLite", "sqlite"),
               ("biotoets, PostgreSQL", "postgresql")]
    for label, db in targets:
        log(f"api: {label}")
        pg = None
        try:
            if db is None:
                res = load_noop(bodies, cfg.api_connections, cfg.api_seconds)
            elif db == "sqlite":
                tmp = Path(ROOT / "var" / f"bench-{os.getpid()}.db")
                tmp.parent.mkdir(exist_ok=True)
                try:
                    res = load_biotoets(f"sqlite:///{tmp}", bodies, cfg.api_connections, cfg.api_seconds)
                finally:
                    for suffix in ("", "-wal", "-shm", "-journal", ".write-lock", ".migrate-lock"):
                        Path(str(tmp) + suffix).unlink(missing_ok=True)
            else:
                pg = postgres_url()
                res = load_biotoets(pg, bodies, cfg.api_connections, cfg.api_seconds)
        except LoadUnavailable as exc:
            pending.append(f"- {label}: {exc}")
            continue
        finally:
            if pg:
                try:
                    drop_postgres_schema(pg)
                except Exception as exc:  # noqa: BLE001 - cleanup only
                    log(f"api: could not drop the bench schema: {exc}")
        results[label] = res
        rows.append(_api_row(label, res))
        if "bare" in res:
            rows.append(_api_row(f"{label}: GET /healthz, a bare endpoint of the same server", res["bare"]))
    lines = ["## API: `POST /v1/checks` under load on loopback", "",
             f"wrk, {cfg.api_connections} connections, 2 threads, {cfg.api_seconds} s after a 2 s warm-up, on "
             "127.0.0.1; servers with 2 worker processes (uvicorn, uvloop + httptools), client and server sharing "
             "the machine's 2 cores. Bodies cycle through 64 generated proposals. biotoets stores every check "
             "(committed before its 201). *Server CPU* is the user + system CPU of the server's processes over the "
             "run divided by the requests completed; each biotoets server is then loaded on `GET /healthz` (fixed "
             "bytes, no database) for the same figure on a bare endpoint of the same server. *Checks per transaction*: "
             "checks stored over the run divided by the group commit's transactions (`biotoets_check_commit_size` "
             "in the server's /metrics).", ""]
    if rows:
        lines += table(["target", "requests/s", "p50 ms", "p99 ms", "requests", "non-2xx", "socket errors",
                        "server CPU µs/request", "checks per transaction"], rows)
        sized = [(k, r) for k, r in results.items() if "answer_bytes" in r]
        if sized:
            lines += ["", *table(["target", "stored verdict (mean of the run's checks)",
                                  "answer of POST /v1/checks (default view, mean of 16)"],
                                 [[k, f"{r['stored_bytes'] / 1024:.1f} KiB", f"{r['answer_bytes'] / 1024:.1f} KiB"]
                                  for k, r in sized])]
    if pending:
        lines += ["", "Not measured:", *pending, "",
                  "Run it with `.venv/bin/python -m bench --only api` once the above is fixed."]
    rep.add("api", lines + [""])
    for label in ("biotoets, SQLite", "biotoets, PostgreSQL"):
        name = f"API ({label}): ≥ 2,000 stored checks/s, p99 < 50 ms, 0 errors at 64 connections"
        if label in results:
            r = results[label]
            ok = r["rps"] >= 2000 and r["p99_ms"] < 50 and r["errors"] == 0
            rep.target(name, f"{r['rps']:,.0f}/s, p99 {r['p99_ms']:.1f} ms, {r['errors']} errors", ok)
            cpu, bare = r["cpu_us_per_request"], r["bare"]["cpu_us_per_request"]
            rep.target(f"API ({label}): server CPU per stored check, and its ratio to a bare endpoint",
                       f"{fmt(cpu)} µs per POST /v1/checks; GET /healthz {fmt(bare)} µs ({ratio(cpu, bare)})",
                       "reported")
            rep.target(f"API ({label}): stored verdict ≤ 4 KiB per check; answer of POST /v1/checks ≤ 8 KiB",
                       f"{r['stored_bytes'] / 1024:.1f} KiB stored; {r['answer_bytes'] / 1024:.1f} KiB answer",
                       r["stored_bytes"] <= 4096 and r["answer_bytes"] <= 8192)
        else:
            rep.target(name, "not measured", None, "see the API section")


def section_slim(cfg: Config, rep: Report) -> None:
    from .slim import run

    lines, sizes = run(100 if cfg.quick else 300, 1)
    rep.add("slim", ["## Slim verdicts: bytes per check and CPU per store", "", *lines, ""])
    rep.target("stored verdict ≤ 4 KiB per check (generated proposals)",
               f"{sizes['stored'] / 1024:.1f} KiB slim (full form: {sizes['stored_full'] / 1024:.1f} KiB)",
               sizes["stored"] <= 4096, "mean; see *Slim verdicts*")
    rep.target("answer of `POST /v1/checks` ≤ 8 KiB in the default view",
               f"{sizes['answer'] / 1024:.1f} KiB (`?view=full`: {sizes['answer_full'] / 1024:.1f} KiB)",
               sizes["answer"] <= 8192, "mean; see *Slim verdicts*")


def _api_row(label: str, res: dict[str, Any]) -> list[str]:
    cpu = res.get("cpu_us_per_request", float("nan"))
    per_tx = res.get("checks_per_transaction")
    return [label, f"{res['rps']:,.0f}", f"{res['p50_ms']:.1f}", f"{res['p99_ms']:.1f}", f"{res['requests']:,}",
            str(res["non2xx"]), str(res["socket_errors"]), fmt(cpu), "–" if per_tx is None else f"{per_tx:.1f}"]


# -- main --------------------------------------------------------------------------------------
def write(path: Path, cfg: Config, rep: Report, header: list[str], argv: list[str], took: float) -> None:
    lines = [
        "# biotoets benchmark results",
        "",
        f"Written by `.venv/bin/python -m bench{' ' + ' '.join(argv) if argv else ''}` in {took / 60:.1f} min "
        "(regenerate with `make bench`). Numbers are from one run on the machine below, which is shared "
        "and noisy: compare ratios measured side by side, not absolute numbers across runs. Where the time "
        "goes and what stands in the way of each target: `bench/NOTES.md`.",
        "",
        *header,
        "",
        "## Targets (goals, reported -- never asserted in tests)",
        "",
        *table(["target", "measured", "", "note"], [list(t) for t in rep.targets]),
        "",
    ]
    for name in SECTIONS:
        if name in rep.sections:
            lines += rep.sections[name]
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    log(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small workloads, fewer repetitions (a minute or two)")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"sections, comma-separated: {', '.join(SECTIONS)}")
    p.add_argument("--reps", type=int, default=None, help="repetitions per timing (default 5, quick 3)")
    p.add_argument("--batch-n", type=int, default=None, help="proposals in the batch section (default 100,000)")
    p.add_argument("--api-seconds", type=int, default=None, help="seconds of load per API target (default 15)")
    p.add_argument("--compare-so", default=None, help="another build of durable_rules_engine*.so to time (ccore)")
    p.add_argument("--out", default=None, help="where to write the results (default bench/RESULTS.md)")
    args = p.parse_args(argv)
    raw_argv = sys.argv[1:] if argv is None else argv
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s): {', '.join(unknown)}")
    if "core" in only or "scaling" in only:
        require_peers()
    q = args.quick
    cfg = Config(
        quick=q,
        reps=args.reps or (3 if q else 5),
        n=80 if q else 1000,
        scaling_sizes=(64, 256) if q else (64, 512, 2048),
        scaling_n=30 if q else 200,
        batch_n=args.batch_n or (3_000 if q else 100_000),
        api_seconds=args.api_seconds or (3 if q else 15),
        api_connections=64,
        compare_so=args.compare_so,
        budget_s=1.0 if q else 8.0,
    )
    full_run = not q and set(only) == set(SECTIONS)
    out = Path(args.out) if args.out else HERE / ("RESULTS.md" if full_run else "RESULTS.quick.md")
    rep = Report()
    header = machine()
    print("\n".join(header))
    started = time.perf_counter()
    runners = {"core": section_core, "scaling": section_scaling, "startup": section_startup,
               "batch": section_batch, "ccore": section_ccore, "api": section_api, "slim": section_slim}
    for name in SECTIONS:
        if name in only:
            log(f"section {name}")
            runners[name](cfg, rep)
    write(out, cfg, rep, header, raw_argv, time.perf_counter() - started)
    print("\n".join(table(["target", "measured", "", "note"], [list(t) for t in rep.targets])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
