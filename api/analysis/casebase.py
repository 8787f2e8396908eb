"""The case base: cases with the verdict the law gives them, checked against the engine."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from biotoets.engine.evaluate import Engine
from biotoets.engine.facts import answered_by
from biotoets.engine.loader import RuleLoadError, validate_document
from biotoets.engine.verdict import unknown_inputs

from ..documents.inputs import InputError, parse_document, to_proposal


@dataclass
class Case:
    id: str
    file: str
    why: str
    proposal: dict[str, Any]
    expected: dict[str, Any]
    as_of: date | None = None
    scenario: str | None = None


@dataclass
class Outcome:
    case: Case
    verdict: dict[str, Any] | None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def default_casebase_dir() -> Path:
    return Path(str(resources.files("biotoets.casebase")))


def case_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*.yaml") if p.is_file())
    return [path]


def load_cases(path: Path | None = None) -> list[Case]:
    """Read and validate every case file under ``path`` (default: the shipped case base)."""
    path = path or default_casebase_dir()
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for f in case_files(path):
        try:
            doc = parse_document(f.read_bytes(), f"case file {f.name}")
        except OSError as exc:
            raise InputError(f"{f}: cannot read: {exc.strerror}") from None
        try:
            validate_document(doc, "case.schema.json", f.name)
        except RuleLoadError as exc:
            raise InputError(f"{f}: {exc.path}: {exc.reason}") from None
        for i, raw in enumerate(doc["cases"]):
            if raw["id"] in seen:
                raise InputError(f"{f}: /cases/{i}/id: duplicate case id {raw['id']!r} (also in {seen[raw['id']]})")
            seen[raw["id"]] = f.name
            as_of = date.fromisoformat(raw["as_of"]) if "as_of" in raw else None
            cases.append(Case(raw["id"], f.name, raw["why"], raw["proposal"], raw["expected"], as_of,
                              raw.get("scenario")))
    if not cases:
        raise InputError(f"{path}: no cases found")
    return cases


def check_case(case: Case, verdict: dict[str, Any]) -> list[str]:
    """What differs between a verdict and a case's expectations (empty when it passes)."""
    exp = case.expected
    problems = []
    if verdict["verdict"] != exp["verdict"]:
        problems.append(f"verdict {verdict['verdict']}, expected {exp['verdict']}")
    for key in ("could_become", "could_fall_to", "complete"):
        if key in exp and verdict[key] != exp[key]:
            problems.append(f"{key} {verdict[key]}, expected {exp[key]}")
    applied = {g["rule"] for g in verdict["grounds"]} | {a["rule"] for a in verdict.get("advice", [])}
    for rid in exp.get("rules", []):
        if rid not in applied:
            problems.append(f"rule {rid} did not apply")
    for rid in exp.get("not_rules", []):
        if rid in applied:
            problems.append(f"rule {rid} applied but must not")
    asked = {q["fact"] for q in verdict["questions"]}
    for fact in exp.get("questions", []):
        if fact not in asked:
            problems.append(f"question {fact} was not asked")
    return problems


def run_cases(
    cases: Iterable[Case],
    engine_for: Callable[[str | None], Engine],
    today: date,
    progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    outcomes = []
    for i, case in enumerate(cases, 1):
        try:
            proposal = to_proposal(case.proposal)
            engine = engine_for(case.scenario)
            # A bulk run: a case's expectations never read "what would change it", so it is not computed.
            verdict = engine.evaluate(proposal, case.as_of or today, explain=False)
            outcomes.append(Outcome(case, verdict, check_case(case, verdict)))
        except (InputError, KeyError) as exc:
            outcomes.append(Outcome(case, None, [f"cannot evaluate: {exc}"]))
        if progress:
            progress(i)
    return outcomes


def coverage(engine: Engine, outcomes: list[Outcome]) -> dict[str, Any]:
    """Which rules fired and which questions were asked by at least one case."""
    base = engine.base
    fired: set[str] = set()
    asked: set[str] = set()
    for o in outcomes:
        if o.verdict is None:
            continue
        fired |= {g["rule"] for g in o.verdict["grounds"]}
        fired |= {d["rule"] for d in o.verdict["defeated"]}
        fired |= {a["rule"] for a in o.verdict.get("advice", [])}
        asked |= {q["fact"] for q in o.verdict["questions"]}
    all_rules = set(base.rules)
    all_questions = askable_questions(base)
    informational = {f for r in base.rules.values() for f in r.facts
                     if f in base.questions and answered_by(f, base.facts) == f} - all_questions
    return {
        "rules": {"covered": sorted(all_rules & fired), "uncovered": sorted(all_rules - fired),
                  "total": len(all_rules)},
        "questions": {"covered": sorted(all_questions & asked), "uncovered": sorted(all_questions - asked),
                      "total": len(all_questions), "never_asked_by_design": sorted(informational)},
    }


def askable_questions(base: Any) -> set[str]:
    """Facts whose question the engine can ask: inputs (through derived facts and exceptions) of rules that
    prohibit or condition. A fact read only by informational rules can never change a verdict, so its
    question is never asked."""
    out: set[str] = set()
    for r in base.rules.values():
        if r.effect in ("prohibited", "conditional"):
            out |= unknown_inputs(base, r, {}, {})
    return out
