"""Hypothesis strategies that build proposals from the proposal model itself.

Every optional field is either left out (unknown) or given a valid value, so
the strategies follow the model as it grows.
"""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from biotoets.engine.facts import RECORD_ONLY
from biotoets.engine.proposal import Partner, Proposal

ANNEX_CODES = ["1C351", "1C353", "1C354", "5A002", "1C350"]
COUNTRIES = ["NL", "DE", "US", "CN", "RU", "XX"]


def _unwrap(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _unwrap([a for a in typing.get_args(tp) if a is not type(None)][0])
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    return tp


def _bounds(field: Any) -> tuple[int, int]:
    lo, hi = 0, 40
    for meta in field.metadata:
        lo = getattr(meta, "ge", lo) if getattr(meta, "ge", None) is not None else lo
        hi = min(getattr(meta, "le", hi), 40) if getattr(meta, "le", None) is not None else hi
    return lo, hi


def value_for(name: str, field: Any) -> st.SearchStrategy[Any]:
    tp = _unwrap(field.annotation)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return model_dicts(tp)
    if tp is bool:
        return st.booleans()
    if tp is int:
        lo, hi = _bounds(field)
        return st.integers(lo, hi)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return st.sampled_from([m.value for m in tp])
    if typing.get_origin(tp) is list:
        inner = _unwrap(typing.get_args(tp)[0])
        if inner is Partner:
            return st.lists(partners(), max_size=3)
        if isinstance(inner, type) and issubclass(inner, Enum):
            pool = [m.value for m in inner]
        else:
            pool = ANNEX_CODES if "dual_use" in name else COUNTRIES
        return st.lists(st.sampled_from(pool), max_size=3, unique=True)
    return st.text(max_size=10)


def partners() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"country": st.sampled_from(COUNTRIES)},
        optional={"listed_entity": st.booleans(), "military_end_use": st.booleans()},
    )


def model_dicts(model: type[BaseModel], prefix: str = "", complete: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    fields = {}
    for name, field in model.model_fields.items():
        path = prefix + name
        if path in RECORD_ONLY or (model is Partner):
            continue
        tp = _unwrap(field.annotation)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            fields[name] = model_dicts(tp, path + ".", complete)
        else:
            fields[name] = value_for(path, field)
    if complete:
        return st.fixed_dictionaries(fields)
    return st.fixed_dictionaries({}, optional=fields)


def proposals() -> st.SearchStrategy[dict[str, Any]]:
    """Proposals with any subset of facts known."""
    return model_dicts(Proposal)


def complete_proposals() -> st.SearchStrategy[dict[str, Any]]:
    """Proposals with every rule-readable fact given."""
    return model_dicts(Proposal, complete=True)


def drop_some(proposal: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """Forget a random subset of a proposal's facts (the result has unknowns)."""
    out: dict[str, Any] = {}
    for key, value in proposal.items():
        if isinstance(value, dict):
            kept = drop_some(value, data)
            if kept or data.draw(st.booleans()):
                out[key] = kept
        elif data.draw(st.booleans()):
            out[key] = value
    return out
