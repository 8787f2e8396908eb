"""What keeping acknowledged checks through a power loss costs: SQLite ``synchronous=FULL`` vs ``NORMAL``.

``.venv/bin/python -m bench.durability [--checks N] [--out FILE]`` stores the same checks through the server's own
check writer (its group commit: the checks that arrive together share one transaction and so one sync) on a fresh
SQLite file per run, once with each setting, side by side, at 1 caller (every check its own commit: the sync is not
shared) and at 64 concurrent callers (as under load). It reports checks stored per second and the ratio. Nothing
here asserts a timing. The file lives in ``$TMPDIR``: put that on the disk the database will use in production,
because the cost of a sync is the disk's.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from biotoets.api.settings import Settings
from biotoets.api.store import checks
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import load_rule_base

PROPOSAL = {"title": "bench", "activity": "basic_research", "purpose": "biomedical_research", "technique": "crispr",
            "human": {"embryo": True, "embryo_source": "spare_ivf", "embryo_culture_days": 7}}
MODES = ("full", "normal")


def _stored_per_second(mode: str, n: int, callers: int, verdict: dict[str, object]) -> float:
    with tempfile.TemporaryDirectory(prefix="biotoets-durability-") as tmp:
        db = dbm.open_database(Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}", sqlite_synchronous=mode))
        writer = checks.CheckWriter(db)
        try:
            principal = auth.create_key(db, "applicant", "bench").principal
            raw = str(PROPOSAL)

            async def caller(k: int) -> None:
                for _ in range(k):
                    await writer.create(checks.NewCheck(principal, raw, "application/json", PROPOSAL, "bench",
                                                        verdict, "en"))

            async def run() -> float:
                share, rest = divmod(n, callers)
                started = time.perf_counter()
                await asyncio.gather(*(caller(share + (i < rest)) for i in range(callers)))
                return time.perf_counter() - started

            seconds = asyncio.run(run())
        finally:
            writer.close()
            db.dispose()
    return n / seconds


def measure(n: int, reps: int) -> list[str]:
    engine = Engine(load_rule_base())
    verdict = engine.evaluate(PROPOSAL, dt.date(2025, 6, 1))
    lines = ["| callers | FULL checks/s | NORMAL checks/s | FULL / NORMAL |", "|---:|---:|---:|---:|"]
    for callers in (1, 64):
        rates = {m: [] for m in MODES}  # type: dict[str, list[float]]
        for _ in range(reps):  # alternate the settings so drift on a shared machine hits both alike
            for mode in MODES:
                rates[mode].append(_stored_per_second(mode, n if callers > 1 else max(n // 8, 50), callers, verdict))
        full, normal = (statistics.median(rates[m]) for m in MODES)
        lines.append(f"| {callers} | {full:,.0f} | {normal:,.0f} | {full / normal:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__.splitlines()[0])
    ap.add_argument("--checks", type=int, default=4000, help="checks per run at 64 callers (1 caller: an eighth)")
    ap.add_argument("--reps", type=int, default=3, help="runs per setting; the median is reported")
    ap.add_argument("--out", type=Path, help="also write the table to this file")
    args = ap.parse_args(argv)
    lines = [f"## Power-loss durability: SQLite synchronous FULL vs NORMAL ({dt.date.today()}, "
             f"{args.checks} checks at 64 callers, median of {args.reps})", "", *measure(args.checks, args.reps)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
