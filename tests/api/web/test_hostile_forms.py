"""Junk posted to the web forms: every answer is a page (or a redirect), never a 500 or a traceback.

Hypothesis writes form bodies for every form a signed-in visitor can post -- the real field names with junk values,
unknown fields, repeated fields, huge values, odd Unicode, too many fields, bodies that are not UTF-8 or not form
data at all -- each sent with the visitor's real session token, so the handlers behind the token check are reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biotoets.api.documents import answers as ans
from biotoets.api.http.app import create_app
from biotoets.api.settings import Settings
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from tests.figures import tally

from .test_page_matrix import Site, Visit

JUNK = "junk inputs (web forms)"
FIELDS = ["csrf", "title", "decision", "verdict", "reason", "questions", "message", "return", "answer", "number",
          "activity:answer", "purpose:answer", "technique:answer", "human.pregnancy_intended:answer",
          "partners.countries:answer", "partners.countries:list", "export.dual_use_items:answer", "key", "next"]
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["yes", "no", "unknown", "number", "-1", "1e309", "NaN", "99999999999999999999", "", " ",
                     "\u0000", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"), "\u202e",
                     "confirm", "override", "prohibited", "request_information", "start_review", "NL,DE,XX",
                     "../../etc/passwd", "<script>alert(1)</script>", "'; DROP TABLE checks; --"]),
    st.text(min_size=600, max_size=700),
    st.just("x" * 700),
)
FORM = st.lists(st.tuples(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)), VALUES), max_size=12)
PROFILE = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
OK = {200, 303, 307, 400, 403, 404, 409, 413, 415, 422}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile-forms') / 'forms.db'}"
    with TestClient(create_app(Settings(database_url=url, key_cache_seconds=60, auth_failure_limit=0)),
                    follow_redirects=False) as client:
        db = dbm.Database(url)
        try:
            yield Site(client, db, {"applicant A": auth.create_key(db, "applicant", "Lab A").key,
                                    "applicant B": auth.create_key(db, "applicant", "Lab B").key,
                                    "assessor": auth.create_key(db, "assessor", "Office").key,
                                    "admin": auth.create_key(db, "admin", "ops").key})
        finally:
            db.dispose()


@pytest.fixture(scope="module")
def visits(site: Site) -> dict[str, Visit]:
    return {who: site.sign_in(site.keys[who]) for who in ("applicant A", "assessor")}


def forms(site: Site) -> list[tuple[str, str]]:
    """(who posts, path) for every form of the site that takes answers."""
    check = site.check_of_a()
    asked = site.check_of_a(information_requested=True)
    fact = next(f for f in sorted(ans.facts()) if ans.answerable(f))
    return [("applicant A", p) for p in ("/apply", "/apply/about", "/apply/involves", f"/apply/q/{quote(fact)}",
                                         "/apply/rest-unknown", "/apply/result", f"/checks/{asked}/answers",
                                         f"/checks/{check}/replay", "/logout")] + \
           [("assessor", f"/checks/{check}/review"), ("assessor", f"/checks/{asked}/review")]


def send(site: Site, visit: Visit, path: str, body: bytes,
         kind: str = "application/x-www-form-urlencoded") -> httpx.Response:
    client = site.use(visit)
    client.post("/apply", data={"csrf": visit.csrf})  # a form in progress, so the applicant's pages are reached
    r = client.post(path, content=body, headers={"Content-Type": kind})
    assert r.status_code in OK, (path, r.status_code, r.text[:300])
    assert "Traceback" not in r.text
    if r.status_code != 303:
        assert r.headers["content-type"].startswith("text/html"), (path, r.headers["content-type"])
    return r


def test_junk_in_every_form_gets_a_page_never_a_500(site: Site, visits: dict[str, Visit]) -> None:
    targets = forms(site)

    @PROFILE
    @given(form=FORM, target=st.sampled_from(targets))
    def post(form: list[tuple[str, str]], target: tuple[str, str]) -> None:
        who, path = target
        visit = visits[who] if path != "/logout" else site.sign_in(site.keys[who])
        fields = [("csrf", visit.csrf), *form]
        send(site, visit, path, urlencode(fields, encoding="utf-8", errors="surrogatepass").encode())
        tally(JUNK)

    post()


UNREADABLE, TOO_LARGE = "The form could not be read", "The form is larger than the server accepts"


@pytest.mark.parametrize("body,kind,status,says", [
    # escapes of bytes that are no UTF-8: read (as U+FFFD), then the answers are checked like any others
    (b"title=%ff%fe&activity%3Aanswer=%c0%80", "application/x-www-form-urlencoded", 400, "Select an answer"),
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded", 400, UNREADABLE),  # the body is not UTF-8
    (b'{"csrf": "x"}', "application/json", 415, UNREADABLE),
    (b"--b\r\nContent-Disposition: form-data; name=csrf\r\n\r\nx\r\n--b--", "multipart/form-data; boundary=b", 415,
     UNREADABLE),
    (b"&".join(b"f%d=1" % i for i in range(2_000)), "application/x-www-form-urlencoded", 400, UNREADABLE),
    (b"title=" + b"x" * 2_000_000, "application/x-www-form-urlencoded", 413, TOO_LARGE),
], ids=["undecodable escapes", "not UTF-8", "JSON", "multipart", "2,000 fields", "2 MB"])
def test_bodies_that_are_not_forms_or_too_big_get_a_clear_page(site: Site, visits: dict[str, Visit], body: bytes,
                                                               kind: str, status: int, says: str) -> None:
    visit = visits["applicant A"]
    for path in ("/apply/about", "/apply/involves"):
        data = f"csrf={visit.csrf}&".encode() + body if kind == "application/x-www-form-urlencoded" else body
        got = send(site, visit, path, data, kind)
        assert got.status_code == status, (path, got.status_code)
        assert says in got.text
        tally(JUNK)


@pytest.mark.parametrize("token", ["é", "\u0000", "🙂" * 20, "x" * 5_000, ""])
def test_a_token_with_any_characters_is_refused_with_a_page(site: Site, visits: dict[str, Visit], token: str) -> None:
    visit = visits["applicant A"]
    body = urlencode({"csrf": token, "title": "t"}).encode()
    r = send(site, visit, "/apply/about", body)
    assert r.status_code == 403 and "does not belong to this session" in r.text
    client = site.use(Visit({}))
    client.get("/login")  # the sign-in form's own token, compared the same way
    r = client.post("/login", content=urlencode({"csrf": token, "key": "btk_x_y"}).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403 and "does not belong to this session" in r.text
    tally(JUNK, 2)


PAGES = ["/", "/login", "/apply", "/apply/about", "/apply/involves", "/apply/next", "/apply/check", "/checks",
         "/queue", "/audit"]
QUERY = st.dictionaries(st.one_of(st.sampled_from(["lang", "next", "status", "verdict", "open_norms", "complete",
                                                   "min_age_days", "before", "subject", "action", "return", "done",
                                                   "out"]), st.text(max_size=8)), VALUES, max_size=5)
COOKIE_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=';,"\\'),
                      max_size=60)


def test_junk_in_queries_paths_and_cookies_gets_a_page_never_a_500(site: Site, visits: dict[str, Visit]) -> None:
    from biotoets.api.web.pages import LANG_COOKIE, SESSION_COOKIE

    check = site.check_of_a()

    @PROFILE
    @given(path=st.one_of(st.sampled_from(PAGES + [f"/checks/{check}", f"/checks/{check}/receipt"]),
                          st.text(max_size=40).map(lambda t: "/apply/q/" + quote(t, safe="")),
                          st.text(max_size=40).map(lambda t: "/checks/" + quote(t, safe=""))),
           query=QUERY, who=st.sampled_from(["applicant A", "assessor", None]),
           lang=st.one_of(st.none(), COOKIE_TEXT), session=st.one_of(st.none(), COOKIE_TEXT))
    def visit(path: str, query: dict[str, str], who: str | None, lang: str | None, session: str | None) -> None:
        cookies = dict(visits[who].cookies) if who else {}
        if lang is not None:
            cookies[LANG_COOKIE] = lang
        if session is not None and who is None:
            cookies[SESSION_COOKIE] = session
        client = site.use(Visit(cookies))
        r = client.get(path, params=query, headers={"Accept": "text/html,*/*;q=0.8"})  # as a browser asks
        assert r.status_code in OK, (path, query, r.status_code, r.text[:300])
        if r.status_code not in (303, 307):  # (307: Starlette's redirect from a trailing slash)
            assert r.headers["content-type"].startswith("text/html"), (path, r.status_code, r.text[:200])
            assert "Traceback" not in r.text
        tally(JUNK)

    visit()


def test_an_address_no_page_has_is_a_404_page_for_browsers_and_a_problem_for_api_clients(
        site: Site, visits: dict[str, Visit]) -> None:
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    client = site.use(visits["assessor"])
    page = client.get("/no/such/page", headers=browser)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text and "Review queue" in page.text  # with the signed-in menu
    assert site.use(Visit({})).get("/apply/q/", headers=browser).status_code == 404
    for path, headers in (("/no/such/page", {}), ("/v1/nothing", browser), ("/problems/none", browser)):
        r = client.get(path, headers=headers)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", path


def test_pages_of_a_server_that_has_not_started_say_so_in_both_languages(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'cold.db'}"))
    client = TestClient(app, follow_redirects=False)  # no lifespan: no database, no engine yet
    client.cookies.set("biotoets_session", "s" * 43)  # a signed-in browser: its session must be looked up
    for lang, says in (("en", "Not available just now"), ("nl", "Even niet beschikbaar")):
        r = client.get(f"/apply?lang={lang}")
        assert r.status_code == 503 and r.headers["retry-after"] == "5" and says in r.text
        assert "expired" not in r.text and "verlopen" not in r.text
