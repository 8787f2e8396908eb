"""The ``biotoets`` command line.

Exit codes: 0 success; 1 a check found problems (case mismatches, lint findings);
2 bad input or usage; 3 the rule base does not load; 4 the engine failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from biotoets.engine.evaluate import Engine
from biotoets.engine.host import EngineError
from biotoets.engine.lint import lint_report
from biotoets.engine.loader import RuleBase, RuleLoadError, load_rule_base
from biotoets.engine.scenarios import STATUS_WORDS, load_scenario, read_scenario, scenario_info, scenario_names

from . import casebase as cb
from .inputs import InputError, parse_document, to_proposal
from .render import rule_text, verdict_text

EXIT_PROBLEMS, EXIT_INPUT, EXIT_RULES, EXIT_ENGINE = 1, 2, 3, 4

# Modules that add sub-commands: each has ``add_commands(subparsers)``.
COMMAND_MODULES: list[str] = ["biotoets.api.cli_server", "biotoets.api.cli_review", "biotoets.api.cli_audit"]


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_INPUT) -> None:
        super().__init__(message)
        self.code = code


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def rules_dir_arg(args: argparse.Namespace) -> Path | None:
    return Path(args.rules) if getattr(args, "rules", None) else None


def load_base(args: argparse.Namespace) -> RuleBase:
    try:
        return load_rule_base(rules_dir_arg(args))
    except RuleLoadError as exc:
        raise CliError(f"the rule base does not load: {exc}", EXIT_RULES) from None


def make_engine(base: RuleBase) -> Engine:
    try:
        return Engine(base)
    except RuleLoadError as exc:
        raise CliError(f"the rule base does not compile: {exc}", EXIT_RULES) from None


def scenario_engine(args: argparse.Namespace, name: str) -> Engine:
    """An engine for today's rules with a policy scenario applied."""
    try:
        base, info = load_scenario(name, rules_dir_arg(args))
        return Engine(base, name=f"scenario/{name}", scenario=info)
    except RuleLoadError as exc:
        raise CliError(f"the scenario does not load: {exc}", EXIT_RULES) from None


