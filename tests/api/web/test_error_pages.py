"""An error on a page is a page: in the page's language (a Dutch page entirely Dutch), with the site's layout, a
link to the start page and no details of a failure -- while the API (``/v1``) keeps answering problem documents,
unchanged. Each error a page user can get: an address that does not exist, a method the address does not take,
a form too large, answers that cannot be processed (a draft that no longer fits the proposal schema), a step the
check's state does not allow, and a failure of the server."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.store.sessions import load_session, save_draft
from biotoets.api.web import form as webform
from biotoets.api.workflow import Conflict

from ..helpers import GERMLINE, problem
from .test_dutch_pages import assert_dutch
from .test_private_result import as_user

LANGS = ["en", "nl"]


def t(key: str, lang: str) -> str:
    return str(webform.texts().t(key, lang))


def error_page(r: Response, status: int, lang: str, title: str, text: str) -> str:
    """Assert that the answer is the site's error page for this status, in this language; return its HTML."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert r.headers["content-language"] == lang
    page = r.text
    assert f'<html lang="{lang}">' in page
    assert re.search(r"<h1>\s*" + re.escape(t(title, lang)) + r"\s*</h1>", page), page[:2000]
    assert t(text, lang) in html.unescape(page)
    assert f'<a id="error-start" href="/">{t("error_start", lang)}</a>' in page  # a way back to the start
    assert 'class="masthead"' in page and 'class="advice"' in page  # the site's layout, the disclaimer
    assert "Traceback" not in page and "problem+json" not in page and "/problems/" not in page
    if lang == "nl":
        assert_dutch(str(r.url), page)
    return page


@pytest.fixture
def client(site: tuple[TestClient, dbm.Database]) -> Iterator[TestClient]:
    c, _ = site
    c.cookies.clear()
    yield c
    c.cookies.clear()


def signed_in(site: tuple[TestClient, dbm.Database], role: str, lang: str) -> tuple[TestClient, str]:
    client, db = site
    token = as_user(client, auth.create_key(db, role, f"{role} {lang}").key)
    client.cookies.set("biotoets_lang", lang)
    return client, token


# -- 404 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", ["/apply/nothing-here", "/checks/no-such-check/receipt/x", "/queue/old",
                                  "/audit/2020"])
def test_an_address_under_the_pages_that_does_not_exist_is_a_404_page_for_any_client(
        client: TestClient, path: str, lang: str) -> None:
    # no Accept header at all (a link checker, curl): still the page's error, since the address is a page's
    error_page(client.get(path, headers={"Accept-Language": lang}), 404, lang, "page_not_found", "not_found_text")


@pytest.mark.parametrize("lang", LANGS)
def test_a_browser_asking_for_an_address_outside_the_api_that_does_not_exist_gets_a_404_page(
        client: TestClient, lang: str) -> None:
    for method in ("GET", "POST"):
        r = client.request(method, "/no-such-page", headers={"Accept": "text/html", "Accept-Language": lang})
        error_page(r, 404, lang, "page_not_found", "not_found_text")


@pytest.mark.parametrize("lang", LANGS)
def test_a_check_that_does_not_exist_or_is_not_yours_is_a_404_page(site: tuple[TestClient, dbm.Database],
                                                                   lang: str) -> None:
    client, _ = signed_in(site, "applicant", lang)
    r = client.get("/checks/01900000-0000-7000-8000-000000000000")
    page = error_page(r, 404, lang, "page_not_found", "not_found_text")
    assert t("nav_my_checks", lang) in page  # signed in: the menu is there


# -- 405 ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", "/apply/result", "POST"),  # a form's address opened as a page (a reload, a bookmark)
    ("GET", "/apply/rest-unknown", "POST"),
    ("GET", "/logout", "POST"),
    ("POST", "/queue", "GET"),  # a page sent a form
    ("PUT", "/checks", "GET"),
    ("DELETE", "/checks/01900000-0000-7000-8000-000000000000", "GET"),
])
def test_a_method_the_page_does_not_take_is_a_405_page_that_says_what_to_do(
        site: tuple[TestClient, dbm.Database], method: str, path: str, allow: str, lang: str) -> None:
    client, _ = signed_in(site, "applicant", lang)
    r = client.request(method, path)
    error_page(r, 405, lang, "method_title", "method_text")
    assert r.headers["allow"] == allow  # kept: the browser and a person may use it


