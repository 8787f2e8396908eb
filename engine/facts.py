"""The fact vocabulary rules may read, and the flattening of a proposal into facts.

A *fact* is a named value with a dotted name (``human.pregnancy_intended``).
Base facts come from the proposal model; a few are aggregates over a list
(``partners.countries``); derived facts are produced by classification rules.
A fact that is absent from the flat mapping is unknown.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from .proposal import Partner, Proposal

# Fields kept for the record only; no rule may read them.
RECORD_ONLY = frozenset({"title", "start_date", "animal.species"})


@dataclass(frozen=True)
class Fact:
    """One fact a rule may read."""

    name: str
    kind: str  # "bool" | "enum" | "int" | "set"
    values: tuple[str, ...] = ()  # allowed values of an enum (or of set elements, when closed)
    minimum: int | None = None
    maximum: int | None = None
    derived: bool = False
    description: str = ""

    def accepts(self, value: Any) -> bool:
        """Whether a literal in a rule is a possible value of this fact."""
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "int":
            return isinstance(value, int) and not isinstance(value, bool)
        if self.kind in ("enum", "set"):
            if not isinstance(value, str):
                return False
            return not self.values or value in self.values
        return False


def _unwrap(annotation: Any) -> Any:
    """Strip ``X | None`` and ``Annotated`` down to the bare type."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0])
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _bounds(field: Any) -> tuple[int | None, int | None]:
    lo = hi = None
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    return lo, hi


def _model_facts(model: type[BaseModel], prefix: str = "") -> list[Fact]:
    facts: list[Fact] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        if path in RECORD_ONLY or model is Partner:
            continue
        tp = _unwrap(field.annotation)
        desc = field.description or ""
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            facts.extend(_model_facts(tp, path + "."))
        elif tp is bool:
            facts.append(Fact(path, "bool", description=desc))
        elif tp is int:
            lo, hi = _bounds(field)
            facts.append(Fact(path, "int", minimum=lo, maximum=hi, description=desc))
        elif isinstance(tp, type) and issubclass(tp, Enum):
            facts.append(Fact(path, "enum", tuple(m.value for m in tp), description=desc))
        elif typing.get_origin(tp) is list:
            inner = _unwrap(typing.get_args(tp)[0])
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                continue  # lists of objects are exposed through aggregates below
            facts.append(Fact(path, "set", description=desc))
            facts.append(Fact(path + ".count", "int", minimum=0, description=f"Number of entries in {path}."))
    return facts


AGGREGATES = (
    Fact("partners.countries", "set", description="Countries of the partners (ISO 3166-1 alpha-2)."),
    Fact("partners.count", "int", minimum=0, description="Number of partners."),
    Fact("partners.listed_entity", "bool", description="At least one partner is a listed entity."),
    Fact("partners.military_end_use", "bool", description="At least one partner has a military end use."),
)


def base_facts() -> dict[str, Fact]:
    """Every base fact, keyed by name."""
    facts = _model_facts(Proposal) + list(AGGREGATES)
    return {f.name: f for f in facts}


def answered_by(fact: str, facts: Mapping[str, Fact]) -> str:
    """The fact whose question answers this one: a list's count is answered by the list itself."""
    if fact == "partners.count":
        return "partners.countries"
    if fact.endswith(".count") and fact[: -len(".count")] in facts:
        return fact[: -len(".count")]
    return fact


def _any3(values: list[bool | None]) -> bool | None:
    """Kleene OR over the partners' answers."""
    if any(v is True for v in values):
        return True
    if all(v is False for v in values):
        return False
    return None


def _exclusions(paths: frozenset[str]) -> dict[str, Any]:
    """Dotted paths as pydantic's ``exclude`` argument ({"a": {"b": True}} for "a.b")."""
    out: dict[str, Any] = {}
    for path in sorted(paths):
        *parents, last = path.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = True
    return out


# What flatten leaves out, left out of the dump already: record-only fields, and the partners (aggregated apart).
_NOT_DUMPED = _exclusions(RECORD_ONLY | {"partners"})


def flatten(proposal: Proposal) -> dict[str, Any]:
    """The known base facts of a proposal; unknown facts are simply absent."""
    raw = proposal.model_dump(mode="json", exclude_none=True, exclude=_NOT_DUMPED)
    out: dict[str, Any] = {}

    def walk(obj: dict[str, Any], prefix: str) -> None:
        for key, value in obj.items():
            cls = value.__class__  # (a JSON-mode dump holds plain dicts, lists and scalars)
            if cls is dict:
                walk(value, prefix + key + ".")
            elif cls is list:
                path = prefix + key
                out[path] = sorted(set(value))
                out[path + ".count"] = len(value)
            else:
                out[prefix + key] = value

    walk(raw, "")
    activity = proposal.activity
    if isinstance(activity, list):  # several activities: the list as given (the engine evaluates each alone)
        del out["activity.count"]
        out["activity"] = activity[0] if len(activity) == 1 else list(activity)
    if proposal.partners is not None:
        partners = proposal.partners
        out["partners.countries"] = sorted({p.country for p in partners})
        out["partners.count"] = len(partners)
        for name in ("listed_entity", "military_end_use"):
            value = _any3([getattr(p, name) for p in partners])
            if value is not None:
                out[f"partners.{name}"] = value
    return out
