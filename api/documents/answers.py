"""Answers to questions, fact by fact: reading a fact from a proposal and writing an answer into one.

The engine asks about *facts* (``human.pregnancy_intended``, ``partners.countries``);
a proposal is a nested document. This module maps between the two, for the
applicant's web form and for answers to an assessor's questions over the API.
An answer of ``None`` means "I don't know": the field is removed, so the fact
is unknown again (never false).

Facts that are counts of a list (``export.dual_use_items.count``,
``partners.count``) are answered through the list itself; the partners'
aggregates (``partners.listed_entity``, ``partners.military_end_use``) are
written onto the partner entries, so they need the partners' countries first.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from biotoets.engine.facts import Fact, answered_by, base_facts, flatten
from biotoets.engine.proposal import ANNEX_CODE_PATTERN, DualUseItem, Proposal

COUNTRY = re.compile(r"^[A-Z]{2}$")
ANNEX_CODE = re.compile(ANNEX_CODE_PATTERN)
PARTNER_FLAGS = ("partners.listed_entity", "partners.military_end_use")
# Facts a proposal may give several values of at once: the law for each applies (engine/activities.py).
MANY = frozenset({"activity"})


class AnswerError(ValueError):
    """An answer that does not fit its fact; ``fact`` names it."""

    def __init__(self, fact: str, message: str) -> None:
        super().__init__(message)
        self.fact = fact


@cache
def facts() -> dict[str, Fact]:
    return base_facts()


def asked_as(fact: str) -> str:
    """The fact whose question answers this one (a list's count is answered by the list)."""
    return answered_by(fact, facts())


def answerable(fact: str) -> bool:
    return fact in facts() and asked_as(fact) == fact


def known_facts(proposal: Mapping[str, Any]) -> dict[str, Any]:
    """The facts a proposal document states (unknown facts are absent)."""
    return flatten(Proposal.model_validate(dict(proposal)))


def coerce(fact: str, value: Any) -> Any:
    """An answer as the fact's type (``None`` stays None: I don't know); AnswerError if it does not fit."""
    if value is None:
        return None
    f = facts().get(fact)
    if f is None or not answerable(fact):
        raise AnswerError(fact, "is not a fact that can be answered")
    if f.kind == "bool":
        if not isinstance(value, bool):
            raise AnswerError(fact, "must be true or false (or null: I don't know)")
        return value
    if f.kind == "enum" and fact in MANY and isinstance(value, list):
        if not value or len(set(map(str, value))) < len(value) or any(v not in f.values for v in value):
            raise AnswerError(fact, "must be one or more of " + ", ".join(f.values) + ", each once (or null: I "
                              "don't know)")
        return value[0] if len(value) == 1 else list(value)
    if f.kind == "enum":
        if value not in f.values:
            raise AnswerError(fact, "must be one of " + ", ".join(f.values) + " (or null: I don't know)")
        return value
    if f.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise AnswerError(fact, "must be a whole number (or null: I don't know)")
        if f.minimum is not None and value < f.minimum:
            raise AnswerError(fact, f"must be at least {f.minimum}")
        if f.maximum is not None and value > f.maximum:
            raise AnswerError(fact, f"must be at most {f.maximum}")
        return value
    # A set: a list of codes.
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AnswerError(fact, "must be a list of codes ([] for none, null: I don't know)")
    if len(value) > 100:
        raise AnswerError(fact, "has too many entries: at most 100")
    if fact == "export.items":  # items in words (documents/items.py maps them onto Annex I codes)
        words = [i.value for i in DualUseItem]
        bad = [v for v in value if v not in words]
        if bad:
            raise AnswerError(fact, f"must be items in words ({', '.join(words)}); not: {', '.join(bad[:5])}")
        return [w for w in words if w in value]
    pattern = ANNEX_CODE if fact == "export.dual_use_items" else COUNTRY
    bad = [v for v in value if not pattern.match(v)]
    if bad:
        what = ("Annex I codes of Regulation (EU) 2021/821, such as 1C351" if pattern is ANNEX_CODE
                else "two-letter country codes in capitals, such as DE or CN")
        raise AnswerError(fact, f"must be {what}; not: {', '.join(bad[:5])}")
    return sorted(set(value))


def apply(proposal: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the proposal document with the answers written in (``None`` removes a fact: unknown)."""
    doc = copy.deepcopy(dict(proposal))
    flags = {}
    for fact, raw in answers.items():
        value = coerce(fact, raw)
        if fact in PARTNER_FLAGS:
            flags[fact] = value
        elif fact == "partners.countries":
            _set_partner_countries(doc, value)
        else:
            _set_path(doc, fact.split("."), value)
    for fact, value in flags.items():
        _set_partner_flag(doc, fact.split(".")[1], value)
    return doc


def _set_path(doc: dict[str, Any], path: list[str], value: Any) -> None:
    node = doc
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is None:
                return
            child = node[part] = {}
        node = child
    if value is None:
        node.pop(path[-1], None)
        _prune(doc, path[:-1])
    else:
        node[path[-1]] = value


def _prune(doc: dict[str, Any], path: list[str]) -> None:
    """Drop objects left empty (an empty ``human: {}`` says nothing)."""
    for depth in range(len(path), 0, -1):
        parent = doc
        for part in path[: depth - 1]:
            parent = parent[part]
        if parent.get(path[depth - 1]) == {}:
            del parent[path[depth - 1]]


def _set_partner_countries(doc: dict[str, Any], countries: list[str] | None) -> None:
    if countries is None:
        doc.pop("partners", None)
        return
    kept = [p for p in doc.get("partners") or [] if p.get("country") in countries]
    have = {p["country"] for p in kept}
    doc["partners"] = kept + [{"country": c} for c in countries if c not in have]


def _set_partner_flag(doc: dict[str, Any], name: str, value: bool | None) -> None:
    partners = doc.get("partners")
    if not partners:
        if value is None:
            return
        raise AnswerError(f"partners.{name}", "needs the partners' countries first (partners.countries)")
    for p in partners:
        p.pop(name, None)
    if value is True:
        partners[0][name] = True  # "at least one partner": one is enough to say so
    elif value is False:
        for p in partners:
            p[name] = False


def answer_of(known: Mapping[str, Any], fact: str) -> tuple[bool, Any]:
    """(known?, value) of a fact in the flattened facts of a proposal."""
    if fact in known:
        return True, known[fact]
    return False, None
