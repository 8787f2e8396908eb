"""Who may open which web page: every page route x every kind of visitor, with the answer each must get.

The API has its own table (tests/api/test_authz_matrix.py); this one covers the HTML pages, which sign in with a
server-side session instead of a key. Visitors: signed out, applicant A (who owns the check used), applicant B,
an assessor, an admin, a session whose key was revoked after signing in, and a forged session cookie. Every
visitor gets a fresh session for every route, so signing out or submitting a form cannot leak into the next row.
The table must name every page route of the app, and together with the API table and the documentation routes
every route the app has, so a new page fails here until someone decides who may open it. Every form post also
needs the session's token: an allowed visitor with a wrong one is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update
from starlette.routing import Mount, Route

from biotoets.api.documents import answers as ans
from biotoets.api.http.app import create_app
from biotoets.api.settings import Settings
from biotoets.api.store import db as dbm
from biotoets.api.store import keys as auth
from biotoets.api.web.pages import SESSION_COOKIE
from tests.api.helpers import GERMLINE
from tests.api.http.test_authz_matrix import MATRIX as API_MATRIX

VISITORS = ("signed out", "applicant A", "applicant B", "assessor", "admin", "revoked", "forged")
LOGIN = "->/login?next="  # a 303 to the sign-in page, to come back afterwards
DOC_ROUTES = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/static"),
              ("GET", "/docs-assets")}


def expect(a: Any, b: Any, assessor: Any, admin: Any, nobody: Any = LOGIN) -> dict[str, Any]:
    """Answers per visitor; without a valid session every page sends the visitor to sign in."""
    return dict(zip(VISITORS, (nobody, a, b, assessor, admin, nobody, nobody), strict=True))


def same(answer: Any) -> dict[str, Any]:
    return dict.fromkeys(VISITORS, answer)


@dataclass
class Visit:
    """A visitor's session: its cookies and the form token of its pages."""

    cookies: dict[str, str]
    csrf: str = "none"


@dataclass
class Site:
    client: TestClient
    db: dbm.Database
    keys: dict[str, str]
    checks: list[str] = field(default_factory=list)

    def use(self, visit: Visit) -> TestClient:
        self.client.cookies.clear()
        for name, value in visit.cookies.items():
            self.client.cookies.set(name, value)
        return self.client

    def sign_in(self, key: str) -> Visit:
        c = self.client
        c.cookies.clear()
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
        assert token
        r = c.post("/login", data={"csrf": token.group(1), "key": key})
        assert r.status_code == 303, r.text
        visit = Visit(dict(c.cookies.items()))
        page = c.get(c.get("/").headers["location"])  # a signed-in page: its sign-out form carries the token
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text[:500]
        visit.csrf = found.group(1)
        return visit

    def visit(self, visitor: str) -> Visit:
        if visitor == "signed out":
            return Visit({})
        if visitor == "forged":
            return Visit({SESSION_COOKIE: "f" * 43}, csrf="f" * 43)
        if visitor == "revoked":
            made = auth.create_key(self.db, "applicant", "revoked after signing in")
            visit = self.sign_in(made.key)
            assert auth.revoke_key(self.db, made.principal.key_id)
            return visit
        return self.sign_in(self.keys[visitor])

    def draft_of_a(self) -> str:
        """A new check of applicant A that is still their private draft (as the web form leaves it)."""
        check_id = self.check_of_a()
        with self.db.write() as conn:
            conn.execute(update(dbm.Check).where(dbm.Check.id == check_id).values(status="draft"))
        return check_id

    def check_of_a(self, *, information_requested: bool = False) -> str:
        """A new check of applicant A, sent back by the assessor with a question if asked."""
        bearer = {"Authorization": f"Bearer {self.keys['applicant A']}"}
        self.client.cookies.clear()
        r = self.client.post("/v1/checks", json=GERMLINE, headers=bearer)
        assert r.status_code == 201, r.text
        check_id = str(r.json()["id"])
        if information_requested:
            r = self.client.post(f"/v1/checks/{check_id}/reviews",
                                 headers={"Authorization": f"Bearer {self.keys['assessor']}"},
                                 json={"decision": "request_information", "reason": "Is a pregnancy intended?",
                                       "questions": ["human.pregnancy_intended"]})
            assert r.status_code == 201, r.text
        return check_id


# A row: make the request as this visitor -> (method, path, form data); the visitor's session is in use.
Request = Callable[[Site, Visit], tuple[str, str, dict[str, str] | None]]


def get(path: str) -> Request:
    return lambda site, v: ("GET", path, None)


def post(path: str, **data: str) -> Request:
    return lambda site, v: ("POST", path, {"csrf": v.csrf, **data})


