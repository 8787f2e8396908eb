"""A walk through the applicant's form in a real browser, page by page, with what it saw recorded.

``Walk`` fills the form the way a person does -- the start page, "about", "what it involves", then one question
per page until "check your answers", then the private result and the separate submit step -- and for each page it
saves a screenshot (``test-artifacts/walk-<name>-<lang>-NN-<page>.png``), runs axe-core on it (no serious or
critical violation) and checks the page is in the walk's language. It asserts what every question page must do
("Back" goes to the page before; the page that says it is the last one is the last one) and keeps the figures
(screens visited, questions asked) for ``test-artifacts/walkthroughs.md``.

Facts are read from the URL (``/apply/q/<fact>``), never from question wording (which changes).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

import httpx
from playwright.sync_api import Page, expect

from biotoets.api.web import form as webform

from ...browser import ARTIFACTS, screenshot_path
from .conftest import Server
from .test_accessibility import AXE, violations

# The two start pages ask these many questions before the first question page (webtext.yaml ``start``).
START_QUESTIONS = (len(webform.texts().start["about"]) + len(webform.texts().start["involves"])
                   + len(webform.texts().start["screening"]))
# Words of the interface that a Dutch page must not show in English (taken from webtext.yaml, not copied).
UI_KEYS = ("back", "continue", "dont_know", "skip_rest", "question_of", "check_title", "check_submit",
           "last_question", "question_may_open", "questions_left", "question_left", "not_enough_information",
           "draft_title", "submit_to_office", "change")
FIGURES = ARTIFACTS / "walkthroughs"
# Before the relevance work, as a new user met it (issue 15 and ../shared/notes/ux/).
BEFORE = "16–17 screens and 22–24 questions per proposal, of which 4–8 were relevant"


@dataclass(frozen=True)
class Proposal:
    name: str
    title: str
    about: dict[str, str]
    involves: dict[str, str]
    screening: dict[str, str]
    answers: dict[str, str]  # per fact: a value, a number, or "list:CN,US" / "none" for lists; absent: I don't know
    irrelevant: tuple[str, ...]  # fact prefixes that must never be asked
    budget: tuple[int, int] = (0, 0)  # at most this many screens and questions (0: not bounded)


@dataclass
class Walk:
    page: Page
    server: Server
    proposal: Proposal
    lang: str
    screens: list[str] = field(default_factory=list)  # page names, in order
    paths: list[str] = field(default_factory=list)  # their URL paths
    asked: list[str] = field(default_factory=list)  # the facts of the question pages
    problems: dict[str, Any] = field(default_factory=dict)  # axe findings, by page
    check_id: str = ""

    @property
    def label(self) -> str:
        return f"walk-{self.proposal.name}-{self.lang}"

    def screen(self, name: str) -> None:
        """One page seen: screenshot, accessibility, language; counted as a screen."""
        self.screens.append(name)
        self.paths.append(urlparse(self.page.url).path)
        self.record(name)

    def record(self, name: str) -> None:
        """A page looked at (a screenshot, axe-core, the language), not counted as a screen of the walk."""
        page = self.page
        page.screenshot(path=str(screenshot_path(f"{self.label}-{len(self.screens):02d}-{name}")), full_page=True)
        assert page.locator("html").get_attribute("lang") == self.lang
        if self.lang == "nl":
            main = page.locator("main").inner_text()
            tx = webform.texts()
            english = [tx.t(k, "en") for k in UI_KEYS if tx.t(k, "en") != tx.t(k, "nl")
                       and re.search(rf"(?<!\w){re.escape(tx.t(k, 'en'))}(?!\w)", main)]
            assert not english, f"English on the Dutch page {page.url}: {english}"
        if AXE.is_file():
            found = violations(page)
            if found:
                self.problems[f"{name} ({page.url})"] = found

    # -- the form ------------------------------------------------------------------------------------
    def start(self) -> None:
        page, p = self.page, self.proposal
        page.goto(f"{self.server.base}/login?lang={self.lang}&next=/apply")
        page.fill("#key", self.server.applicant_key)
        page.click("button[type=submit].button")
        expect(page).to_have_url(re.compile(r"/apply$"))
        self.screen("start")
        page.click("button.start")
        expect(page).to_have_url(re.compile(r"/apply/about$"))
        page.fill("#f-title", p.title)
        for fact, value in p.about.items():  # (the activities are ticked: "activity:item")
            page.check(f"input[name^='{fact}:'][value='{value}']")
        self.screen("about")
        page.click("form[action='/apply/about'] button[type=submit]")
        expect(page).to_have_url(re.compile(r"/apply/involves$"))
        for fact, value in {**p.involves, **p.screening}.items():
            page.check(f"input[name='{fact}:answer'][value='{value}']")
        self.screen("involves")
        page.click("form[action='/apply/involves'] button[type=submit]")

    def questions(self, answers: dict[str, str] | None = None) -> list[str]:
        """Answer each question page until "check your answers"; unlisted facts: "I don't know"."""
        page = self.page
        answers = self.proposal.answers if answers is None else answers
        while "/apply/q/" in page.url:
            fact = unquote(re.split(r"[?#]", page.url.split("/apply/q/")[1])[0])
            assert fact not in self.asked, f"{fact} asked twice"
            assert not fact.startswith(self.proposal.irrelevant), f"{self.label}: irrelevant question {fact}"
            self.asked.append(fact)
            # "Back" goes to the page before this one
            expect(page.locator("a.back")).to_have_attribute("href", self.paths[-1])
            self.screen(f"q-{fact.replace('.', '-')}")
            self.answer(fact, answers.get(fact, webform.UNKNOWN))
            progress = page.locator("#progress").inner_text()
            said_last = webform.texts().t("last_question", self.lang) in progress
            may_open = webform.texts().t("question_may_open", self.lang) in progress
            page.click("form[action^='/apply/q/'] button[type=submit]")
            if said_last:  # a page that says it is the last question is the last one
                expect(page).to_have_url(re.compile(r"/apply/check$"))
            elif "/apply/check" in page.url:  # the last page said so, or that more may follow on some answers
                assert may_open, f"{self.label}: {fact} was the last question but its page said: {progress}"
        expect(page).to_have_url(re.compile(r"/apply/check$"))
        expect(page.locator("a.back")).to_have_attribute("href", self.paths[-1])
        expect(page.locator("#dropped")).to_have_count(0)  # nothing was changed: no answer "was removed"
        self.screen("check-answers")
        return self.asked

    def answer(self, fact: str, value: str) -> None:
        page = self.page
        if value.startswith("list:"):
            page.fill("input[name='codes']", value.removeprefix("list:"))
            page.check("input[name='answer'][value='list']")
        elif value.isdigit():
            page.fill("input[name='number']", value)
            page.check("input[name='answer'][value='number']")
        else:
            page.check(f"input[name='answer'][value='{value}']")

    def result(self) -> dict[str, Any]:
        """See the result: a private draft. Returns the stored check, read through the API."""
        page = self.page
        page.click("form[action='/apply/result'] button")
        expect(page).to_have_url(re.compile(r"/checks/[0-9a-f-]{36}$"))
        expect(page.locator("#private")).to_be_visible()
        self.check_id = page.url.rsplit("/", 1)[1]
        self.screen("result-private")
        check = api(self.server, "GET", f"/v1/checks/{self.check_id}", self.server.applicant_key)
        assert check.status_code == 200, check.text
        stored: dict[str, Any] = check.json()
        assert stored["status"] == "draft"
        verdict = page.locator("#verdict")
        if stored["verdict"].get("determined") is False:  # never a green "Allowed" on facts not known
            expect(verdict).not_to_have_class(re.compile(r"\ballowed\b"))
            expect(verdict).to_contain_text(webform.texts().t("not_enough_information", self.lang))
        return stored

    def submit(self) -> None:
        page = self.page
        page.click("#f-submit")
        expect(page.locator("#submitted")).to_be_visible()
        expect(page.locator("#private")).to_have_count(0)
        self.record("submitted")

    def within_budget(self) -> None:
        """The walk took no more screens and questions than its budget (what it took when the budget was set)."""
        screens, questions = self.proposal.budget
        figures = self.figures()
        assert not screens or figures["screens"] <= screens, (self.label, figures)
        assert not questions or figures["questions"] <= questions, (self.label, figures)

    def figures(self) -> dict[str, Any]:
        return {"proposal": self.proposal.name, "lang": self.lang, "screens": len(self.screens),
                "question_pages": len(self.asked), "questions": START_QUESTIONS + len(self.asked),
                "asked": self.asked}


def api(server: Server, method: str, path: str, key: str) -> httpx.Response:
    return httpx.request(method, f"{server.base}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=60)


def queue_ids(server: Server) -> dict[str, str]:
    """Every check the assessors can list, by id, with its status."""
    out: dict[str, str] = {}
    cursor = ""
    while True:
        r = api(server, "GET", f"/v1/checks?limit=100{cursor}", server.assessor_key)
        assert r.status_code == 200, r.text
        body = r.json()
        out.update({c["id"]: c["status"] for c in body["items"]})
        if not body.get("next_cursor"):
            return out
        cursor = f"&cursor={body['next_cursor']}"


def save_figures(walk: Walk) -> None:
    """Keep one walk's figures and write test-artifacts/walkthroughs.md from every walk's figures so far."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{walk.proposal.name}-{walk.lang}.json").write_text(json.dumps(walk.figures(), indent=1))
    rows = [json.loads(f.read_text()) for f in sorted(FIGURES.glob("*.json"))]
    lines = ["# Walkthroughs of the applicant's form (Chromium, tests/api/web/test_walkthroughs.py)", "",
             f"Screens: the pages from the start page to the private result. Questions: the {START_QUESTIONS} on "
             "the two start pages plus one per question page.", "", f"Before: {BEFORE}.", "",
             "| proposal | language | screens | question pages | questions | facts asked |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['proposal']} | {r['lang']} | {r['screens']} | {r['question_pages']} | {r['questions']} | "
              f"{', '.join(r['asked']) or '—'} |" for r in rows]
    (ARTIFACTS / "walkthroughs.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
