"""Safe retries: POST /v1/checks with an Idempotency-Key stores one check however often the request is sent.

A client whose answer was lost (a dropped connection, a timeout, a server that was killed) cannot know whether its
check was stored. Sent again with the same key, the request gets the stored check back ('Idempotent-Replayed:
true') -- or, if nothing was stored, is stored now. A key is the applicant's own: another applicant's key with the
same text is another key. The same key with a different request is refused.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from ..conftest import Api
from ..helpers import GERMLINE, PLAIN, problem


def post(api: Api, key: str, doc: dict[str, Any], idem: str | None, query: str = "") -> Any:
    extra = {"Idempotency-Key": idem} if idem is not None else {}
    return api.client.post(f"/v1/checks{query}", json=doc, headers=api.headers(key, **extra))


def stored_with(api: Api, idem: str) -> int:
    with api.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM checks WHERE idempotency_key = :k"), {"k": idem}).scalar())


def test_the_same_request_sent_again_returns_the_stored_check(api: Api, applicant_key: str) -> None:
    idem = str(uuid.uuid4())
    first = post(api, applicant_key, GERMLINE, idem)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = post(api, applicant_key, GERMLINE, idem)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.headers["location"] == first.headers["location"]
    assert stored_with(api, idem) == 1
    with api.db.read() as conn:
        audited = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'check.created' AND "
                                    "subject = :c"), {"c": first.json()["id"]}).scalar()
    assert audited == 1


@pytest.mark.parametrize("change", ["proposal", "as_of", "lang"])
def test_the_same_key_with_another_request_is_refused(api: Api, applicant_key: str, change: str) -> None:
    idem = f"order-{uuid.uuid4()}"
    assert post(api, applicant_key, GERMLINE, idem).status_code == 201
    doc, query = GERMLINE, ""
    if change == "proposal":
        doc = {**GERMLINE, "title": "Another project"}
    elif change == "as_of":
        query = "?as_of=2020-01-01"
    else:
        query = "?lang=nl"
    body = problem(post(api, applicant_key, doc, idem, query), 422)
    assert body["type"] == "/problems/idempotency-key-reused"
    error = body["errors"][0]
    assert error["parameter"] == "Idempotency-Key" and "already used for check" in error["detail"]
    assert stored_with(api, idem) == 1


def test_a_key_belongs_to_the_applicant_who_sent_it(api: Api, applicant_key: str, other_applicant_key: str) -> None:
    idem = f"shared-text-{uuid.uuid4()}"
    mine = post(api, applicant_key, PLAIN, idem)
    theirs = post(api, other_applicant_key, PLAIN, idem)
    assert mine.status_code == theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"] and stored_with(api, idem) == 2


def test_without_a_key_every_request_stores_a_check(api: Api, applicant_key: str) -> None:
    a, b = post(api, applicant_key, PLAIN, None), post(api, applicant_key, PLAIN, None)
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


@pytest.mark.parametrize("idem", ["", " padded ", "é", "x" * 201, "tab\there"])
def test_a_key_that_is_not_1_to_200_visible_ascii_characters_is_a_400(api: Api, applicant_key: str,
                                                                      idem: str) -> None:
    headers = api.headers(applicant_key)
    headers["Idempotency-Key"] = idem
    r = api.client.post("/v1/checks", json=PLAIN, headers={k: v.encode("utf-8") if k == "Idempotency-Key" else v
                                                             for k, v in headers.items()})
    body = problem(r, 400)
    assert body["errors"][0]["parameter"] == "Idempotency-Key"


def test_retries_at_the_same_time_store_one_check(api: Api, applicant_key: str) -> None:
    idem = f"burst-{uuid.uuid4()}"
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: post(api, applicant_key, GERMLINE, idem), range(8)))
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum(1 for r in answers if "idempotent-replayed" not in r.headers) >= 1
    assert stored_with(api, idem) == 1