def with_draft(request: Request) -> Request:
    """Start the visitor's form first (only an applicant can; for anyone else this is refused and changes nothing)."""
    def make(site: Site, v: Visit) -> tuple[str, str, dict[str, str] | None]:
        site.use(v).post("/apply", data={"csrf": v.csrf})
        return request(site, v)
    return make


def on_check(method: str, path: str, information_requested: bool = False, draft: bool = False,
             **data: str) -> Request:
    def make(site: Site, v: Visit) -> tuple[str, str, dict[str, str] | None]:
        check_id = site.draft_of_a() if draft else site.check_of_a(information_requested=information_requested)
        site.checks.append(check_id)
        return method, path.format(check_id=check_id), ({"csrf": v.csrf, **data} if method == "POST" else None)
    return make


def fact() -> str:
    """A fact the form asks about directly."""
    return next(f for f in sorted(ans.facts()) if ans.answerable(f))


APPLICANTS_ONLY = expect(200, 200, 403, 403)
MATRIX: dict[tuple[str, str], tuple[Request, dict[str, Any]]] = {
    ("GET", "/"): (get("/"), expect("->/apply", "->/apply", "->/queue", "->/audit", nobody="->/login")),
    ("GET", "/login"): (get("/login"), same(200)),
    # (no sign-in token of the form: refused whoever asks -- signing in itself is tested in test_pages.py)
    ("POST", "/login"): (lambda site, v: ("POST", "/login", {"csrf": "made-up", "key": "btk_x_" + "y" * 30}),
                         same(403)),
    ("POST", "/logout"): (post("/logout"), expect("->/login?out=1", "->/login?out=1", "->/login?out=1",
                                                  "->/login?out=1")),
    ("GET", "/apply"): (get("/apply"), APPLICANTS_ONLY),
    ("POST", "/apply"): (post("/apply"), expect("->/apply/about", "->/apply/about", 403, 403)),
    ("GET", "/apply/about"): (with_draft(get("/apply/about")), APPLICANTS_ONLY),
    ("POST", "/apply/about"): (with_draft(post("/apply/about")), expect(400, 400, 403, 403)),
    ("GET", "/apply/involves"): (with_draft(get("/apply/involves")), APPLICANTS_ONLY),
    ("POST", "/apply/involves"): (with_draft(post("/apply/involves")), expect(400, 400, 403, 403)),
    ("GET", "/apply/next"): (with_draft(get("/apply/next")), expect("->/apply/q/", "->/apply/q/", 403, 403)),
    ("GET", "/apply/q/{fact}"): (lambda s, v: with_draft(get(f"/apply/q/{quote(fact())}"))(s, v), APPLICANTS_ONLY),
    ("POST", "/apply/q/{fact}"): (lambda s, v: with_draft(post(f"/apply/q/{quote(fact())}"))(s, v),
                                  expect(400, 400, 403, 403)),
    ("POST", "/apply/rest-unknown"): (with_draft(post("/apply/rest-unknown")),
                                      expect("->/apply/check", "->/apply/check", 403, 403)),
    ("GET", "/apply/check"): (with_draft(get("/apply/check")), APPLICANTS_ONLY),
    ("POST", "/apply/result"): (with_draft(post("/apply/result")), expect("->/checks/", "->/checks/", 403, 403)),
    ("GET", "/checks"): (get("/checks"), expect(200, 200, "->/queue", 403)),
    ("GET", "/checks/{check_id}"): (on_check("GET", "/checks/{check_id}"), expect(200, 404, 200, 403)),
    ("POST", "/checks/{check_id}/review"): (on_check("POST", "/checks/{check_id}/review", decision="start_review"),
                                            expect(403, 403, "->/checks/", 403)),
    ("POST", "/checks/{check_id}/answers"): (
        on_check("POST", "/checks/{check_id}/answers", information_requested=True,
                 **{"human.pregnancy_intended:answer": "no"}), expect("->/checks/", 404, 403, 403)),
    # a draft: its owner's alone, until they submit it -- an assessor is told it does not exist
    ("POST", "/checks/{check_id}/submit"): (on_check("POST", "/checks/{check_id}/submit", draft=True),
                                            expect("->/checks/", 404, 403, 403)),
    ("POST", "/checks/{check_id}/edit"): (on_check("POST", "/checks/{check_id}/edit", draft=True),
                                          expect("->/apply/check", 404, 403, 403)),
    ("POST", "/checks/{check_id}/replay"): (on_check("POST", "/checks/{check_id}/replay"),
                                            expect(200, 404, 200, 403)),
    ("GET", "/checks/{check_id}/receipt"): (on_check("GET", "/checks/{check_id}/receipt"),
                                            expect(200, 404, 200, 403)),
    ("GET", "/checks/{check_id}/receipt.pdf"): (on_check("GET", "/checks/{check_id}/receipt.pdf"),
                                                expect(200, 404, 200, 403)),
    ("GET", "/queue"): (get("/queue"), expect(403, 403, 200, 403)),
    ("GET", "/audit"): (get("/audit"), expect(200, 200, 200, 200)),  # an applicant: their own checks only
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('page-matrix') / 'pages.db'}"
    settings = Settings(database_url=url, key_cache_seconds=0, auth_failure_limit=0)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        db = dbm.Database(url)
        try:
            keys = {"applicant A": auth.create_key(db, "applicant", "Lab A").key,
                    "applicant B": auth.create_key(db, "applicant", "Lab B").key,
                    "assessor": auth.create_key(db, "assessor", "Permit office").key,
                    "admin": auth.create_key(db, "admin", "ops").key}
            yield Site(client, db, keys)
        finally:
            db.dispose()


