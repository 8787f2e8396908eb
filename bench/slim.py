"""Slim verdicts (issue 17, item 4): bytes stored and answered per check, and CPU per store, full vs. slim.

``.venv/bin/python -m bench.slim [--n 300] [--seed 1]`` prints a Markdown table; ``python -m bench`` runs it as its
``slim`` section (bench/RESULTS.md).
On generated proposals (20 % of the fields unknown), alternately in English and Dutch, on the law of one date:

* stored bytes: the verdict JSON a check keeps, in the full form (as before) and in the slim form;
* answer bytes: the body of ``POST /v1/checks`` (an in-process app on a temporary SQLite file), by default (slim,
  with the texts of what it names beside it) and with ``?view=full``;
* CPU per store: ``checks.create`` (prepare the row -- encode the verdict -- and insert it with its audit record,
  one transaction) with the verdict stored full (the rule base unknown to the store) and slim (as the engine
  builds it for the API);
* CPU to expand: ``slim.expand`` of a stored slim verdict (``?view=full``, pages, receipts).

CPU is the process's CPU time (``time.process_time``; nothing else runs meanwhile), mean per check.
Nothing is asserted: the targets (stored ≤ 4 KiB, answer ≤ 8 KiB) are reported.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson


def _stats(values: list[int]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{statistics.mean(values):,.0f} | {statistics.median(values):,.0f} | {p95:,} | {max(values):,}"


def run(n: int, seed: int) -> tuple[list[str], dict[str, float]]:
    """The section's Markdown lines, and the mean bytes stored and answered per check."""
    from fastapi.testclient import TestClient

    from biotoets.api.analysis.generate import generate_proposals
    from biotoets.api.documents import slim
    from biotoets.api.http.app import create_app
    from biotoets.api.settings import Settings
    from biotoets.api.store import bases, checks
    from biotoets.api.store import db as dbm
    from biotoets.api.store import keys as auth

    docs = generate_proposals(n, seed=seed)
    on = "2026-06-01"
    rows: dict[str, list[int]] = {k: [] for k in ("stored full", "stored slim", "answer full", "answer slim")}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'slim.db'}"
        with TestClient(create_app(Settings(database_url=url))) as client:
            db = dbm.Database(url)
            owner = auth.create_key(db, "applicant", "bench")
            headers = {"Authorization": f"Bearer {owner.key}"}
            made: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]] = []
            for i, doc in enumerate(docs):
                lang = "nl" if i % 2 else "en"
                thin = client.post(f"/v1/checks?as_of={on}&lang={lang}", json=doc, headers=headers)
                full = client.post(f"/v1/checks?as_of={on}&lang={lang}&view=full", json=doc, headers=headers)
                assert thin.status_code == full.status_code == 201, (thin.text[:300], full.text[:300])
                stored = checks.load_check(db, thin.json()["id"])
                assert stored is not None
                rows["answer slim"].append(len(thin.content))
                rows["answer full"].append(len(full.content))
                verdict = full.json()["verdict"]
                rows["stored full"].append(len(orjson.dumps(verdict)))
                rows["stored slim"].append(len(stored.verdict_json))
                made.append((doc, verdict, stored.verdict, lang))
            base = bases.known(made[0][1]["ruleset"]["hash"])
            assert base is not None

            def news(which: int) -> list[checks.NewCheck]:
                return [checks.NewCheck(owner.principal, "{}", "application/json", m[0], None, m[which], m[3])
                        for m in made]

            def store_all(which: int) -> float:
                batch = news(which)
                start = time.process_time()
                for new in batch:
                    checks.create(db, new)
                return (time.process_time() - start) / len(batch) * 1e6

            def prepare_all(which: int) -> float:  # the part of a store that the form changes: the row, encoded
                batch = news(which)
                best = float("inf")
                for _ in range(3):  # the least of three passes: the machine is shared
                    start = time.process_time()
                    for new in batch:
                        checks.prepare(new)
                    best = min(best, (time.process_time() - start) / len(batch) * 1e6)
                return best

            cpu_slim, prep_slim = store_all(2), prepare_all(2)  # the slim verdict, as the engine makes it
            with bases.forgotten():  # the store knows no rule base: it keeps the verdict as given (full)
                cpu_full, prep_full = store_all(1), prepare_all(1)
            stored_forms = [m[2] for m in made]
            parts: dict[str, int] = {}
            for v in stored_forms:
                for key, value in v.items():
                    parts[key] = parts.get(key, 0) + len(orjson.dumps(value))
            start = time.process_time()
            for v in stored_forms:
                slim.expand(v, base)
            cpu_expand = (time.process_time() - start) / len(stored_forms) * 1e6
            db.dispose()
    kib = 1024
    stored_mean, answer_mean = statistics.mean(rows["stored slim"]), statistics.mean(rows["answer slim"])
    lines = [
        f"{n} generated proposals (seed {seed}, 20 % of the fields unknown), law of {on}, English and Dutch in turn; "
        f"`.venv/bin/python -m bench.slim --n {n} --seed {seed}` (part of `make bench`). *Stored* is the verdict "
        "JSON a check keeps (slim: read back from the database); *answer* the body of `POST /v1/checks` (an "
        "in-process app on a temporary SQLite file): by default the slim verdict with the texts of what it names "
        "beside it (`texts`, not stored), and with `?view=full`.",
        "",
        "| bytes per check | mean | median | p95 | max |",
        "|---|---|---|---|---|",
        *(f"| {name} | {_stats(values)} |" for name, values in rows.items()),
        "",
        f"Targets: stored verdict ≤ 4 KiB: mean {stored_mean / kib:.1f} KiB "
        f"({'met' if stored_mean <= 4 * kib else 'missed'}); answer of POST /v1/checks ≤ 8 KiB: mean "
        f"{answer_mean / kib:.1f} KiB ({'met' if answer_mean <= 8 * kib else 'missed'}). Full → slim: stored "
        f"{statistics.mean(rows['stored full']) / stored_mean:.1f}× smaller, answer "
        f"{statistics.mean(rows['answer full']) / answer_mean:.1f}× smaller.",
        "",
        "| CPU per check (µs) | full | slim |",
        "|---|---|---|",
        f"| store (`checks.create`: prepare + insert + audit, one transaction each, SQLite) | {cpu_full:,.0f} | "
        f"{cpu_slim:,.0f} |",
        f"| of which preparing the row (`checks.prepare`: the verdict in its stored form, encoded; least of 3 "
        f"passes) | {prep_full:,.0f} | {prep_slim:,.0f} |",
        f"| expand a stored slim verdict (`slim.expand`, for ?view=full and pages) | – | {cpu_expand:,.0f} |",
        "",
        "Where the bytes of a stored slim verdict are (mean per check, the largest parts): "
        + ", ".join(f"`{k}` {v / len(stored_forms):,.0f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])[:6])
        + ".",
    ]
    return lines, {"stored": stored_mean, "answer": answer_mean, "stored_full": statistics.mean(rows["stored full"]),
                   "answer_full": statistics.mean(rows["answer full"])}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    print("\n".join(run(args.n, args.seed)[0]))


if __name__ == "__main__":
    main()
