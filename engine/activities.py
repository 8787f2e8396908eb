"""What a proposal's ``activity`` is: one activity, or several at once.

A real proposal is often several things at once (research that is also a clinical trial; production that is
also placing on the market). The law for each of them applies, so the engine evaluates such a proposal once per
activity and combines the verdicts (``combine.py``). The list names at least one activity, each once.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field
from pydantic_core import PydanticCustomError


class Activity(StrEnum):
    basic_research = "basic_research"
    preclinical_research = "preclinical_research"
    clinical_trial = "clinical_trial"
    field_trial = "field_trial"
    contained_use = "contained_use"
    production = "production"
    market = "market"
    export = "export"
    collaboration = "collaboration"
    medical_treatment = "medical_treatment"


Activities = Annotated[list[Activity], Field(min_length=1, max_length=len(Activity),
                                             json_schema_extra={"uniqueItems": True})]
_VALUES = frozenset(a.value for a in Activity)
_EXPECTED = ", ".join(f"'{a.value}'" for a in list(Activity)[:-1]) + f" or '{list(Activity)[-1].value}'"


def check_activities(cls: Any, value: Any) -> Any:
    """The proposal's validator of ``activity``, run before the union of one and several so that an error names
    the field, not one of the union's members."""
    if isinstance(value, list):
        if not value:
            raise PydanticCustomError(
                "activities_empty", "is an empty list: name at least one activity, or leave it out (unknown)")
        for i, v in enumerate(value):
            if not isinstance(v, str) or v not in _VALUES:
                raise PydanticCustomError("activities_item", "item {item} ({value}) must be one of {expected}",
                                          {"item": i, "value": repr(v), "expected": _EXPECTED})
        twice = sorted({v for v in value if value.count(v) > 1})
        if twice:
            raise PydanticCustomError("activities_twice", "names an activity more than once: {twice}",
                                      {"twice": ", ".join(twice)})
    elif value is not None and (not isinstance(value, str) or value not in _VALUES):
        raise PydanticCustomError("enum", "Input should be {expected}", {"expected": _EXPECTED})
    return value


def several(activity: Any) -> list[str]:
    """The activities of a proposal's ``activity`` value when it names more than one, else ``[]``."""
    return list(activity) if isinstance(activity, list) and len(activity) > 1 else []


def per_activity(facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A proposal's facts once per activity when it names several (each with that one activity), else as given."""
    return [{**facts, "activity": a} for a in several(facts.get("activity"))] or [dict(facts)]