# -- 413 and 400: a form the server does not take ----------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_a_form_too_large_or_unreadable_is_an_error_page(site: tuple[TestClient, dbm.Database], lang: str) -> None:
    client, token = signed_in(site, "applicant", lang)
    client.post("/apply", data={"csrf": token})
    big = client.post("/apply/about", content=f"csrf={token}&title={'x' * 120_000}",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    error_page(big, 413, lang, "form_error_title", "form_too_large")
    garbled = client.post("/apply/about", content=b"csrf=\xff\xfe", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    error_page(garbled, 400, lang, "form_error_title", "form_unreadable")


# -- 422: answers that cannot be processed -----------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
def test_a_draft_that_no_longer_fits_the_proposal_schema_is_a_422_page(site: tuple[TestClient, dbm.Database],
                                                                       lang: str) -> None:
    client, token = signed_in(site, "applicant", lang)
    client.post("/apply", data={"csrf": token})
    db = site[1]
    user = load_session(db, client.cookies["biotoets_session"])
    assert user is not None and user.draft is not None
    # a draft kept in the session from before a change of the proposal schema (a fact's values changed)
    save_draft(db, user.session, {**user.draft, "proposal": {"human": {"embryo": "perhaps"}}})
    for r in (client.get("/apply/next"), client.post("/apply/result", data={"csrf": token})):
        error_page(r, 422, lang, "form_error_title", "invalid_page_text")
    assert "perhaps" not in client.get("/apply/next").text  # what failed is not put on the page


# -- 409 and 500: a domain error or a failure inside a page --------------------------------------------
@pytest.fixture
def broken_engine(site: tuple[TestClient, dbm.Database], monkeypatch: pytest.MonkeyPatch) -> list[Exception]:
    """The engine raises what the test puts in the list (a failure of the server, or the workflow's refusal)."""
    raised: list[Exception] = []
    service = site[0].app.state.biotoets.service  # type: ignore[attr-defined]

    async def broken(*_args: Any) -> dict[str, Any]:
        raise raised[0]

    monkeypatch.setattr(service, "evaluate", broken)
    return raised


@pytest.mark.parametrize("lang", LANGS)
def test_a_failure_inside_a_page_is_a_500_page_with_only_a_reference_that_is_in_the_log(
        site: tuple[TestClient, dbm.Database], broken_engine: list[Exception], caplog: pytest.LogCaptureFixture,
        lang: str) -> None:
    client, token = signed_in(site, "applicant", lang)
    client.post("/apply", data={"csrf": token})
    broken_engine.append(RuntimeError("simulated fault in /secret/path.py"))
    with caplog.at_level(logging.ERROR, logger="biotoets.api"):
        r = client.get("/apply/next")
    page = error_page(r, 500, lang, "internal_title", "internal_text")
    correlation = r.headers["x-correlation-id"]
    assert re.search(r'id="error-reference">' + correlation + "<", page)
    assert any(correlation in rec.getMessage() and rec.exc_info for rec in caplog.records)
    assert "simulated fault" not in page and "secret" not in page and "RuntimeError" not in page
    assert t("nav_my_checks", lang) not in page  # after a failure the page does not touch the database again


@pytest.mark.parametrize("lang", LANGS)
def test_a_step_the_state_does_not_allow_raised_inside_a_page_is_a_409_page(
        site: tuple[TestClient, dbm.Database], broken_engine: list[Exception], lang: str) -> None:
    client, token = signed_in(site, "applicant", lang)
    client.post("/apply", data={"csrf": token})
    broken_engine.append(Conflict("confirmed", "answer"))
    r = client.get("/apply/next")
    page = error_page(r, 409, lang, "conflict_title", "conflict_page_text")
    assert "confirmed" not in page  # the API's English detail stays off the page


# -- the API keeps its problem documents -------------------------------------------------------------------
def test_the_api_still_answers_problem_documents_even_to_a_browser(site: tuple[TestClient, dbm.Database],
                                                                   broken_engine: list[Exception]) -> None:
    client, db = site
    client.cookies.clear()
    browser = {"Accept": "text/html", "Accept-Language": "nl"}
    assert problem(client.get("/v1/nothing", headers=browser), 404) == {
        "type": "/problems/not-found", "title": "Not found", "status": 404,
        "detail": "There is nothing at this address.", "instance": "/v1/nothing"}
    r = client.delete("/v1/checks", headers=browser)
    assert problem(r, 405) == {"type": "/problems/method-not-allowed", "title": "Method not allowed",
                               "status": 405, "detail": "DELETE is not allowed here.", "instance": "/v1/checks"}
    assert problem(client.get("/v1/checks", headers=browser), 401)["type"] == "/problems/unauthenticated"
    assert problem(client.post("/healthz", headers=browser), 405)["instance"] == "/healthz"
    # an address outside the pages and the API, asked by a client that is no browser: a problem document
    assert problem(client.get("/no-such-page"), 404)["instance"] == "/no-such-page"
    key = auth.create_key(db, "applicant", "API client").key
    broken_engine.append(RuntimeError("simulated fault"))
    r = client.post("/v1/checks", json=GERMLINE, headers={**browser, "Authorization": f"Bearer {key}"})
    body = problem(r, 500)
    assert body["type"] == "/problems/internal-error" and body["correlation_id"] == r.headers["x-correlation-id"]
    assert body["detail"] == ("The server failed to handle this request; nothing was stored. Quote correlation id "
                              f"{body['correlation_id']} when you report it.")
    broken_engine[0] = Conflict("confirmed", "answer")
    assert problem(client.post("/v1/evaluations", json=GERMLINE, headers={
        **browser, "Authorization": f"Bearer {key}"}), 409)["detail"] == (
        "The check is confirmed; 'answer' is not possible from there (a reviewed check is final).")
