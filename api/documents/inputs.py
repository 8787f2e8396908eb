"""Reading proposals from people: size limits, YAML/JSON parsing, validation errors they can read."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from biotoets.engine.proposal import Proposal
from biotoets.engine.yamlio import YamlError, load_yaml

from ..faults import InvalidProposal
from ..wording import words

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


def json_problem(doc: Any, limit: int = MAX_DEPTH) -> tuple[str, str] | None:
    """(JSON pointer, what is wrong) for the first value of a parsed document that cannot be stored as it is.

    Nesting deeper than ``limit`` (reported with the pointer ``"depth"``), a NaN or infinity (YAML's ``.nan``
    and ``.inf``; written out as JSON they would silently become null, i.e. "unknown"), an integer beyond 64
    bits, text with a NUL character (PostgreSQL cannot store it) or a value JSON does not have (YAML's
    ``!!binary``, ``!!set``).
    """
    stack: list[tuple[Any, tuple[Any, ...]]] = [(doc, ())]
    while stack:
        node, where = stack.pop()
        if len(where) > limit:
            return "depth", f"the document is nested more than {limit} levels deep"
        if isinstance(node, str):
            if "\x00" in node:
                return pointer(where), "must not contain the character U+0000 (NUL)"
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, int):
            if not -(2**63) <= node < 2**64:  # (a YAML integer can be any size; JSON's readers stop at 64 bits)
                return pointer(where), "is too large a number"
        elif isinstance(node, float):
            if not math.isfinite(node):
                return pointer(where), "must be a finite number"
        elif isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    return pointer(where), "every key must be text"
                if "\x00" in key:
                    return pointer(where), "a key must not contain the character U+0000 (NUL)"
                stack.append((value, (*where, key)))
        elif isinstance(node, list):
            stack.extend((value, (*where, i)) for i, value in enumerate(node))
        else:
            return pointer(where), "is not a JSON value (text, number, true/false, null, list or object)"
    return None


_KEY_END = re.compile(rb'"\s*:')


def _count_keys(doc: Any) -> int:
    count, stack = 0, [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            count += len(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def duplicate_key(data: bytes, doc: Any) -> str | None:
    """A key that some object in the JSON text ``data`` (already parsed into ``doc``) has twice, or None.

    JSON parsers keep the last of two equal keys without a word; for a proposal that would silently
    decide between two answers (``"pregnancy_intended": false, "pregnancy_intended": true``). Every key
    in the text is followed by ``":`` (maybe with spaces between), so when the text has no more of
    those than ``doc`` has keys, no key can have been dropped; only otherwise is the text parsed again.
    """
    if len(_KEY_END.findall(data)) <= _count_keys(doc):
        return None
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and not repeated:
                repeated.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(data, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return None  # the caller's parser accepted the text; only its own limits apply
    return repeated[0] if repeated else None


def pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in loc) if loc else ""


def validation_problems(exc: ValidationError) -> list[dict[str, str]]:
    return [{"pointer": pointer(tuple(e["loc"])), "message": words(e, "proposal")} for e in exc.errors()]


class NotJson(ValueError):
    """A value in a parsed document that JSON cannot hold as it is (see ``json_problem``)."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where or '/'}: {detail}")
        self.where, self.detail = where, detail


def strict_proposal(doc: Mapping[str, Any]) -> Proposal:
    """The proposal in a parsed document, read with JSON's strict meaning: "yes" is not true and "7" is not 7 --
    the applicant is told, not guessed at. One rule for the API and the CLI. Raises ``NotJson`` (``where`` is
    "depth" for a document nested too deeply) or pydantic's ``ValidationError``."""
    wrong = json_problem(doc)
    if wrong is not None:
        raise NotJson(*wrong)
    return Proposal.model_validate_json(orjson.dumps(doc), strict=True)


def to_proposal(doc: Any) -> Proposal:
    """Validate a parsed document as a proposal (a case file's ``proposal`` mapping is accepted too)."""
    if isinstance(doc, Mapping) and set(doc) >= {"proposal"} and isinstance(doc.get("proposal"), Mapping):
        doc = doc["proposal"]
    if not isinstance(doc, Mapping):
        raise InputError("a proposal must be a mapping of fields (an object), not "
                         + type(doc).__name__.replace("NoneType", "an empty document"))
    try:
        return strict_proposal(doc)
    except NotJson as exc:
        if exc.where == "depth":
            raise InputError(exc.detail) from None
        raise InputError(f"the proposal has 1 invalid field(s): {exc.where or '/'}: {exc.detail}",
                         [{"pointer": exc.where, "message": exc.detail}]) from None
    except ValidationError as exc:
        problems = validation_problems(exc)
        lines = "; ".join(f"{p['pointer'] or '/'}: {p['message']}" for p in problems[:10])
        raise InputError(f"the proposal has {len(problems)} invalid field(s): {lines}", problems) from None


def validate_proposal(doc: Any) -> Proposal:
    """The proposal model of a parsed document, or InvalidProposal with a pointer for each invalid field."""
    if isinstance(doc, Mapping) and set(doc) == {"proposal"} and isinstance(doc["proposal"], Mapping):
        doc = doc["proposal"]  # a case file's proposal, pasted as is
    if not isinstance(doc, Mapping):
        kind = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(type(doc), "a number")
        raise InvalidProposal(f"A proposal is a JSON object with fields, not {kind}.",
                              [{"pointer": "", "detail": "must be an object"}])
    try:
        return strict_proposal(doc)
    except NotJson as exc:
        if exc.where == "depth":
            raise InvalidProposal(f"The body cannot be read: {exc.detail}.", unreadable=True) from None
        raise InvalidProposal(f"The proposal has 1 invalid field: {exc.where or '/'} {exc.detail}.",
                              [{"pointer": exc.where, "detail": exc.detail}]) from None
    except ValidationError as exc:
        errors = [{"pointer": p["pointer"], "detail": words(e, "proposal-detail")}
                  for e, p in zip(exc.errors(), validation_problems(exc), strict=True)]
        n = len(errors)
        raise InvalidProposal(f"The proposal has {n} invalid field{'s' if n != 1 else ''}: "
                              + "; ".join(f"{e['pointer'] or '/'} {e['detail']}" for e in errors[:5])
                              + ("; ..." if n > 5 else "") + ".", errors) from None
