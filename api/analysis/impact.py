"""Policy impact analysis: run proposals under today's rules and a scenario; report as text, JSON or HTML."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from biotoets.engine.compare import compare, summary
from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import load_rule_base
from biotoets.engine.model import EFFECTS
from biotoets.engine.scenarios import STATUS_WORDS, load_scenario

from ..documents.inputs import to_proposal
from .casebase import load_cases

COLOURS = {"allowed": "#2e7d32", "conditional": "#ef8f00", "prohibited": "#c62828"}
DISCLAIMER = ("Decision support, not legal advice. A scenario is a model of a proposed change, "
              "not current law.")


def run_cases(scenario: str, cases_path: Path | None, today: date, rules_dir: Path | None = None,
              progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Impact on the case base (or any case files): each case as of its own date, else today."""
    cases = load_cases(cases_path)
    base_engine = Engine(load_rule_base(rules_dir))
    sc_base, info = load_scenario(scenario, rules_dir)
    sc_engine = Engine(sc_base, name=f"scenario/{scenario}", scenario=info)
    before, after, ids = [], [], []
    try:
        for i, case in enumerate(cases, 1):
            if case.scenario:
                continue  # cases written for a scenario say nothing about today's law
            proposal = to_proposal(case.proposal)
            on = case.as_of or today
            ids.append(case.id)
            before.append(summary(base_engine.evaluate(proposal, on, explain=False)))
            after.append(summary(sc_engine.evaluate(proposal, on, explain=False)))
            if progress:
                progress(i)
    finally:
        base_engine.close()
        sc_engine.close()
    report = compare(ids, before, after)
    report["population"] = f"case base ({cases_path or 'shipped'})"
    return _with_scenario(report, info, sc_base.digest)


