""""What would change it" on the applicant's result page: computed when the page is asked for, kept per check,
never stored; in the page's language; and said plainly when it cannot be computed."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.store import receipts
from biotoets.api.web import form as webform

from ..helpers import GERMLINE
from .test_private_result import as_user


def _check(client: TestClient, key: str, proposal: dict[str, object]) -> str:
    r = client.post("/v1/checks", json=proposal, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _rows(page: str) -> list[str]:
    table = page.split('id="changes"', 1)[1].split("</table>", 1)[0]
    return [html.unescape(row) for row in table.split("<tr>")[2:]]


def _shown(change: dict[str, object], row: str, lang: str) -> bool:
    fact = str(change["fact"])
    return all(part in row for part in (webform.fact_label(fact, lang), webform.value_label(fact, change["from"], lang),
                                        webform.value_label(fact, change["to"], lang), *map(str, change["rules"])))  # type: ignore[call-overload]


def _changes(client: TestClient, key: str, check: str) -> list[dict[str, object]]:
    r = client.get(f"/v1/checks/{check}?include=changes", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    return r.json()["verdict"]["changes"]  # type: ignore[no-any-return]


def test_the_result_page_says_what_would_change_it_once_computed(site: tuple[TestClient, dbm.Database],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    client, db = site
    applicant = auth.create_key(db, "applicant", "Lab").key
    check = _check(client, applicant, {**GERMLINE, "title": "Changes on the page"})
    as_user(client, applicant)
    page = client.get(f"/checks/{check}")
    assert page.status_code == 200 and "What would change the outcome" in page.text
    expected = _changes(client, applicant, check)
    assert any(c["fact"] == "human.embryo" for c in expected)
    rows = _rows(page.text)
    assert len(rows) == len(expected)
    assert all(_shown(change, row, "en") for change, row in zip(expected, rows, strict=True))

    def computed_again(*args: object) -> None:
        raise AssertionError("computed twice")

    monkeypatch.setattr(receipts._server_engines, "changes", computed_again)
    again = client.get(f"/checks/{check}?lang=nl")
    assert "Wat de uitkomst zou veranderen" in again.text
    assert all(_shown(change, row, "nl") for change, row in zip(expected, _rows(again.text), strict=True))
    # Nothing is stored: the check's own verdict still has an empty list.
    stored = client.get(f"/v1/checks/{check}", headers={"Authorization": f"Bearer {applicant}"})
    assert stored.json()["verdict"]["changes"] == []


def test_a_result_without_changes_says_so(site: tuple[TestClient, dbm.Database]) -> None:
    client, db = site
    applicant = auth.create_key(db, "applicant", "Lab").key
    check = _check(client, applicant, {"title": "Nothing known"})
    assert _changes(client, applicant, check) == []
    as_user(client, applicant)
    assert "No answer was found that, changed on its own, changes the outcome." in client.get(f"/checks/{check}").text


def test_a_result_whose_rules_are_not_stored_says_it_cannot_be_computed(site: tuple[TestClient, dbm.Database],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    client, db = site
    applicant = auth.create_key(db, "applicant", "Lab").key
    check = _check(client, applicant, {**GERMLINE, "title": "Rules gone"})

    async def not_stored(*args: object) -> None:
        raise receipts.SnapshotError("the rule files are not stored on this server")

    monkeypatch.setattr(receipts, "changes_in_server", not_stored)
    as_user(client, applicant)
    page = client.get(f"/checks/{check}")
    assert page.status_code == 200
    assert "This cannot be computed now: the rules of this check are not stored on this server." in page.text
    assert "Dit kan nu niet worden berekend" in client.get(f"/checks/{check}?lang=nl").text


def test_the_assessors_page_does_not_compute_them(site: tuple[TestClient, dbm.Database],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    client, db = site
    applicant = auth.create_key(db, "applicant", "Lab").key
    check = _check(client, applicant, {**GERMLINE, "title": "For the office"})

    async def asked(*args: object) -> None:
        raise AssertionError("computed for the assessor's page")

    monkeypatch.setattr(receipts, "changes_in_server", asked)
    as_user(client, auth.create_key(db, "assessor", "Office").key)
    page = client.get(f"/checks/{check}")
    assert page.status_code == 200 and "What would change the outcome" not in page.text
