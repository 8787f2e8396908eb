"""Reading a proposal from an HTTP request: content type, size limit, parsing, validation, language.

Every way a request can be wrong ends here in a ``Problem`` with a 4xx
status: 413 before a byte too many is read, 415 for a content type we do not
read, 400 for a body that is not JSON/YAML, 422 for a proposal that does not
fit the schema (each bad field with its JSON pointer).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from biotoets.engine.proposal import Proposal

from ..documents.inputs import InputError, duplicate_key, parse_document, validate_proposal
from ..vocab import LANGS
from .problems import Problem

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
ACCEPTED = "application/json, application/yaml"
MAX_YAML_BYTES = 200_000

@dataclass(frozen=True)
class ReceivedProposal:
    raw: str
    media_type: str
    document: Any
    proposal: Proposal


def media_type(request: Request) -> str:
    """The body's media type, lower case, after checking that its charset (if given) is UTF-8."""
    header = request.headers.get("content-type")
    if not header:
        raise Problem("unsupported-media-type", "The request has no Content-Type; send application/json.",
                      headers={"Accept": ACCEPTED})
    kind, *params = (p.strip() for p in header.split(";"))
    kind = kind.lower()
    if kind not in JSON_TYPES and kind not in YAML_TYPES and not (
        kind.startswith("application/") and kind.endswith("+json")
    ):
        raise Problem("unsupported-media-type",
                      f"Content-Type {kind!r} is not accepted; send application/json (or application/yaml).",
                      headers={"Accept": ACCEPTED})
    for p in params:
        name, _, value = p.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise Problem("unsupported-media-type",
                          f"charset {value.strip()!r} is not accepted; send the body in UTF-8.",
                          headers={"Accept": ACCEPTED})
    return kind


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) one that is over ``limit`` before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise Problem("malformed-request", "Content-Length is not a number.",
                          errors=[{"parameter": "Content-Length", "detail": "must be a whole number"}]) from None
        if size > limit:
            raise Problem("body-too-large", f"The body has {size:,} bytes; the limit is {limit:,} bytes.",
                          max_bytes=limit)
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise Problem("body-too-large", f"The body is larger than the limit of {limit:,} bytes.",
                          max_bytes=limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_body(data: bytes, kind: str) -> tuple[str, Any]:
    """(text, document) of a JSON or YAML body; 400 when it cannot be parsed."""
    if not data.strip():
        raise Problem("malformed-request", "The body is empty; send a proposal (a JSON object).")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem("malformed-request", f"The body is not UTF-8 text (byte {exc.start} is not valid).") from None
    if kind in YAML_TYPES:
        try:
            return text, parse_document(data)
        except InputError as exc:
            raise Problem("malformed-request", f"The body cannot be read: {exc}.") from None
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Problem("malformed-request", f"The body is not valid JSON: {exc}.") from None
    repeated = duplicate_key(data, doc)
    if repeated is not None:  # as the YAML reader (and so the CLI) refuses them
        raise Problem("malformed-request", f"The body has the key {repeated!r} twice in one object; say each "
                      "thing once.")
    return text, doc


async def receive_proposal(request: Request, limit: int) -> ReceivedProposal:
    kind = media_type(request)
    data = await read_body(request, limit)
    if kind in YAML_TYPES:
        if len(data) > MAX_YAML_BYTES:
            raise Problem("body-too-large", f"A YAML body is limited to {MAX_YAML_BYTES:,} bytes "
                          "(a proposal is a few kilobytes); send larger documents as JSON.",
                          max_bytes=MAX_YAML_BYTES)
        # The YAML parser is pure Python: keep it off the event loop.
        text, doc = await asyncio.to_thread(parse_body, data, kind)
    else:
        text, doc = parse_body(data, kind)
    return ReceivedProposal(text, kind, doc, validate_proposal(doc))


def choose_lang(query: str | None, accept_language: str | None) -> str:
    """``lang`` from the query wins; else the best of en/nl in Accept-Language; else English."""
    if query is not None:
        return query
    if not accept_language:
        return "en"
    best, best_q = "en", 0.0
    for part in accept_language.split(",")[:20]:
        tag, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            name, _, value = p.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.lower().split("-")[0]
        if primary in LANGS and q > best_q:  # ties: the first one listed wins
            best, best_q = primary, q
    return best
