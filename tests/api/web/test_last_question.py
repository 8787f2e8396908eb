"""A question page says it is the last only when no answer to it opens another question; when one may, it says
that more questions may follow (answering where embryos come from opens the question on the CCMO's opinion)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.web import form as webform

from .test_private_result import as_user

INVOLVES = {"human.embryo": "yes", "human.gametes": "no", "human.somatic_cells": "no", "human.subjects": "no",
            "animal.involved": "no", "plant.involved": "no", "gmo.use": "none", "medicine.medicinal_product": "no",
            "transplant.source": "none", "partners": "no", "abroad": "no"}


def progress(client: TestClient, fact: str) -> str:
    found = re.search(r'id="progress">(.*?)</span>', client.get(f"/apply/q/{fact}").text, re.S)
    assert found
    return " ".join(found.group(1).split())


def test_the_last_question_is_announced_only_when_no_answer_opens_another(
        site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    token = as_user(client, auth.create_key(db, "applicant", "Lab").key)
    client.post("/apply", data={"csrf": token})
    client.post("/apply/about", data={"csrf": token, "title": "Embryos", "activity:answer": "basic_research",
                                      "purpose:answer": "biomedical_research", "technique:answer": "crispr"})
    client.post("/apply/involves", data={"csrf": token, **{f"{k}:answer": v for k, v in INVOLVES.items()}})
    last = webform.texts().t("last_question", "en")
    asked = []
    location = client.get("/apply/next").headers["location"]
    while location.startswith("/apply/q/"):
        fact = location.removeprefix("/apply/q/")
        asked.append(fact)
        said = progress(client, fact)
        answer = {"human.embryo_source": "spare_ivf", "human.embryo_culture_days": "number"}.get(fact, "no")
        r = client.post(location, data={"csrf": token, "answer": answer, "number": "7"})
        location = client.get(r.headers["location"]).headers.get("location", "/apply/check") \
            if r.headers["location"] == "/apply/next" else r.headers["location"]
        if last in said:
            assert location == "/apply/check", (fact, said, location)
        if fact == "human.embryo_source" and location != "/apply/check":
            assert last not in said, said  # its answer opened another question: it was not the last
    assert location == "/apply/check" and "human.embryo_source" in asked, asked
