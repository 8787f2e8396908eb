"""The assessor's pages for triage: earlier evaluations as a diff of answers and verdict; the audit page shows a
check's title (a draft's stays private) and filters by action from a list of every action the log records."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from biotoets.api.store import audit
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth

from ..helpers import GERMLINE
from .test_private_result import as_user

API = Path(__file__).resolve().parents[3] / "api"


def test_every_action_written_to_the_log_is_in_the_filter_list() -> None:
    written = set()
    for source in API.rglob("*.py"):
        written |= set(re.findall(r'"((?:check|review|key|session)\.[a-z_]+)"', source.read_text()))
    written = {w for w in written if not w.endswith(".html")} - {"checks.id"}  # (templates, a column)
    assert written <= set(audit.ACTIONS), written - set(audit.ACTIONS)


def test_the_audit_page_shows_check_titles_and_filters_by_action(site: tuple[TestClient, dbm.Database]) -> None:  # noqa: F811
    client, db = site
    key = auth.create_key(db, "applicant", "Lab").key
    client.cookies.clear()
    check = client.post("/v1/checks", json=GERMLINE, headers={"Authorization": f"Bearer {key}"}).json()
    as_user(client, auth.create_key(db, "assessor", "Desk").key)
    page = client.get(f"/audit?subject={check['id']}").text
    assert f'<span class="caption" id="audit-subject-title">{GERMLINE["title"]}</span>' in page
    assert '<option value="check.created">' in page and '<option value="review.overridden">' in page
    filtered = client.get("/audit?action=session.started").text
    assert '<option value="session.started" selected>' in filtered
    assert "<td class=\"mono nowrap\" data-label=\"Action\">check.created" not in filtered
    assert "data-label=\"Action\">session.started" in filtered
    unknown = client.get("/audit?action=made.up").text  # not an action: no filter, every record
    assert "data-label=\"Action\">check.created" in unknown


def test_the_review_page_shows_earlier_evaluations_as_a_diff_of_answers_and_verdict(
        site: tuple[TestClient, dbm.Database]) -> None:  # noqa: F811
    client, db = site
    applicant = {"Authorization": f"Bearer {auth.create_key(db, 'applicant', 'Lab').key}"}
    assessor_key = auth.create_key(db, "assessor", "Desk").key
    client.cookies.clear()
    check = client.post("/v1/checks", json=GERMLINE, headers=applicant).json()
    r = client.post(f"/v1/checks/{check['id']}/reviews", headers={"Authorization": f"Bearer {assessor_key}"},
                    json={"decision": "request_information", "questions": ["human.pregnancy_intended"]})
    assert r.status_code == 201, r.text
    r = client.post(f"/v1/checks/{check['id']}/answers", headers=applicant,
                    json={"answers": {"human.pregnancy_intended": True}})
    assert r.status_code in (200, 201), r.text
    as_user(client, assessor_key)
    page = client.get(f"/checks/{check['id']}").text
    step = page[page.index('id="revision-2"'):]
    step = step[:step.index("</div>")]
    assert "Evaluation 1 → 2" in step
    assert re.search(r"Conditional</span>\s*→\s*<span class=\"tag prohibited\">", step), step
    assert re.search(r"Pregnancy intended</td><td[^>]*><del>I don&#39;t know</del></td><td[^>]*><ins>Yes</ins>",
                     step), step


def test_a_drafts_creation_record_is_shown_to_whoever_may_read_the_check(
        site: tuple[TestClient, dbm.Database]) -> None:  # noqa: F811
    """The access rule of checks.may_read, applied to the audit log: a draft is its owner's alone, so its
    check.created record is on the owner's audit page and not on an assessor's (nor in the API's log) until the
    owner submits it; then the assessor sees the whole history, the creation as a draft included, with the title."""
    client, db = site
    owner = auth.create_key(db, "applicant", "Lab")
    other = auth.create_key(db, "applicant", "Other lab").key
    assessor = auth.create_key(db, "assessor", "Desk").key
    token = as_user(client, owner.key)
    client.post("/apply", data={"csrf": token})
    client.post("/apply/about", data={"csrf": token, "title": "Private start", "activity:answer": "basic_research",
                                      "purpose:answer": "biomedical_research", "technique:answer": "crispr"})
    client.post("/apply/rest-unknown", data={"csrf": token})
    check = client.post("/apply/result", data={"csrf": token}).headers["location"].removeprefix("/checks/")
    created = 'data-label="Action">check.created'

    assert f'href="/audit?subject={check}"' in client.get(f"/checks/{check}").text  # the owner's link
    own = client.get(f"/audit?subject={check}").text
    assert created in own and "Private start" in own and "status:</span> concept" not in own
    assert "status:</span> draft (not submitted)" in own
    everything = client.get("/audit").text  # an applicant's audit page: their own checks' records only
    assert created in everything
    assert 'Action">session.started' not in everything and 'Action">key.created' not in everything

    as_user(client, other)
    assert client.get(f"/audit?subject={check}").text.count(created) == 0
    as_user(client, assessor)
    assert created not in client.get(f"/audit?subject={check}").text
    api = client.get(f"/v1/audit?subject={check}", headers={"Authorization": f"Bearer {assessor}"}).json()
    assert api["items"] == []

    token = as_user(client, owner.key)
    assert client.post(f"/checks/{check}/submit", data={"csrf": token}).status_code == 303
    as_user(client, assessor)
    page = client.get(f"/audit?subject={check}").text
    assert created in page and 'data-label="Action">check.submitted' in page and "Private start" in page
    assert "status:</span> draft (not submitted)" in page  # it began as a draft
    assert created in client.get(f"/checks/{check}").text  # the review page's trail too
    api = client.get(f"/v1/audit?subject={check}", headers={"Authorization": f"Bearer {assessor}"}).json()
    assert [i["action"] for i in api["items"]] == ["check.submitted", "check.created"]