def run_generated(scenario: str, count: int, seed: int, today: date, rules_dir: Path | None = None,
                  workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Impact on ``count`` generated proposals, evaluated on every core."""
    import time

    from ..engines.pool import evaluate_many
    from .generate import generate_proposals

    proposals = generate_proposals(count, seed=seed)
    start = time.perf_counter()
    before = evaluate_many(proposals, today, workers=workers, rules_dir=rules_dir, progress=progress)
    after = evaluate_many(proposals, today, workers=workers, rules_dir=rules_dir, scenario=scenario,
                          progress=progress)
    seconds = time.perf_counter() - start
    _, info = load_scenario(scenario, rules_dir)
    report = compare([f"generated-{i}" for i in range(count)], before, after, keep=200)
    report["population"] = f"{count:,} generated proposals (seed {seed})"
    report["throughput"] = {"evaluations": 2 * count, "seconds": round(seconds, 2),
                            "per_second": round(2 * count / seconds) if seconds else None}
    return _with_scenario(report, info, None)


def _with_scenario(report: dict[str, Any], info: Any, digest: str | None) -> dict[str, Any]:
    report["scenario"] = {"id": info.id, "title": info.title.as_dict(), "status": info.status,
                          "description": info.description.as_dict(), "source": info.source,
                          "is_current_law": False, "ruleset_hash": digest}
    report["disclaimer"] = DISCLAIMER
    return report


def text(report: dict[str, Any], lang: str = "en") -> str:
    sc = report["scenario"]
    status = STATUS_WORDS[sc["status"]].get(lang)
    out = [
        f"Scenario {sc['id']}: {sc['title'][lang]} [{status}; not current law]",
        f"Population: {report['population']}",
        "",
        f"{report['changed']} of {report['total']} cases changed",
        "",
        "Transitions (rows: today, columns: under the scenario):",
        f"{'':<14}" + "".join(f"{e:>13}" for e in EFFECTS),
    ]
    for f in EFFECTS:
        out.append(f"{f:<14}" + "".join(f"{report['matrix'][f][t]:>13}" for t in EFFECTS))
    if report["changes"]:
        out += ["", "Changed cases:"]
        for c in report["changes"]:
            line = f"  {c['id']}: {c['from']} -> {c['to']}"
            if c["could_become"][0] != c["could_become"][1]:
                line += f" (could become: {c['could_become'][0]} -> {c['could_become'][1]})"
            if c["rules_added"]:
                line += f"; now applies: {', '.join(c['rules_added'])}"
            if c["rules_removed"]:
                line += f"; no longer applies: {', '.join(c['rules_removed'])}"
            out.append(line)
        if report["changed"] > len(report["changes"]):
            out.append(f"  … and {report['changed'] - len(report['changes'])} more")
    for key, label in (("conditions_appear", "Conditions that appear"), ("conditions_disappear",
                                                                          "Conditions that disappear")):
        if report[key]:
            out += ["", f"{label}:"]
            out += [f"  {c['what']} ({c['rule']}): {c['cases']} case(s)" for c in report[key]]
    if report.get("throughput"):
        t = report["throughput"]
        out += ["", f"Throughput: {t['evaluations']:,} evaluations in {t['seconds']} s ({t['per_second']:,}/s)"]
    if report["errors"]:
        out += ["", f"Errors: {len(report['errors'])} proposal(s) could not be evaluated"]
    out += ["", report["disclaimer"]]
    return "\n".join(out)


def _flow_svg(matrix: dict[str, dict[str, int]]) -> str:
    """Today's verdicts on the left, the scenario's on the right, bands for every transition."""
    total = sum(sum(row.values()) for row in matrix.values()) or 1
    height, width, bar, gap = 360.0, 640.0, 26.0, 14.0
    usable = height - gap * (len(EFFECTS) - 1)
    left: dict[str, int] = {f: sum(matrix[f].values()) for f in EFFECTS}
    right: dict[str, int] = {t: sum(matrix[f][t] for f in EFFECTS) for t in EFFECTS}

    def stack(counts: dict[str, int]) -> dict[str, float]:
        y = 0.0
        pos: dict[str, float] = {}
        for e in EFFECTS:
            pos[e] = y
            y += usable * counts[e] / total + gap
        return pos

    ly, ry = stack(left), stack(right)
    lo, ro = dict(ly), dict(ry)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height + 40:.0f}" '
             f'role="img" aria-label="Verdict transitions">']
    x0, x1 = 150.0, width - 150.0
    for f in EFFECTS:
        for t in EFFECTS:
            n = matrix[f][t]
            if not n:
                continue
            h = usable * n / total
            y0, y1 = lo[f], ro[t]
            lo[f] += h
            ro[t] += h
            mid = (x0 + bar + x1) / 2
            d = (f"M{x0 + bar:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f} "
                 f"L{x1:.1f},{y1 + h:.1f} C{mid:.1f},{y1 + h:.1f} {mid:.1f},{y0 + h:.1f} {x0 + bar:.1f},{y0 + h:.1f} Z")
            opacity = 0.28 if f == t else 0.75
            parts.append(f'<path d="{d}" fill="{COLOURS[t]}" fill-opacity="{opacity}">'
                         f"<title>{f} → {t}: {n}</title></path>")
    for e in EFFECTS:
        for x, pos, counts, anchor, tx in ((x0, ly, left, "end", x0 - 8), (x1, ry, right, "start", x1 + bar + 8)):
            h = usable * counts[e] / total
            parts.append(f'<rect x="{x:.1f}" y="{pos[e]:.1f}" width="{bar}" height="{max(h, 1):.1f}" '
                         f'fill="{COLOURS[e]}"/>')
            parts.append(f'<text x="{tx:.1f}" y="{pos[e] + max(h, 1) / 2 + 5:.1f}" text-anchor="{anchor}" '
                         f'font-size="14">{e} ({counts[e]})</text>')
    parts.append(f'<text x="{x0 + bar / 2:.1f}" y="{height + 30:.0f}" text-anchor="middle" font-size="13" '
                 f'font-weight="bold">today</text>')
    parts.append(f'<text x="{x1 + bar / 2:.1f}" y="{height + 30:.0f}" text-anchor="middle" font-size="13" '
                 f'font-weight="bold">scenario</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def html_report(report: dict[str, Any], lang: str = "en") -> str:
    """A self-contained HTML page: no scripts, no external assets."""
    e = html.escape
    sc = report["scenario"]
    rows = "".join(
        "<tr><th>" + e(f) + "</th>" + "".join(
            f'<td class="{"same" if f == t else ("up" if EFFECTS.index(t) > EFFECTS.index(f) else "down")}'
            f'{" zero" if not report["matrix"][f][t] else ""}">{report["matrix"][f][t]}</td>' for t in EFFECTS
        ) + "</tr>"
        for f in EFFECTS
    )
    changes = "".join(
        f"<tr><td>{e(c['id'])}</td><td class='v {e(c['from'])}'>{e(c['from'])}</td>"
        f"<td class='v {e(c['to'])}'>{e(c['to'])}</td>"
        f"<td>{e(', '.join(c['rules_added'])) or '—'}</td><td>{e(', '.join(c['rules_removed'])) or '—'}</td></tr>"
        for c in report["changes"]
    )
    more = report["changed"] - len(report["changes"])

    def cond_list(key: str) -> str:
        items = report[key]
        if not items:
            return "<p>None.</p>"
        return "<ul>" + "".join(f"<li>{e(c['what'])} <small>({e(c['rule'])})</small>: {c['cases']}</li>"
                                for c in items) + "</ul>"

    throughput = ""
    if report.get("throughput"):
        t = report["throughput"]
        throughput = (f"<p>{t['evaluations']:,} evaluations in {t['seconds']} s "
                      f"({t['per_second']:,} per second).</p>")
    status = STATUS_WORDS[sc["status"]].get(lang)
    return f"""<!doctype html>
<html lang="{e(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Impact: {e(sc['title'][lang])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1b1b1b; padding: 0 1rem; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }}
.banner {{ background: #fff4e5; border-left: 6px solid #ef8f00; padding: .6rem 1rem; margin: 1rem 0; }}
.big {{ font-size: 2.2rem; font-weight: 700; margin: .5rem 0; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: .35rem .7rem; text-align: right; }}
td.up {{ background: #fde0dc; }} td.down {{ background: #dcf2de; }} td.same {{ background: #f3f3f3; }}
td.zero {{ color: #aaa; background: #fff; }}
table.changes td {{ text-align: left; }}
.v.allowed {{ color: #2e7d32; }} .v.conditional {{ color: #b36b00; }} .v.prohibited {{ color: #c62828; }}
svg {{ max-width: 100%; height: auto; }}
footer {{ margin-top: 2rem; font-size: .9rem; color: #555; }}
@media print {{ .banner {{ border: 1px solid #ef8f00; }} }}
</style></head>
<body>
<h1>{e(sc['title'][lang])}</h1>
<p>Scenario <code>{e(sc['id'])}</code> · status: <strong>{e(status)}</strong> · source: {e(sc['source'] or '')}</p>
<div class="banner">This is a scenario, not current law. {e(sc['description'][lang])}</div>
<p>Population: {e(report['population'])}</p>
<p class="big" id="summary">{report['changed']} of {report['total']} cases changed</p>
<h2>Transitions</h2>
{_flow_svg(report['matrix'])}
<table id="matrix"><caption>Rows: verdict today · columns: verdict under the scenario</caption>
<tr><th></th>{''.join(f'<th>{x}</th>' for x in EFFECTS)}</tr>{rows}</table>
{throughput}
<h2>Cases that change</h2>
<table class="changes"><tr><th>case</th><th>today</th><th>scenario</th><th>now applies</th>
<th>no longer applies</th></tr>{changes}</table>
{f'<p>… and {more} more.</p>' if more > 0 else ''}
<h2>Conditions that appear</h2>{cond_list('conditions_appear')}
<h2>Conditions that disappear</h2>{cond_list('conditions_disappear')}
<footer>{e(report['disclaimer'])}</footer>
</body></html>
"""
