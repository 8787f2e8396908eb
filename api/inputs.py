"""Reading proposals from people: size limits, YAML/JSON parsing, validation errors they can read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from biotoets.engine.proposal import Proposal
from biotoets.engine.yamlio import YamlError, load_yaml

MAX_DOCUMENT_BYTES = 1_000_000
MAX_DEPTH = 32


class InputError(ValueError):
    """Input a person must fix; ``problems`` lists each bad field with its JSON pointer."""

    def __init__(self, message: str, problems: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


def _depth(obj: Any, limit: int) -> int:
    """Nesting depth (stops counting past ``limit``); also refuses text that is not valid Unicode."""
    stack = [(obj, 1)]
    deepest = 0
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(node, Mapping):
            stack.extend((v, d + 1) for v in node.values())
            stack.extend((k, d) for k in node if isinstance(k, str))
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError("the document contains text that is not valid Unicode (a lone surrogate)") from None
    return deepest


def parse_document(data: bytes, what: str = "the proposal") -> Any:
    """Parse YAML or JSON bytes, refusing oversized, aliased or too deeply nested documents."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{what} is larger than {MAX_DOCUMENT_BYTES:,} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    try:
        doc = load_yaml(text)
    except YamlError as exc:
        raise InputError(f"{what} is not valid YAML or JSON: {exc}") from None
    if _depth(doc, MAX_DEPTH) > MAX_DEPTH:
        raise InputError(f"{what} is nested more than {MAX_DEPTH} levels deep")
    return doc


def pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in loc) if loc else ""


def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "this field is not part of a proposal (check the spelling)"
    if kind == "enum":
        expected = err.get("ctx", {}).get("expected", "")
        return f"must be one of {expected}"
    if kind == "bool_type" or kind == "bool_parsing":
        return "must be true or false"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if kind == "missing":
        return "is required"
    return str(err.get("msg", "is invalid"))


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    return [{"pointer": pointer(tuple(e["loc"])), "message": _message(e)} for e in exc.errors()]


def to_proposal(doc: Any) -> Proposal:
    """Validate a parsed document as a proposal (a case file's ``proposal`` mapping is accepted too)."""
    if isinstance(doc, Mapping) and set(doc) >= {"proposal"} and isinstance(doc.get("proposal"), Mapping):
        doc = doc["proposal"]
    if not isinstance(doc, Mapping):
        raise InputError("a proposal must be a mapping of fields (an object), not "
                         + type(doc).__name__.replace("NoneType", "an empty document"))
    try:
        return Proposal.model_validate(doc)
    except ValidationError as exc:
        problems = validation_problems(exc)
        lines = "; ".join(f"{p['pointer'] or '/'}: {p['message']}" for p in problems[:10])
        raise InputError(f"the proposal has {len(problems)} invalid field(s): {lines}", problems) from None
