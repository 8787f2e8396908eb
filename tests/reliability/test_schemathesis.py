"""schemathesis against the live OpenAPI document of a real server: every operation, as every kind of caller.

``biotoets serve`` runs on SQLite; its ``/openapi.json`` is loaded as the server publishes it. For each operation
and each caller (no key, applicant, assessor, admin) schemathesis generates requests from the schema -- valid
ones and, for operations with a body or parameters, invalid ones -- a bounded number each. Every response must
not be a 5xx, must have a documented status and content type and its documented headers, and must match its
documented schema. Operations on a check are tried both on generated ids and on a real check of the applicant.
The number of examples tried is printed with the figures at the end of the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.helpers import GERMLINE
from tests.figures import note, tally

from .server import Served, bearer, database, make_keys, serve

EXAMPLES = 8  # per operation, caller and kind of data
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
CALLERS = ("none", "applicant", "assessor", "admin")


@dataclass
class Live:
    server: Served
    keys: dict[str, str | None]
    check_id: str
    schema: schemathesis.BaseSchema


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    with database("sqlite", tmp) as url:
        applicant, assessor, admin = make_keys(url, ("applicant", "Lab A"), ("assessor", "Permit office"),
                                               ("admin", "ops"))
        with serve(url, tmp, workers=1) as server:
            r = requests.post(f"{server.base}/v1/checks", json=GERMLINE, headers=bearer(applicant), timeout=60)
            assert r.status_code == 201
            schema = schemathesis.openapi.from_url(f"{server.base}/openapi.json")
            yield Live(server, {"none": None, "applicant": applicant, "assessor": assessor, "admin": admin},
                       r.json()["id"], schema)


def operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("caller", CALLERS)
def test_every_operation_answers_within_its_schema(live: Live, caller: str) -> None:
    key = live.keys[caller]
    headers = bearer(key) if key else {}
    tried = 0
    session = requests.Session()
    ops = operations(live.schema)
    assert len(ops) >= 18

    for op in ops:
        modes = [GenerationMode.POSITIVE]
        if op.body or op.query:
            modes.append(GenerationMode.NEGATIVE)
        strategies = [op.as_strategy(generation_mode=mode) for mode in modes]
        if "{check_id}" in op.path:  # also on a check that exists
            strategies += [op.as_strategy(generation_mode=mode, path_parameters={"check_id": live.check_id})
                           for mode in modes]

        @settings(max_examples=EXAMPLES * len(strategies), deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(strategies))
        def run(case: schemathesis.Case) -> None:
            nonlocal tried
            tried += 1
            if key is None:
                case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            response = case.call(base_url=live.server.base, session=session, headers=headers, timeout=60)
            case.validate_response(response, checks=CHECKS, headers=headers)

        run()

    tally("schemathesis examples", tried)
    note(f"schemathesis {caller}", f"{tried} generated requests over {len(ops)} operations: no 5xx, every "
         "response as documented")
