"""The bookkeeping checks: what is unused, unread, uncovered, untranslated, outdated or not admitted.

Each check reads the rule base as data and returns its findings; none needs the logic of conditions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from ..model import FAR_FUTURE, RESTRICTING, RuleBase, Text
from .report import Finding


def unused_sources(base: RuleBase) -> list[Finding]:
    cited = {c.source for r in base.rules.values() for c in r.citations}
    cited |= {c.citation.source for r in base.rules.values() for c in r.conditions}
    cited |= {lst.source for lst in base.lists.values()}
    return [Finding("unused-source", s, "no rule or list cites this source") for s in sorted(set(base.sources) - cited)]


def unread_facts(base: RuleBase) -> list[Finding]:
    read: set[str] = set()
    for r in base.rules.values():
        read |= r.facts
    companions = {f"{name}.count" for name in read} | {"partners.count"}
    return [
        Finding("unread-fact", name, "no rule reads this proposal fact")
        for name, fact in sorted(base.facts.items())
        if not fact.derived and name not in read and name not in companions
    ]


def unused_questions(base: RuleBase) -> list[Finding]:
    return [
        Finding("unused-question", name, "questions.yaml has a question for a fact that is not in the proposal schema")
        for name in sorted(base.questions) if name not in base.facts
    ]


def uncovered_rules(base: RuleBase, covered: Iterable[str]) -> list[Finding]:
    done = set(covered)
    return [Finding("uncovered-rule", rid, "no case in the case base makes this rule apply")
            for rid in sorted(set(base.rules) - done)]


def _texts(base: RuleBase) -> Iterable[tuple[str, str, Text]]:
    for name, t in base.domains.items():
        yield f"domain {name}", "title", t
    for r in base.rules.values():
        yield r.id, "title", r.title
        for label, text in (("explanation", r.explanation), ("open_norm", r.open_norm),
                            ("transitional", r.transitional)):
            if text is not None:
                yield r.id, label, text
        for i, c in enumerate(r.conditions):
            yield r.id, f"conditions[{i}].what", c.what
            yield r.id, f"conditions[{i}].authority", c.authority
    for s in base.sources.values():
        yield s.id, "title", s.title
        for key, a in s.articles.items():
            yield s.id, f"article {key!r}", a.summary
    for name, lst in base.lists.items():
        yield f"list {name}", "title", lst.title
    for name, q in base.questions.items():
        yield f"question {name}", "text", q


def untranslated(base: RuleBase) -> list[Finding]:
    """Every text needs a Dutch and an English version that are not the same words."""
    out = []
    for subject, label, t in _texts(base):
        if not t.nl.strip() or not t.en.strip():
            out.append(Finding("untranslated", subject, f"{label} lacks a Dutch or an English text"))
        elif t.nl.strip() == t.en.strip() and len(t.en.split()) > 2:
            out.append(Finding("untranslated", subject, f"{label} has the same text in Dutch and English"))
    return out



_day = date.fromisoformat


def validity(base: RuleBase) -> list[Finding]:
    """Rules may be in force only while a binding ground they cite is; binding sources carry dates."""
    out = []
    for s in sorted(base.sources.values(), key=lambda s: s.id):
        if s.binding and s.status in ("in_force", "historic") and not s.valid_from:
            cited = any(c.source == s.id for r in base.rules.values() for c in r.citations)
            if cited:
                out.append(Finding("validity", s.id, "binding source cited as a ground has no valid_from"))
    for r in sorted(base.rules.values(), key=lambda r: r.id):
        grounds = [base.sources[c.source] for c in r.citations if base.sources[c.source].binding]
        if r.effect == "derive" or not grounds:
            continue
        periods = sorted((_day(s.valid_from), _day(s.valid_to or FAR_FUTURE)) for s in grounds if s.valid_from)
        start, end = _day(r.valid_from), _day(r.valid_to or FAR_FUTURE)
        reach = start
        for lo, hi in periods:
            if lo > reach:
                break
            if hi >= reach:
                reach = hi + timedelta(days=1) if hi < date.max else hi
        if reach <= end and not (reach == date.max):
            missing = reach.isoformat()
            out.append(Finding("validity", r.id, f"in force on {missing} while none of its binding grounds is"))
    return out


def grounds_honesty(base: RuleBase) -> list[Finding]:
    """Non-binding or unverified grounds must be admitted in the rule's notes."""
    out = []
    for r in sorted(base.rules.values(), key=lambda r: r.id):
        if r.effect == "derive":
            continue
        notes = r.notes.lower()
        if r.effect in RESTRICTING and not any(base.sources[c.source].binding for c in r.citations):
            if "not binding" not in notes:
                out.append(Finding("non-binding-ground", r.id,
                                   "rests on non-binding text only; the notes must say it is not binding"))
        shaky = [c for c in r.citations
                 if not base.sources[c.source].articles[c.article].verified
                 or base.sources[c.source].verification == "unverified"]
        if r.effect != "allowed" and shaky and not any(w in notes for w in ("unverified", "not researched")):
            keys = ", ".join(f"{c.source} {c.article}" for c in shaky)
            out.append(Finding("unverified-ground", r.id, f"cites unverified text ({keys}); the notes must say so"))
    return out
