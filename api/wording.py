"""What a validation error means, in words a person can act on: one table for every pydantic error kind the
service words, and, per subject, which kinds it words (the rest keep pydantic's own message).

Subjects: ``parameter`` (a query parameter of the API), ``request`` (a review or answers body), ``proposal`` (a
proposal's field, as the CLI and every reader of a proposal say it) and ``proposal-detail`` (the API's fuller
wording of a proposal's field). A request body says "not a field of this request" and "must be text" where a
proposal says more: those few differences stand in ``_OWN``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

Subject = Literal["parameter", "request", "proposal", "proposal-detail"]
Words = Callable[[Mapping[str, Any]], str]


def _limit(ctx: Mapping[str, Any], key: str) -> Any:
    return ctx.get(key, "?")


def _pattern(ctx: Mapping[str, Any]) -> str:
    pattern = ctx.get("pattern", "")
    if pattern == r"^[A-Z]{2}$":
        return "must be a two-letter country code in capitals (ISO 3166-1 alpha-2), such as NL or CN"
    if pattern.startswith("^[0-9][A-E]"):
        return "must be an Annex I code of Regulation (EU) 2021/821, such as 1C351"
    return f"does not have the expected form ({pattern})"


def _same(text: str) -> Words:
    return lambda ctx: text


_DATE = ("date_from_datetime_parsing", "date_parsing", "date_type", "date_from_datetime_inexact")
_OBJECT = ("model_type", "model_attributes_type", "dict_type")

_TABLE: dict[str, Words] = {
    "missing": _same("is required"),
    "extra_forbidden": _same("this field is not part of a proposal (check the spelling)"),
    "literal_error": lambda ctx: f"must be one of {ctx.get('expected', '')}",
    "enum": lambda ctx: f"must be one of {ctx.get('expected', '')}",
    "bool_type": _same("must be true or false"),
    "bool_parsing": _same("must be true or false"),
    "int_type": _same("must be a whole number"),
    "int_parsing": _same("must be a whole number"),
    "int_from_float": _same("must be a whole number"),
    **{kind: _same("must be a date written YYYY-MM-DD") for kind in _DATE},
    "string_pattern_mismatch": _pattern,
    "string_too_long": lambda ctx: f"is too long: at most {_limit(ctx, 'max_length')} characters",
    "too_long": lambda ctx: f"has too many entries: at most {_limit(ctx, 'max_length')}",
    "string_type": _same("must be text (a string)"),
    "string_unicode": _same("must be text (a string)"),
    "list_type": _same("must be a list"),
    **{kind: _same("must be an object with fields") for kind in _OBJECT},
    "greater_than_equal": lambda ctx: f"must be at least {_limit(ctx, 'ge')}",
    "less_than_equal": lambda ctx: f"must be at most {_limit(ctx, 'le')}",
    "greater_than": lambda ctx: f"must be more than {_limit(ctx, 'gt')}",
    "less_than": lambda ctx: f"must be less than {_limit(ctx, 'lt')}",
}

_PROPOSAL = frozenset({"extra_forbidden", "enum", "bool_type", "bool_parsing", "int_type", "int_parsing",
                       "int_from_float", "missing"})
_WORDED: dict[Subject, frozenset[str]] = {
    "parameter": frozenset({*_DATE, "literal_error", "int_parsing", "int_type", "greater_than_equal",
                            "less_than_equal", "string_too_long"}),
    "request": frozenset({"extra_forbidden", "missing", "literal_error", "string_too_long", "too_long",
                          "string_type", "list_type", "dict_type", "model_type"}),
    "proposal": _PROPOSAL,
    "proposal-detail": _PROPOSAL | {"string_pattern_mismatch", "string_too_long", "too_long", "string_type",
                                    "string_unicode", "list_type", *_OBJECT, "greater_than_equal",
                                    "less_than_equal", "greater_than", "less_than"},
}
_OWN: dict[Subject, dict[str, str]] = {
    "request": {"extra_forbidden": "is not a field of this request", "string_type": "must be text",
                "dict_type": "must be an object", "model_type": "must be an object"},
}


def words(err: Mapping[str, Any], subject: Subject) -> str:
    """One pydantic error (an item of ``ValidationError.errors()``) in words, as ``subject`` says it."""
    kind = err.get("type", "")
    if kind in _WORDED[subject]:
        own = _OWN.get(subject, {}).get(kind)
        return own if own is not None else _TABLE[kind](err.get("ctx") or {})
    return str(err.get("msg", "is invalid"))