def read_input(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read(2_000_001)
    path = Path(name)
    try:
        if path.is_dir():
            raise CliError(f"{name}: is a directory, not a proposal file")
        with path.open("rb") as fh:
            return fh.read(2_000_001)
    except FileNotFoundError:
        raise CliError(f"{name}: no such file") from None
    except OSError as exc:
        raise CliError(f"{name}: cannot read: {exc.strerror}") from None


# -- check -----------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    data = read_input(args.file)
    proposal = to_proposal(parse_document(data, "the proposal" if args.file == "-" else args.file))
    engine = scenario_engine(args, args.scenario) if args.scenario else make_engine(load_base(args))
    try:
        verdict = engine.evaluate(proposal, args.as_of or date.today(), lang=args.lang)
    finally:
        engine.close()  # (rulesets left in durable_rules pile up in a long-lived process: see Engine.close)
    if args.json:
        print(json.dumps(verdict, ensure_ascii=False, indent=2))
    else:
        print(verdict_text(verdict, args.lang))
    return 0


# -- rules -----------------------------------------------------------------------------------
def cmd_rules_list(args: argparse.Namespace) -> int:
    base = load_base(args)
    rules = sorted(base.rules.values(), key=lambda r: (r.domain, r.id))
    if args.domain:
        rules = [r for r in rules if r.domain == args.domain]
        if not rules:
            raise CliError(f"no rules in domain {args.domain!r}; domains: {', '.join(sorted(base.domains))}")
    if args.json:
        print(json.dumps([{"id": r.id, "domain": r.domain, "effect": r.effect, "title": r.title.as_dict(),
                           "valid_from": r.valid_from, "valid_to": r.valid_to} for r in rules],
                         ensure_ascii=False, indent=2))
        return 0
    width = max(len(r.id) for r in rules)
    for r in rules:
        print(f"{r.id:<{width}}  {r.effect:<11}  {r.title.get(args.lang)}")
    print(f"\n{len(rules)} rules in {len({r.domain for r in rules})} domains")
    return 0


def cmd_rules_show(args: argparse.Namespace) -> int:
    base = load_base(args)
    rule = base.rules.get(args.id)
    if rule is None:
        near = [rid for rid in sorted(base.rules) if args.id.split(".")[-1] in rid or rid.startswith(args.id)]
        hint = f"; did you mean: {', '.join(near[:5])}" if near else "; see 'biotoets rules list'"
        raise CliError(f"no rule with id {args.id!r}{hint}")
    print(rule_text(base, rule, args.lang))
    return 0


def cmd_rules_lint(args: argparse.Namespace) -> int:
    base = load_base(args)
    make_engine(base).close()  # compiling proves every rule fits the safe durable_rules subset
    covered = None
    if not args.no_cases:
        engine = make_engine(load_base(args))
        try:
            outcomes = cb.run_cases(cb.load_cases(Path(args.cases) if args.cases else None), lambda _s: engine,
                                    date.today())
            covered = cb.coverage(engine, outcomes)["rules"]["covered"]
        finally:
            engine.close()
    report = lint_report(base, covered)
    findings = report.findings
    for f in findings:
        print(f)
    print(report.summary() + " (exhaustive enumeration over the finite fact domains where small, z3 otherwise)")
    print(f"{len(base.rules)} rules, {len(base.sources)} sources: {len(findings)} finding(s)")
    return EXIT_PROBLEMS if findings else 0


# -- casebase --------------------------------------------------------------------------------
def _progress_bar(total: int) -> Callable[[int], None]:
    stream = sys.stderr
    if not stream.isatty():
        return lambda done: None
    width = 30

    def show(done: int) -> None:
        filled = width * done // total
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            stream.write("\n")
        stream.flush()

    return show


def cmd_casebase_run(args: argparse.Namespace) -> int:
    cases = cb.load_cases(Path(args.path) if args.path else None)
    engine = make_engine(load_base(args))
    engines: dict[str | None, Engine] = {None: engine}
    try:
        return _casebase_run(args, cases, engine, engines)
    finally:
        for each in engines.values():
            each.close()


def _casebase_run(args: argparse.Namespace, cases: list[cb.Case], engine: Engine,
                  engines: dict[str | None, Engine]) -> int:
    def engine_for(scenario: str | None) -> Engine:
        if scenario not in engines:
            engines[scenario] = scenario_engine(args, scenario)  # type: ignore[arg-type]
        return engines[scenario]

    progress = None if args.quiet else _progress_bar(len(cases))
    outcomes = cb.run_cases(cases, engine_for, date.today(), progress)
    failed = [o for o in outcomes if not o.passed]
    counts: dict[str, list[int]] = {}
    for o in outcomes:
        row = counts.setdefault(o.case.expected["verdict"], [0, 0])
        row[0 if o.passed else 1] += 1
    print(f"{'expected verdict':<18}{'passed':>8}{'failed':>8}")
    for verdict in ("prohibited", "conditional", "allowed"):
        if verdict in counts:
            print(f"{verdict:<18}{counts[verdict][0]:>8}{counts[verdict][1]:>8}")
    print(f"{'total':<18}{len(outcomes) - len(failed):>8}{len(failed):>8}")
    for o in failed:
        print(f"FAIL {o.case.id} ({o.case.file}): " + "; ".join(o.problems))
    if args.coverage:
        cov = cb.coverage(engine, outcomes)
        for kind in ("rules", "questions"):
            c = cov[kind]
            n = len(c["covered"])
            label = "rule" if kind == "rules" else "question"
            pct = 100.0 * n / c["total"] if c["total"] else 100.0
            print(f"{label} coverage: {n}/{c['total']} ({pct:.0f}%)")
            if c["uncovered"]:
                print(f"  uncovered {kind}: {', '.join(c['uncovered'])}")
            if c.get("never_asked_by_design"):
                print("  not counted (read only by informational rules, so never asked): "
                      + ", ".join(c["never_asked_by_design"]))
    print(f"{len(outcomes)} cases: {len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return EXIT_PROBLEMS if failed else 0


# -- scenarios and impact --------------------------------------------------------------------
def cmd_scenarios_list(args: argparse.Namespace) -> int:
    names = scenario_names(rules_dir_arg(args))
    if not names:
        print("no scenarios")
        return 0
    for name in names:
        try:
            doc, _ = read_scenario(name, rules_dir_arg(args))
        except RuleLoadError as exc:
            raise CliError(f"the scenario does not load: {exc}", EXIT_RULES) from None
        info = scenario_info(doc)
        print(f"{name:<36} {STATUS_WORDS[info.status].get(args.lang):<34} {info.title.get(args.lang)}")
    return 0


def cmd_impact(args: argparse.Namespace) -> int:
    from . import impact

    today = args.as_of or date.today()
    try:
        if args.generated:
            bar = None if args.quiet else _progress_pairs()
            report = impact.run_generated(args.scenario, args.generated, args.seed, today, rules_dir_arg(args),
                                          workers=args.workers, progress=bar)
        else:
            cases = cb.load_cases(Path(args.cases) if args.cases else None)
            bar1 = None if args.quiet else _progress_bar(len(cases))
            report = impact.run_cases(args.scenario, Path(args.cases) if args.cases else None, today,
                                      rules_dir_arg(args), progress=bar1)
    except RuleLoadError as exc:
        raise CliError(f"the scenario does not load: {exc}", EXIT_RULES) from None
    if args.out:
        try:
            Path(args.out).write_text(impact.html_report(report, args.lang), encoding="utf-8")
        except OSError as exc:
            raise CliError(f"{args.out}: cannot write: {exc.strerror}") from None
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(impact.text(report, args.lang))
        if args.out:
            print(f"\nHTML report written to {args.out}")
    return 0


def _progress_pairs() -> Callable[[int, int], None]:
    bars: dict[int, Callable[[int], None]] = {}

    def show(done: int, total: int) -> None:
        if total not in bars:
            bars[total] = _progress_bar(total)
        if done:
            bars[total](done)
        if done == total:
            bars.pop(total, None)

    return show


# -- schemas ---------------------------------------------------------------------------------
def cmd_schema_export(args: argparse.Namespace) -> int:
    from biotoets.engine.proposal import proposal_json_schema

    text = json.dumps(proposal_json_schema(), ensure_ascii=False, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="biotoets",
        description="Pre-check biotechnology proposals under Dutch and EU law. "
        "Decision support, not legal advice.",
    )
    parser.add_argument("--rules", metavar="DIR", help="rule directory (default: the shipped rules)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("check", help="evaluate a proposal (YAML or JSON file, or - for stdin)")
    p.add_argument("file", metavar="FILE|-")
    p.add_argument("--json", action="store_true", help="print the verdict JSON")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="evaluate the law of this date (default: today)")
    p.add_argument("--lang", choices=("nl", "en"), default="en")
    p.add_argument("--scenario", metavar="NAME", help="evaluate under a policy scenario (see 'scenarios list')")
    p.set_defaults(func=cmd_check)

    rules = sub.add_parser("rules", help="list, show or lint the rules").add_subparsers(dest="rules_cmd",
                                                                                         metavar="ACTION")
    rules.required = True
    p = rules.add_parser("list", help="list the rules")
    p.add_argument("--domain")
    p.add_argument("--json", action="store_true")
    p.add_argument("--lang", choices=("nl", "en"), default="en")
    p.set_defaults(func=cmd_rules_list)
    p = rules.add_parser("show", help="show one rule as a lawyer reads it")
    p.add_argument("id")
    p.add_argument("--lang", choices=("nl", "en"), default="en")
    p.set_defaults(func=cmd_rules_show)
    p = rules.add_parser("lint", help="analyse the rule base; non-zero exit on any finding")
    p.add_argument("--cases", metavar="PATH", help="case base to check rule coverage against")
    p.add_argument("--no-cases", action="store_true", help="skip the coverage check")
    p.set_defaults(func=cmd_rules_lint)

    cbp = sub.add_parser("casebase", help="run the case base").add_subparsers(dest="cb_cmd", metavar="ACTION")
    cbp.required = True
    p = cbp.add_parser("run", help="run every case; non-zero exit on any mismatch")
    p.add_argument("path", nargs="?", help="case file or directory (default: the shipped case base)")
    p.add_argument("--coverage", action="store_true", help="print rule and question coverage")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_casebase_run)

    scp = sub.add_parser("scenarios", help="policy scenarios").add_subparsers(dest="sc_cmd", metavar="ACTION")
    scp.required = True
    p = scp.add_parser("list", help="list the shipped scenarios with their status")
    p.add_argument("--lang", choices=("nl", "en"), default="en")
    p.set_defaults(func=cmd_scenarios_list)

    p = sub.add_parser("impact", help="what a policy scenario changes, case by case")
    p.add_argument("--scenario", required=True, metavar="NAME", help="scenario id (its file name)")
    p.add_argument("--cases", metavar="PATH", help="case file or directory (default: the shipped case base)")
    p.add_argument("--generated", type=int, metavar="N", help="use N generated proposals instead of cases")
    p.add_argument("--seed", type=int, default=1, help="seed for --generated (default 1)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes for --generated (default: all cores)")
    p.add_argument("--out", metavar="REPORT.html", help="also write a self-contained HTML report")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--as-of", type=_date, metavar="DATE", help="date of the law compared (default: today)")
    p.add_argument("--lang", choices=("nl", "en"), default="en")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_impact)

    sch = sub.add_parser("schema", help="JSON Schemas").add_subparsers(dest="schema_cmd", metavar="ACTION")
    sch.required = True
    p = sch.add_parser("export", help="write the proposal JSON Schema")
    p.add_argument("--out", metavar="FILE")
    p.set_defaults(func=cmd_schema_export)

    for module in COMMAND_MODULES:
        __import__(module, fromlist=["add_commands"]).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"biotoets: error: {exc}", file=sys.stderr)
        return exc.code
    except InputError as exc:
        print(f"biotoets: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except RuleLoadError as exc:
        print(f"biotoets: error: the rule base does not load: {exc}", file=sys.stderr)
        return EXIT_RULES
    except EngineError as exc:
        print(f"biotoets: error: the engine failed, no verdict: {exc}", file=sys.stderr)
        return EXIT_ENGINE
    except KeyboardInterrupt:
        print("biotoets: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def run() -> Any:  # pragma: no cover - console entry point
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    # As ``python -m biotoets.api.cli``: run the package's module, whose exceptions (CliError) the commands raise;
    # this file's own copy of them, as __main__, would not catch them.
    from biotoets.api.cli import main as package_main

    sys.exit(package_main())
