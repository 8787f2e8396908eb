"""Seeded generator of valid, realistic random proposals.

Used by the benchmarks, by property tests and by the policy-impact report, which
runs a large generated case base through today's rules and an amendment.

A generated proposal has the shape of a real one: it is *about* something (an
embryo study, a xenotransplant, a gene-edited animal, a GMO field trial, an
international collaboration, a gene-therapy trial, a plant, or a mix), so the
sections that matter to that focus are filled in and the others are mostly left
out. ``complete=True`` fills in every fact a rule can read (no unknowns), which
is what a two-valued peer engine needs; otherwise each answer is left out with
probability ``unknown``, as applicants do.

Values are drawn from the proposal model itself (``engine/proposal.py``): every
enum member, every bool, integers within the model's bounds (skewed to realistic
ranges). Every proposal is validated against the model before it is returned;
the same seed always gives the same proposals.
"""

from __future__ import annotations

import random
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from pydantic import BaseModel

from biotoets.engine.proposal import Partner, Proposal

FOCUSES = ("germline", "xeno", "animals", "gmo", "knowledge", "medicine", "plant", "mixed")
# Sections each focus fills in; the rest are left out (or filled with plain "no" answers when complete).
SECTIONS_BY_FOCUS: dict[str, tuple[str, ...]] = {
    "germline": ("human",),
    "xeno": ("transplant", "animal", "human"),
    "animals": ("animal",),
    "gmo": ("gmo", "plant"),
    "knowledge": ("knowledge", "export", "partners"),
    "medicine": ("medicine", "gmo", "human"),
    "plant": ("plant", "gmo"),
    "mixed": ("human", "animal", "transplant", "plant", "gmo", "medicine", "knowledge", "export", "partners"),
}
COUNTRIES = ("NL", "DE", "BE", "FR", "US", "GB", "CN", "RU", "IR", "KP", "SY", "BY", "IN", "BR", "JP", "CH")
ANNEX_CODES = ("1C351", "1C353", "1C354", "1C450", "2B352", "1C991")
# Realistic upper ends for integers whose model bounds are far wider.
INT_RANGES = {"embryo_culture_days": (0, 28), "containment_level": (1, 4)}
RECORD_TEXT = ("title", "species", "start_date", "name", "institution_type")


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return _unwrap(next(a for a in typing.get_args(annotation) if a is not type(None)))
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _bounds(field: Any) -> tuple[int, int]:
    lo, hi = 0, 100
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo)
        hi = getattr(meta, "le", hi)
    return lo, hi


@dataclass(frozen=True)
class _Field:
    name: str
    kind: str  # bool | enum | int | list | models | country | text | section
    required: bool
    choices: tuple[Any, ...] = ()
    lo: int = 0
    hi: int = 0
    model: type[BaseModel] | None = None


@cache
def _fields(model: type[BaseModel]) -> tuple[_Field, ...]:
    """How to draw each field of a model, worked out once from its annotations."""
    out = []
    for name, field in model.model_fields.items():
        tp = _unwrap(field.annotation)
        req = field.is_required()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            out.append(_Field(name, "section", req, model=tp))
        elif tp is bool:
            out.append(_Field(name, "bool", req))
        elif isinstance(tp, type) and issubclass(tp, Enum):
            out.append(_Field(name, "enum", req, tuple(m.value for m in tp)))
        elif tp is int:
            lo, hi = INT_RANGES.get(name, _bounds(field))
            out.append(_Field(name, "int", req, lo=lo, hi=hi))
        elif typing.get_origin(tp) is list:
            inner = _unwrap(typing.get_args(tp)[0])
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                out.append(_Field(name, "models", req, model=inner))
            elif isinstance(inner, type) and issubclass(inner, Enum):
                out.append(_Field(name, "list", req, tuple(m.value for m in inner)))
            else:
                out.append(_Field(name, "list", req, ANNEX_CODES if name == "dual_use_items" else COUNTRIES))
        elif tp is str:
            out.append(_Field(name, "country" if name == "country" else "text", req))
        else:
            raise TypeError(f"no generator for field {name!r} of type {tp!r}")
    return tuple(out)


class ProposalGenerator:
    """Draws proposals from a seeded ``random.Random``; same seed, same sequence."""

    def __init__(self, seed: int = 0, *, complete: bool = False, unknown: float = 0.2) -> None:
        if not 0.0 <= unknown < 1.0:
            raise ValueError("unknown must be in [0, 1)")
        self.rng = random.Random(seed)
        self.complete = complete
        self.unknown = 0.0 if complete else unknown

    # -- values ---------------------------------------------------------------------------
    def _value(self, spec: _Field, relevant: bool) -> Any:
        rng = self.rng
        kind = spec.kind
        if kind == "bool":
            # Irrelevant sections get mostly "no"; relevant ones are a fair coin.
            return rng.random() < (0.5 if relevant else 0.1)
        if kind == "enum":
            return rng.choice(spec.choices)
        if kind == "int":
            return rng.randint(spec.lo, spec.hi)
        if kind == "models":
            assert spec.model is not None
            return [self._model(spec.model, True) for _ in range(rng.randint(0, 3))]
        if kind == "list":
            return sorted(rng.sample(spec.choices, rng.randint(0, 3)))
        if kind == "country":
            return rng.choice(COUNTRIES)
        return f"generated {spec.name} {rng.randint(1, 10_000)}"

    def _model(self, model: type[BaseModel], relevant: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        rng = self.rng
        for spec in _fields(model):
            if spec.kind == "section":
                continue  # sections are handled by ``proposal``
            if spec.name in RECORD_TEXT:  # for the record only; no rule reads it
                if rng.random() < 0.3:
                    out[spec.name] = self._value(spec, relevant)
                continue
            if not spec.required and rng.random() < self.unknown:
                continue
            out[spec.name] = self._value(spec, relevant)
        return out

    def proposal(self) -> dict[str, Any]:
        """One proposal as a JSON-ready dict, validated against the proposal model."""
        rng = self.rng
        focus = rng.choice(FOCUSES)
        relevant = set(SECTIONS_BY_FOCUS[focus])
        doc = self._model(Proposal, True)
        doc["title"] = f"generated {focus} proposal {rng.randint(1, 1_000_000)}"
        for spec in _fields(Proposal):
            name = spec.name
            if spec.kind != "section" and name != "partners":
                continue
            if name not in relevant and not self.complete and rng.random() < 0.85:
                continue  # an applicant leaves out what does not concern the proposal
            if name == "partners":
                count = rng.randint(0, 3) if name in relevant else rng.choice((0, 0, 1))
                doc[name] = [self._model(Partner, True) for _ in range(count)]
            else:
                assert spec.model is not None
                doc[name] = self._model(spec.model, name in relevant)
        Proposal.model_validate(doc)  # never hand out an invalid proposal
        return doc

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            yield self.proposal()


def generate_proposals(
    n: int, seed: int = 0, *, complete: bool = False, unknown: float = 0.2
) -> list[dict[str, Any]]:
    """``n`` valid proposals drawn with ``seed``; ``complete`` leaves no fact unknown."""
    gen = ProposalGenerator(seed, complete=complete, unknown=unknown)
    return [gen.proposal() for _ in range(n)]
