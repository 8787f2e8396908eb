"""Verdicts are answered and stored slim; ``?view=full`` expands them with the rule base they were made with."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import text

from biotoets.api.documents import slim
from biotoets.api.store import bases, checks, receipts

from ..conftest import Api
from ..helpers import GERMLINE, PLAIN, REPRODUCTIVE, problem

DAY = "2026-06-01"


def evaluate(api: Api, key: str, doc: dict[str, Any], query: str = "") -> dict[str, Any]:
    r = api.client.post(f"/v1/evaluations?as_of={DAY}{query}", json=doc, headers=api.headers(key))
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_an_evaluation_is_slim_by_default_and_full_on_request(api: Api, applicant_key: str, lang: str) -> None:
    thin = evaluate(api, applicant_key, GERMLINE, f"&lang={lang}")
    full = evaluate(api, applicant_key, GERMLINE, f"&lang={lang}&view=full")
    assert thin["view"] == "slim" and "view" not in full
    base = bases.known(thin["ruleset"]["hash"])
    assert base is not None
    assert slim.expand(thin, base) == full
    # One language, the request's: the texts of the grounds, conditions and questions beside the verdict, which
    # names them by id; citations are by rule id.
    texts = thin["texts"]
    assert set(texts["rules"]) == {g["rule"] for g in full["grounds"] + full["possible_grounds"]}
    for ground, expanded in zip(thin["grounds"], full["grounds"], strict=True):
        assert texts["rules"][ground["rule"]] == expanded["title"][lang] and set(ground) == {"rule", "effect"}
    assert full["conditions"]
    for condition, expanded in zip(thin["conditions"], full["conditions"], strict=True):
        assert texts["conditions"][condition["rule"]][condition["n"]] == {
            "what": expanded["what"][lang], "authority": expanded["authority"][lang]}
    assert [texts["questions"][q["fact"]] for q in thin["questions"]] == \
        [q["question"][lang] for q in full["questions"]]
    assert thin["disclaimer"] == full["disclaimer"][lang]
    assert len(orjson.dumps(thin)) * 3 < len(orjson.dumps(full))


def test_an_unknown_view_is_refused_with_the_views_there_are(api: Api, applicant_key: str) -> None:
    r = api.client.post("/v1/evaluations?view=fat", json=GERMLINE, headers=api.headers(applicant_key))
    body = problem(r, 400)
    assert body["errors"][0]["parameter"] == "view" and "'slim' or 'full'" in body["errors"][0]["detail"]


def test_a_check_is_stored_and_answered_slim_and_reads_back_full(api: Api, applicant_key: str) -> None:
    created = api.client.post(f"/v1/checks?as_of={DAY}", json=REPRODUCTIVE, headers=api.headers(applicant_key))
    assert created.status_code == 201
    check = created.json()
    assert check["verdict"]["view"] == "slim" and check["verdict"]["texts"]["rules"]
    with api.db.read() as conn:
        stored = conn.execute(text("SELECT verdict_json FROM checks WHERE id = :c"), {"c": check["id"]}).scalar_one()
    # Stored without the texts: they are the rule base's.
    assert orjson.loads(stored) == {k: v for k, v in check["verdict"].items() if k != "texts"}

    full = evaluate(api, applicant_key, REPRODUCTIVE, "&view=full")
    got = api.client.get(f"{created.headers['location']}?view=full", headers=api.headers(applicant_key))
    assert got.status_code == 200 and got.json()["verdict"] == full
    assert {k: v for k, v in got.json().items() if k != "verdict"} == {k: v for k, v in check.items() if k != "verdict"}
    default = api.client.get(created.headers["location"], headers=api.headers(applicant_key)).json()
    assert default == check


def test_a_check_created_with_view_full_answers_full_and_is_stored_slim(api: Api, applicant_key: str) -> None:
    created = api.client.post(f"/v1/checks?as_of={DAY}&view=full", json=PLAIN, headers=api.headers(applicant_key),
                              ).json()
    assert "view" not in created["verdict"] and created["verdict"] == evaluate(api, applicant_key, PLAIN, "&view=full")
    stored = checks.load_check(api.db, created["id"])
    assert stored is not None and slim.is_slim(stored.verdict)


def test_an_idempotent_retry_answers_in_the_view_it_asks_for(api: Api, applicant_key: str) -> None:
    headers = api.headers(applicant_key, **{"Idempotency-Key": "slim-view-retry"})
    first = api.client.post(f"/v1/checks?as_of={DAY}", json=PLAIN, headers=headers)
    again = api.client.post(f"/v1/checks?as_of={DAY}&view=full", json=PLAIN, headers=headers)
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert first.json()["verdict"]["view"] == "slim" and "view" not in again.json()["verdict"]


def test_a_check_whose_rule_base_is_lost_still_reads(api: Api, applicant_key: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    created = api.client.post(f"/v1/checks?as_of={DAY}", json=GERMLINE, headers=api.headers(applicant_key)).json()
    verdict = created["verdict"]
    lost = {**{k: v for k, v in verdict.items() if k != "texts"}, "ruleset": {**verdict["ruleset"], "hash": "d" * 64}}
    with api.db.write() as conn:
        conn.execute(text("UPDATE checks SET verdict_json = :v WHERE id = :c"),
                     {"v": orjson.dumps(lost).decode(), "c": created["id"]})
    url = f"/v1/checks/{created['id']}"
    assert api.client.get(url, headers=api.headers(applicant_key)).json()["verdict"] == lost
    body = problem(api.client.get(url + "?view=full", headers=api.headers(applicant_key)), 409)
    assert body["detail"] == (f"the rule files of ruleset {'d' * 12} are not stored on this server, so the full "
                              "view of this check cannot be built; its default (slim) view reads on its own")
    # Pages and the terminal read it in the full form's shape, from its own texts, in its language.
    stored = checks.load_check(api.db, created["id"])
    assert stored is not None
    readable = receipts.full_verdict(api.db, stored)
    assert readable["grounds"][0]["title"] == {"en": verdict["grounds"][0]["rule"]}
    assert readable["questions"][0]["question"] == {"en": verdict["questions"][0]["fact"]}
    assert readable["verdict"] == verdict["verdict"] and readable["trace"]
    receipt = api.client.get(url + "/receipt", headers=api.headers(applicant_key))
    assert receipt.status_code == 200 and receipt.json()["verdict"] == verdict["verdict"]


def test_an_old_check_is_expanded_from_its_snapshot_when_the_process_does_not_know_its_rule_base(
        api: Api, applicant_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    created = api.client.post(f"/v1/checks?as_of={DAY}", json=GERMLINE, headers=api.headers(applicant_key))
    full = api.client.get(f"{created.headers['location']}?view=full", headers=api.headers(applicant_key)).json()
    with bases.forgotten():  # only the stored snapshot has it now
        again = api.client.get(f"{created.headers['location']}?view=full", headers=api.headers(applicant_key)).json()
        assert bases.known(full["ruleset_hash"]) is not None  # rebuilt once, then kept
    assert again == full


def test_the_questions_catalogue_holds_the_texts_of_a_slim_verdicts_questions(api: Api, applicant_key: str) -> None:
    thin = evaluate(api, applicant_key, GERMLINE, "&lang=nl")
    full = evaluate(api, applicant_key, GERMLINE, "&lang=nl&view=full")
    r = api.client.get("/v1/questions")
    assert r.status_code == 200
    catalogue = {q["fact"]: q for q in r.json()["questions"]}
    assert r.json()["ruleset"]["hash"] == thin["ruleset"]["hash"]
    assert thin["questions"]
    for q, expanded in zip(thin["questions"], full["questions"], strict=True):
        assert catalogue[q["fact"]]["question"] == expanded["question"]
        assert catalogue[q["fact"]]["question"]["nl"] == thin["texts"]["questions"][q["fact"]]


def test_the_rules_catalogue_names_the_numbers_a_slim_verdict_uses(api: Api, applicant_key: str) -> None:
    thin = evaluate(api, applicant_key, GERMLINE)
    full = evaluate(api, applicant_key, GERMLINE, "&view=full")
    by_number = {r["number"]: r["id"] for r in api.client.get("/v1/rules").json()["rules"]}
    assert len(by_number) == len(bases.known(thin["ruleset"]["hash"]).rules)  # type: ignore[union-attr]
    assert [[by_number[n] for n in q["rules"]] for q in thin["questions"]] == [q["rules"] for q in full["questions"]]
    assert [[by_number[n] for n in g["rules"]] for g in thin["not_assessed"]] == \
        [g["rules"] for g in full["not_assessed"]]
    fired = [s for s in full["trace"] if s["form"] != "implied"]
    assert fired and all(by_number[int(s["fired"][:-1])] == s["rule"] for s in fired)