def answer(r: Any) -> Any:
    """A status, or '->' and the target of a redirect."""
    if r.status_code == 303:
        return "->" + r.headers["location"]
    return r.status_code


def matches(got: Any, wanted: Any) -> bool:
    if isinstance(wanted, str):  # a redirect: the target must start with the one expected
        return isinstance(got, str) and got.startswith(wanted)
    return bool(got == wanted)


def app_routes(routes: Any) -> Any:
    """Every route of the app, also those of the routers it includes (kept as included routers by FastAPI)."""
    for r in routes:
        included = getattr(r, "original_router", None)
        if included is not None:
            yield from app_routes(included.routes)
        else:
            yield r


def test_the_table_names_every_page_and_every_route_is_in_one_table(site: Site) -> None:
    routes = list(app_routes(site.client.app.routes))  # type: ignore[attr-defined]
    pages = {(m, r.path) for r in routes if isinstance(r, APIRoute) and not r.include_in_schema
             for m in r.methods}
    assert pages - set(MATRIX) == set(), "pages nobody has decided who may open: add them to MATRIX"
    assert set(MATRIX) - pages == set(), "MATRIX names pages the app no longer has"
    every = set()
    for r in routes:
        if isinstance(r, Mount):
            every.add(("GET", r.path))
        elif isinstance(r, Route):
            every |= {(m, r.path) for m in (r.methods or ()) if m != "HEAD"}
    assert every - set(MATRIX) - set(API_MATRIX) - DOC_ROUTES == set(), "a route in neither table"


@pytest.mark.parametrize("route", list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_every_visitor_gets_what_its_role_allows(site: Site, route: tuple[str, str]) -> None:
    make, expected = MATRIX[route]
    got = {}
    for visitor in VISITORS:
        visit = site.visit(visitor)
        method, path, data = make(site, visit)
        r = site.use(visit).request(method, path, data=data)
        got[visitor] = answer(r)
        if r.status_code == 403 and method == "GET":
            assert "Decision support, not legal advice" in r.text  # a page, not a bare error
        if r.status_code >= 400 and visitor not in ("applicant A", "assessor"):
            assert GERMLINE["title"] not in r.text, visitor  # nothing of someone else's check
    wrong = {v: (got[v], expected[v]) for v in VISITORS if not matches(got[v], expected[v])}
    assert not wrong, f"got vs expected: {wrong}"


@pytest.mark.parametrize("route", [r for r in MATRIX if r[0] == "POST" and r != ("POST", "/login")],
                         ids=[p for m, p in MATRIX if m == "POST" and p != "/login"])
def test_every_form_post_needs_the_token_of_the_session(site: Site, route: tuple[str, str]) -> None:
    make, expected = MATRIX[route]
    allowed = [v for v in VISITORS if not matches(expected[v], LOGIN) and expected[v] != 403]
    assert allowed
    for visitor in allowed:
        visit = site.visit(visitor)
        method, path, data = make(site, visit)
        assert data is not None
        r = site.use(visit).request(method, path, data={**data, "csrf": "not-the-token"})
        assert r.status_code == 403, (visitor, r.status_code)
        assert "expired" in r.text


def test_a_signed_in_visitor_of_one_kind_never_sees_a_check_of_another_applicant(site: Site) -> None:
    check_id = site.check_of_a()
    visit = site.visit("applicant B")
    client = site.use(visit)
    assert check_id not in client.get("/checks").text
    for path in (f"/checks/{check_id}", f"/checks/{check_id}/receipt", f"/checks/{check_id}/receipt.pdf"):
        r = client.get(path)
        assert r.status_code == 404 and GERMLINE["title"] not in r.text
    mine = site.use(site.visit("applicant A")).get("/checks")
    assert check_id in mine.text
