"""A proposal that is several activities, through every path that stores, reads, replays, compares or batches it."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from biotoets.api.analysis.impact import run_cases
from biotoets.api.engines.pool import evaluate_many, summarize
from biotoets.engine.evaluate import Engine
from biotoets.engine.loader import load_rule_base

from ..conftest import Api
from ..helpers import problem

ON = date(2026, 11, 28)
# IVF treatment aimed at a pregnancy that is also research with the embryos.
IVF: dict[str, Any] = {"activity": ["medical_treatment", "basic_research"], "technique": "none",
                       "human": {"embryo": True, "gametes": False, "embryo_source": "spare_ivf",
                                 "pregnancy_intended": True, "embryo_culture_days": 5}}


def labelled(verdict: dict[str, Any]) -> dict[str, list[str]]:
    return {a["activity"]: a.get("grounds", []) for a in verdict["activities"]}


def test_a_check_with_several_activities_is_stored_read_and_replayed(api: Api, applicant_key: str,
                                                                     assessor_key: str) -> None:
    r = api.client.post("/v1/checks?as_of=2026-11-28", json=IVF, headers=api.headers(applicant_key))
    assert r.status_code == 201, r.text
    check = r.json()
    assert check["proposal"]["activity"] == ["medical_treatment", "basic_research"]
    assert check["verdict"]["verdict"] == "conditional"
    assert labelled(check["verdict"]) == {"medical_treatment": [],
                                          "basic_research": ["germline.embryo-research",
                                                             "germline.pregnancy-research"]}
    read = api.client.get(f"/v1/checks/{check['id']}", headers=api.headers(applicant_key)).json()
    assert read["verdict"] == check["verdict"] and read["proposal"] == check["proposal"]
    full = api.client.get(f"/v1/checks/{check['id']}?view=full&include=changes",
                          headers=api.headers(assessor_key)).json()["verdict"]
    ground = next(g for g in full["grounds"] if g["rule"] == "germline.embryo-research")
    assert ground["facts"]["activity"] == ["medical_treatment", "basic_research"] and ground["citations"]
    assert "medical_treatment" in {a["activity"] for a in full["activities"]}
    assert any(c["fact"] == "human.pregnancy_intended" for c in full["changes"])
    replay = api.client.post(f"/v1/checks/{check['id']}/replay", headers=api.headers(assessor_key))
    assert replay.status_code == 200, replay.text
    assert replay.json()["verdict_unchanged"] is True and replay.json()["identical"] is True
    receipt = api.client.get(f"/v1/checks/{check['id']}/receipt", headers=api.headers(applicant_key)).json()
    assert receipt["verdict"] == "conditional" and "germline.embryo-research" in receipt["grounds"]


def test_an_evaluation_with_one_activity_in_a_list_is_the_single_activity(api: Api, applicant_key: str) -> None:
    one = {**IVF, "activity": "medical_treatment"}
    single = api.client.post("/v1/evaluations?as_of=2026-11-28", json=one, headers=api.headers(applicant_key)).json()
    listed = api.client.post("/v1/evaluations?as_of=2026-11-28", json={**one, "activity": ["medical_treatment"]},
                             headers=api.headers(applicant_key)).json()
    assert listed == single and "activities" not in single and single["verdict"] == "allowed"


def test_an_empty_or_repeating_list_of_activities_is_a_422_on_the_field(api: Api, applicant_key: str) -> None:
    for value, detail in (([], "is an empty list: name at least one activity, or leave it out (unknown)"),
                          (["market", "export", "market"], "names an activity more than once: market")):
        body = problem(api.client.post("/v1/checks", json={"activity": value}, headers=api.headers(applicant_key)),
                       422)
        assert [(e["pointer"], e["detail"]) for e in body["errors"]] == [("/activity", detail)]


def test_batch_and_impact_take_several_activities(tmp_path: Path) -> None:
    proposals = [IVF, {**IVF, "activity": "medical_treatment"}, {**IVF, "activity": ["basic_research", "export"]}]
    engine = Engine(load_rule_base())
    try:
        sequential = [engine.evaluate(p, ON) for p in proposals]
    finally:
        engine.close()
    assert evaluate_many(proposals, ON, workers=2, chunk=1, summary=False) == sequential
    assert evaluate_many(proposals, ON, workers=2, chunk=2) == [summarize(v) for v in sequential]
    # Lifting the ban on creating embryos for research changes the research part only.
    created = {**IVF, "human": {**IVF["human"], "embryo_source": "created_for_research"}}
    case = {"id": "several", "why": "Creating embryos for research is banned (Embryowet art. 24 onder a).",
            "proposal": created, "expected": {"verdict": "prohibited"}}
    (tmp_path / "cases.yaml").write_text(yaml.safe_dump({"cases": [case]}))
    report = run_cases("embryowet-36416", tmp_path / "cases.yaml", ON)
    assert report["total"] == 1 and report["changed"] == 1
    assert report["matrix"]["prohibited"]["conditional"] == 1


def test_an_applicant_answers_the_activity_question_with_several(api: Api, applicant_key: str,
                                                                 assessor_key: str) -> None:
    unsaid = {k: v for k, v in IVF.items() if k != "activity"}
    check = api.client.post("/v1/checks", json=unsaid, headers=api.headers(applicant_key)).json()
    r = api.client.post(f"/v1/checks/{check['id']}/reviews", json={
        "decision": "request_information", "questions": ["activity"], "reason": "Treatment, research, or both?"},
        headers=api.headers(assessor_key))
    assert r.status_code == 201, r.text
    url = f"/v1/checks/{check['id']}/answers"
    body = problem(api.client.post(url, json={"answers": {"activity": ["market", "market"]}},
                                   headers=api.headers(applicant_key)), 422)
    assert body["errors"][0]["pointer"] == "/answers/activity"
    assert body["errors"][0]["detail"].startswith("must be one or more of basic_research, ")
    assert body["errors"][0]["detail"].endswith(", each once (or null: I don't know)")
    r = api.client.post(url, json={"answers": {"activity": ["medical_treatment", "basic_research"]}},
                        headers=api.headers(applicant_key))
    assert r.status_code == 200, r.text
    assert r.json()["automated_verdict"] == "conditional"
    now = api.client.get(f"/v1/checks/{check['id']}", headers=api.headers(applicant_key)).json()
    assert now["proposal"]["activity"] == ["medical_treatment", "basic_research"]
    assert [a["activity"] for a in now["verdict"]["activities"]] == ["medical_treatment", "basic_research"]
