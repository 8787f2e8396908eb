"""One wording of validation errors (api/wording.py), said per subject as each reader has always said it."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from biotoets.api.wording import Subject, words


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(max_length=3)
    kind: Literal["a", "b"] = "a"
    count: int = Field(0, ge=1)
    code: str = Field("NL", pattern=r"^[A-Z]{2}$")
    items: list[str] = Field(default_factory=list, max_length=1)


def error_of(doc: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(doc)
    return dict(caught.value.errors()[0])


@pytest.mark.parametrize(("doc", "subject", "expected"), [
    ({}, "request", "is required"),
    ({}, "proposal", "is required"),
    ({"name": "x", "other": 1}, "request", "is not a field of this request"),
    ({"name": "x", "other": 1}, "proposal", "this field is not part of a proposal (check the spelling)"),
    ({"name": 5}, "request", "must be text"),
    ({"name": 5}, "proposal-detail", "must be text (a string)"),
    ({"name": "long"}, "parameter", "is too long: at most 3 characters"),
    ({"name": "long"}, "request", "is too long: at most 3 characters"),
    ({"name": "x", "kind": "c"}, "parameter", "must be one of 'a' or 'b'"),
    ({"name": "x", "count": 0}, "parameter", "must be at least 1"),
    ({"name": "x", "code": "nl"}, "proposal-detail",
     "must be a two-letter country code in capitals (ISO 3166-1 alpha-2), such as NL or CN"),
    ({"name": "x", "items": ["a", "b"]}, "request", "has too many entries: at most 1"),
])
def test_each_subject_words_an_error_its_own_way(doc: dict[str, Any], subject: Subject, expected: str) -> None:
    assert words(error_of(doc), subject) == expected


def test_a_kind_a_subject_does_not_word_keeps_pydantics_message() -> None:
    err = error_of({"name": "x", "code": "nl"})
    assert words(err, "proposal") == err["msg"]
    assert words(err, "proposal") != words(err, "proposal-detail")
