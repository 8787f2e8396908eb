"""Is durable_rules' C core built with optimisation, and what does the C part of an evaluation cost?

durable_rules' ``setup.py`` overwrites ``CFLAGS``, so a plain ``pip install``
compiles its C core without any ``-O`` flag; the Makefile passes ``CPPFLAGS=-O2``.
Two checks, neither of which installs anything:

* static: an unoptimised gcc build keeps a frame-pointer prologue
  (``mov %rsp,%rbp``) in nearly every function, ``-O2`` drops it -- count them in
  the extension with ``objdump`` (when binutils is there);
* dynamic: time the raw C calls of an evaluation (``assert_fact``,
  ``start_action_for_state``, ``complete_and_start_action``, ``delete_state``) on
  the compiled shards, optionally also with another build of the extension
  (``--compare-so PATH``, e.g. an ``-O0`` build in a scratch venv), run in a
  subprocess so the two builds never share a process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PROBE = r"""
import json, sys, time, statistics
import durable_rules_engine as dre
import orjson
from datetime import date
from biotoets.engine.loader import load_rule_base
from biotoets.engine.evaluate import Engine
from biotoets.engine.facts import flatten
from biotoets.engine.proposal import Proposal
from biotoets.api.analysis.generate import generate_proposals
n = int(sys.argv[1])
base = load_rule_base()
engine = Engine(base, name="ccore")
on = date(2025, 6, 1)
facts = [flatten(Proposal.model_validate(p)) for p in generate_proposals(n, seed=5)]
jobs = []
for f in facts:
    ev = engine.fire(f, on)
    known = dict(f)
    known.update({k: v for k, v in ev.derived.items() if v is not None})
    for stratum in engine.compiled.strata:
        for shard in stratum.shards:
            fact = {k: known[k] for k in shard.reads if k in known}
            fact.update(kind="proposal", as_of=20250601, sid="e")
            jobs.append((engine.host._handles[shard.name], orjson.dumps(fact).decode()))
clock = time.perf_counter_ns
reps = []
for rep in range(5):
    t = {"assert": 0, "start": 0, "complete": 0, "delete": 0, "actions": 0}
    for handle, fj in jobs:
        t0 = clock(); code, off = dre.assert_fact(handle, fj); t1 = clock()
        r = dre.start_action_for_state(handle, off) if code == 0 else None; t2 = clock()
        while r:
            t["actions"] += 1
            r = dre.complete_and_start_action(handle, off)
        t3 = clock(); dre.delete_state(handle, "e"); t4 = clock()
        t["assert"] += t1 - t0; t["start"] += t2 - t1; t["complete"] += t3 - t2; t["delete"] += t4 - t3
    reps.append({k: v / len(facts) / (1000 if k != "actions" else 1) for k, v in t.items()})
out = {k: statistics.median(r[k] for r in reps) for k in reps[0]}
out["total"] = out["assert"] + out["start"] + out["complete"] + out["delete"]
out["so"] = dre.__file__
out["shards"] = sum(len(s.shards) for s in engine.compiled.strata)
print(json.dumps(out))
"""


def extension_path() -> str:
    import durable_rules_engine

    return str(durable_rules_engine.__file__)


def frame_pointer_count(so: str) -> dict[str, Any] | None:
    """Functions with a frame-pointer prologue, and instructions, in a shared object."""
    if not shutil.which("objdump"):
        return None
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", so], capture_output=True, text=True,
                          check=True).stdout
    functions = len(re.findall(r"^[0-9a-f]+ <[^>]+>:$", text, re.M))
    prologues = len(re.findall(r"mov\s+%rsp,%rbp", text))
    instructions = len(re.findall(r"^\s+[0-9a-f]+:\t", text, re.M))
    return {"functions": functions, "frame_pointer_prologues": prologues, "instructions": instructions,
            "bytes": os.path.getsize(so)}


def c_timing(n: int, so: str | None = None) -> dict[str, Any]:
    """Per-evaluation µs of the C calls, in a fresh process (optionally with another build of the extension)."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if so:  # the other build alone on the path, ahead of the installed one
            shutil.copy(so, Path(tmp) / Path(so).name)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [tmp, env.get("PYTHONPATH", "")]))
        done = subprocess.run([sys.executable, "-c", PROBE, str(n)], capture_output=True, text=True, env=env,
                              timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"C timing probe failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
