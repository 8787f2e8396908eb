"""The OpenAPI document: FastAPI's, completed with the proposal and verdict schemas and problem types.

Request bodies are read by hand (for the size limit and YAML), so the
proposal schema is added here; the verdict's JSON Schema is the committed
``schemas/verdict.schema.json``, its definitions hoisted into components.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from biotoets.engine.proposal import Proposal

from .hardening import docs_headers
from .models.base import ProblemDetails
from .problems import MEDIA_TYPE, TYPES

SECURITY_SCHEME = "apiKey"
PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}


def load_schema(name: str) -> dict[str, Any] | None:
    """A shipped JSON Schema (``proposal`` or ``verdict``), or None if the package lacks it."""
    res = resources.files("biotoets.schemas").joinpath(f"{name}.schema.json")
    if not res.is_file():
        return None
    schema: dict[str, Any] = json.loads(res.read_text(encoding="utf-8"))
    return schema


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/$defs/"):
                out[k] = f"#/components/schemas/{prefix}{v[len('#/$defs/'):]}"
            else:
                out[k] = _rewrite_refs(v, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, prefix) for v in node]
    return node


def hoist(schema: dict[str, Any], name: str, prefix: str) -> dict[str, Any]:
    """Components for a standalone JSON Schema: the schema as ``name``, its $defs as ``prefix<def>``."""
    schema = dict(schema)
    defs = schema.pop("$defs", {})
    for k in ("$schema", "$id"):
        schema.pop(k, None)
    out = {name: _rewrite_refs(schema, prefix)}
    for k, v in defs.items():
        out[prefix + k] = _rewrite_refs(v, prefix)
    return out


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem documents."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        kinds = [t for t in TYPES.values() if t.status == code]
        desc = "; ".join(f"{t.title} ({t.uri})" for t in kinds) or "Problem"
        out[code] = {"description": desc, "content": {MEDIA_TYPE: {"schema": PROBLEM_REF}}}
    return out


def rate_limited_response() -> dict[str, Any]:
    """The 429 answer of a request from an address that failed authentication too often."""
    doc = problem_responses(429)[429]
    return {**doc, "headers": {"Retry-After": {"description": "Seconds to wait before trying again.",
                                               "schema": {"type": "integer", "minimum": 1}}}}


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A request model's JSON Schema, inlined as a request body (without pydantic's title)."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    return schema


def proposal_body(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Proposal"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {"schema": schema},
                "application/yaml": {"schema": schema},
            },
        }
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                      tags=app.openapi_tags)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _, top = models_json_schema([(Proposal, "validation"), (ProblemDetails, "serialization")],
                                ref_template="#/components/schemas/{model}")
    added = top.get("$defs", {})
    clash = set(added) & set(schemas)
    if clash:  # pragma: no cover - a naming mistake in models.py
        raise RuntimeError(f"OpenAPI component names used twice: {sorted(clash)}")
    schemas.update(added)
    verdict = load_schema("verdict")
    if verdict is not None:
        schemas.update(hoist(verdict, "Verdict", "Verdict_"))
    else:  # pragma: no cover - only while the verdict schema is not shipped
        schemas["Verdict"] = {"type": "object", "description": "The verdict document."}
    slim = load_schema("verdict-slim")
    if slim is not None:
        schemas.update(hoist(slim, "SlimVerdict", "SlimVerdict_"))
    else:  # pragma: no cover - only while the slim verdict schema is not shipped
        schemas["SlimVerdict"] = {"type": "object", "description": "The slim verdict document."}
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http", "scheme": "bearer",
            "description": "An API key made with 'biotoets keys create --role ROLE --name NAME'.",
        }
    }
    # Query and header problems are answered with 400 problem documents, not FastAPI's 422 default.
    for path in doc.get("paths", {}).values():
        for op in path.values():
            responses = op.get("responses", {})
            r422 = responses.get("422")
            if r422 and "HTTPValidationError" in json.dumps(r422):
                del responses["422"]
                responses.setdefault("400", problem_responses(400)[400])
            # Any request that carries a key can meet the failed-authentication limit (http/ratelimit.py); a
            # route with a quota of its own (http/quota.py) lists 429 itself: either way it says Retry-After.
            if any(req for req in op.get("security", [])) or "429" in responses:
                responses["429"] = rate_limited_response() | {
                    "description": responses.get("429", rate_limited_response())["description"]}
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


DOCS_ASSETS = "/docs-assets"


def _framed_never(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(docs_headers(bytes(page.body)))  # http/hardening.py
    return page


def add_docs_routes(app: FastAPI) -> None:
    """``GET /docs``: Swagger UI on the OpenAPI document, its script and style served by this server.

    FastAPI's own page loads them from a CDN, which fails on an office network without internet access and
    hands the page to a third party; the files come from the ``fastapi-offline`` package instead.
    """
    assets = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(assets)), name="docs-assets")

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _framed_never(get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} API",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png"))

    async def redirect(request: Request) -> HTMLResponse:
        return _framed_never(get_swagger_ui_oauth2_redirect_html())

    app.add_route("/docs", docs, include_in_schema=False)
    app.add_route("/docs/oauth2-redirect", redirect, include_in_schema=False)
