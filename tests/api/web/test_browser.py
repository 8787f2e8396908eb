"""The web pages in a real browser: Debian's Chromium, driven by Playwright, against ``biotoets serve``.

An applicant fills the form for a prohibited and a conditional case and reads the grounds; an assessor
overrides a verdict with a reason and finds it in the audit log; an assessor asks for information and the
applicant answers. Every page visited is saved as a screenshot under test-artifacts/ (web-*.png).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from ...browser import ARTIFACTS, screenshot_path
from .conftest import Server

ANIMALS: dict[str, Any] = {
    "title": "Gene-edited mice for a heart-disease model",
    "activity": "basic_research", "purpose": "biomedical_research", "technique": "crispr",
    "human": {"embryo": False, "gametes": False, "somatic_cells": False, "subjects": False},
    "animal": {"involved": True, "vertebrate": True, "project_licence": "not_applied"},
    "plant": {"involved": False}, "gmo": {"use": "contained", "permit": "applied"},
    "partners": [], "export": {"destination_countries": [], "intangible_transfer": False},
    "transplant": {"source": "none"}, "medicine": {"medicinal_product": False},
}


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(screenshot_path(f"web-{name}")), full_page=True)


def sign_in(page: Page, server: Server, key: str, then: str = "/", lang: str = "en") -> None:
    page.goto(f"{server.base}/login?lang={lang}&next={then}")
    page.fill("#key", key)
    page.click("button[type=submit].button")


def choose(page: Page, name: str, value: str) -> None:
    page.check(f"input[name='{name}'][value='{value}']")


def fill_start(page: Page, title: str, about: dict[str, str], involves: dict[str, str],
               screening: dict[str, str], shots: str | None = None) -> None:
    """The first two pages of the applicant's form."""
    page.click("button.start")
    expect(page).to_have_url(re.compile(r"/apply/about$"))
    page.fill("#f-title", title)
    for fact, value in about.items():  # (the activities are ticked: "activity:item")
        page.check(f"input[name^='{fact}:'][value='{value}']")
    if shots:
        shot(page, f"{shots}-2-about")
    page.click("form[action='/apply/about'] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/apply/involves$"))
    for fact, value in {**involves, **screening}.items():
        choose(page, f"{fact}:answer", value)
    if shots:
        shot(page, f"{shots}-3-involves")
    page.click("form[action='/apply/involves'] button[type=submit]")


def answer_questions(page: Page, answers: dict[str, str], shots: str | None = None) -> list[str]:
    """Answer each question the engine asks (unlisted facts: I don't know) until the summary; return the facts."""
    asked = []
    while "/apply/q/" in page.url:
        fact = re.split(r"[?#]", page.url.split("/apply/q/")[1])[0]
        assert fact not in asked, f"{fact} asked twice"
        asked.append(fact)
        if shots and len(asked) == 1:
            shot(page, f"{shots}-4-question")
        value = answers.get(fact, "unknown")
        if value.isdigit():
            page.fill("input[name='number']", value)
            choose(page, "answer", "number")
        else:
            choose(page, "answer", value)
        said_last = re.search(r"the last question|de laatste vraag", page.locator("#progress").inner_text())
        page.click("form[action^='/apply/q/'] button[type=submit]")
        if said_last:  # a page that says it is the last one is the last one
            expect(page).to_have_url(re.compile(r"/apply/check$"))
    expect(page).to_have_url(re.compile(r"/apply/check$"))
    return asked


def test_an_applicant_finds_a_reproductive_germline_proposal_prohibited_and_reads_why(page: Page,
                                                                                      server: Server) -> None:
    sign_in(page, server, server.applicant_key, then="/apply")
    expect(page.locator("h1")).to_have_text("Check your biotechnology proposal")
    expect(page.locator(".advice")).to_contain_text("Decision support, not legal advice")
    shot(page, "applicant-1-start")
    fill_start(page, "Edited embryos transferred to establish a pregnancy",
               {"activity": "basic_research", "technique": "crispr"},
               {"human.embryo": "yes", "human.gametes": "no", "human.somatic_cells": "no", "human.subjects": "no",
                "animal.involved": "no", "plant.involved": "no", "gmo.use": "none",
                "medicine.medicinal_product": "no", "transplant.source": "none"},
               {"partners": "no", "abroad": "no"}, shots="applicant")

    # Only the question that can still change the verdict is asked; leaving it empty is an error that links to it.
    expect(page).to_have_url(re.compile(r"/apply/q/human.pregnancy_intended$"))
    expect(page.locator("legend h1")).to_contain_text("Will a pregnancy be established")  # the page's heading
    expect(page.locator("a.back")).to_have_attribute("href", "/apply/involves")  # back: the page before
    expect(page.locator("label[for='f-human-pregnancy-intended-unknown']")).to_have_text("I don't know")
    page.click("form[action^='/apply/q/'] button[type=submit]")
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Select an answer, or 'I don't know'")
    shot(page, "applicant-4-question-error")
    summary.locator("a").click()
    assert page.evaluate("document.activeElement.id") == "f-human-pregnancy-intended"
    page.locator("summary", has_text="Why we ask").click()
    expect(page.locator("details .inset")).to_contain_text("Prohibited")
    shot(page, "applicant-4-question")

    asked = answer_questions(page, {"human.pregnancy_intended": "yes"})
    assert asked == ["human.pregnancy_intended"]
    expect(page.locator("#answer-f-human-pregnancy-intended")).to_contain_text("Pregnancy intendedYes")
    shot(page, "applicant-5-check-answers")
    page.click("form[action='/apply/result'] button")

    expect(page).to_have_url(re.compile(r"/checks/[0-9a-f-]{36}$"))
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("Prohibited")
    expect(verdict).to_have_class(re.compile("prohibited"))
    grounds = page.locator("article.ground")
    expect(grounds.first).to_contain_text("Embryowet")
    expect(grounds.first).to_contain_text("art. 24 onder g")
    link = grounds.first.locator("a[href*='wetten.overheid.nl']").first
    assert link.get_attribute("href", timeout=5000).startswith("https://wetten.overheid.nl/BWBR0013797")
    # the result is private first: nothing went to the permit office yet
    expect(page.locator("#private")).to_contain_text("Only you can see this result")
    expect(page.locator("main")).not_to_contain_text("Waiting for review.")
    expect(page.locator(".rule-id")).to_have_count(0)  # no rule ids for applicants
    shot(page, "applicant-6-result-prohibited")
    page.click("#f-submit")
    expect(page.locator("#submitted")).to_contain_text("Your check has been submitted")
    expect(page.locator("main")).to_contain_text("Waiting for review.")
    expect(page.locator("#private")).to_have_count(0)
    shot(page, "applicant-7-submitted")


def test_an_applicant_gets_a_conditional_verdict_in_dutch_with_a_checklist_and_a_receipt(page: Page,
                                                                                         server: Server) -> None:
    sign_in(page, server, server.other_applicant_key, then="/apply", lang="nl")
    expect(page.locator("h1")).to_have_text("Toets uw biotechnologisch voorstel")
    fill_start(page, "Genetisch gewijzigde muizen als ziektemodel",
               {"activity": "basic_research", "technique": "crispr"},
               {"human.embryo": "no", "human.gametes": "no", "human.somatic_cells": "no", "human.subjects": "no",
                "animal.involved": "yes", "plant.involved": "no", "gmo.use": "contained",
                "medicine.medicinal_product": "no", "transplant.source": "none"},
               {"partners": "no", "abroad": "no"}, shots="applicant-nl")
    asked = answer_questions(page, {"purpose": "biomedical_research", "animal.vertebrate": "yes",
                                    "animal.cephalopod": "no", "animal.early_stage_only": "no",
                                    "animal.project_licence": "not_applied",
                                    "gmo.permit": "applied", "gmo.containment_level": "2"}, shots="applicant-nl")
    assert "animal.project_licence" in asked and "gmo.permit" in asked
    assert "human.pregnancy_intended" not in asked  # no embryos: never asked
    shot(page, "applicant-nl-5-check-answers")
    page.click("form[action='/apply/result'] button")

    expect(page.locator("#verdict")).to_contain_text("Onder voorwaarden")
    checklist = page.locator("#conditions + ul.checklist li")
    expect(checklist.first).to_contain_text("Projectvergunning voor dierproeven")
    expect(checklist.first).to_contain_text("Bij: Centrale Commissie Dierproeven (CCD)")
    expect(checklist.first).to_contain_text("Grondslag: Wet op de dierproeven")
    expect(page.locator(".advice")).to_contain_text("Beslissingsondersteuning, geen juridisch advies")
    shot(page, "applicant-nl-6-result-conditional")

    page.click("a[href$='/receipt']")
    expect(page.locator("h1")).to_contain_text("Ontvangstbewijs BT-")
    expect(page.locator(".receipt")).to_contain_text("Hash van de regelset")
    expect(page.locator("button[data-print]")).to_be_visible()  # the print button is progressive enhancement
    shot(page, "applicant-nl-7-receipt")
    page.emulate_media(media="print")
    expect(page.locator("button[data-print]")).to_be_hidden()
    shot(page, "applicant-nl-8-receipt-print")
    pdf = Path(ARTIFACTS) / "web-receipt.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_an_assessor_overrides_a_verdict_with_a_reason_and_the_audit_log_shows_it(page: Page,
                                                                                  server: Server) -> None:
    check = server.post_check({**ANIMALS, "title": "Mouse model for assessor review"})
    assert check["verdict"]["verdict"] == "conditional"
    sign_in(page, server, server.assessor_key)
    expect(page).to_have_url(re.compile(r"/queue$"))
    row = page.locator("#queue tr", has_text="Mouse model for assessor review")
    expect(row).to_contain_text("Conditional")
    expect(row).to_contain_text("Lab A (Leiden)")
    shot(page, "assessor-1-queue")
    page.select_option("#q-verdict", "prohibited")
    page.click("form.filters button")
    expect(page.locator("#queue tr", has_text="Mouse model for assessor review")).to_have_count(0)
    page.select_option("#q-verdict", "conditional")
    page.click("form.filters button")
    page.click(f"a[href='/checks/{check['id']}']")

    # The answers beside the reasoning: grounds with citations, conditions, open norms, the rule trace.
    expect(page.locator("#answers-title")).to_have_text("The applicant's answers")
    expect(page.locator("#verdict")).to_contain_text("Conditional")
    expect(page.locator("ul.checklist")).to_contain_text("Project licence")
    page.locator("#trace summary").click()
    expect(page.locator("#trace table")).to_contain_text("definite")
    shot(page, "assessor-2-check")

    page.click("button:has-text('Take into review')")
    expect(page.locator("#check-status")).to_contain_text("In review")
    choose(page, "decision", "override")
    page.select_option("#f-verdict", "prohibited")
    page.click("form[action$='/review'] button:has-text('Record decision')")
    expect(page.locator(".error-summary")).to_contain_text("An override needs a reason")
    page.locator(".error-summary a").first.click()
    assert page.evaluate("document.activeElement.id") == "f-reason"
    shot(page, "assessor-3-override-error")
    reason = "The mice carry a human transgene bred for release to partner facilities; not a contained project."
    page.fill("#f-reason", reason)
    page.click("form[action$='/review'] button:has-text('Record decision')")
    expect(page.locator("#decision-recorded")).to_be_visible()
    expect(page.locator("#check-status")).to_contain_text("Overridden by assessor")
    expect(page.locator("#review-history")).to_contain_text(reason)
    expect(page.locator("#verdict")).to_contain_text("Conditional")  # the automated verdict is kept
    shot(page, "assessor-4-overridden")

    page.click("a[href^='/audit?subject=']")
    audit = page.locator("#audit tr", has_text="review.overridden")
    expect(audit).to_contain_text(reason)
    expect(audit).to_contain_text("Permit office")
    expect(page.locator("#audit tr", has_text="check.created")).to_have_count(1)
    shot(page, "assessor-5-audit-log")
    verify = server.cli("audit", "verify")
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout + verify.stderr

    # The applicant sees the outcome of the review on their check.
    page.context.clear_cookies()
    sign_in(page, server, server.applicant_key, then=f"/checks/{check['id']}")
    outcome = page.locator("#review-outcome")
    expect(outcome).to_contain_text("The assessor changed the outcome.")
    expect(outcome).to_contain_text("Prohibited")
    expect(outcome).to_contain_text(reason)
    shot(page, "applicant-7-review-outcome")


def test_an_assessor_asks_for_information_and_the_applicant_answers(page: Page, server: Server) -> None:
    incomplete = {k: v for k, v in ANIMALS.items() if k not in ("animal", "gmo")}
    incomplete.update(title="Organoids with an unclear animal component", animal={"involved": True},
                      gmo={"use": "contained"}, transplant={"source": "none"},  # the scope is known: the animal
                      medicine={"medicinal_product": False})  # follow-ups are the questions still open
    check = server.post_check(incomplete, key=server.other_applicant_key)
    assert check["verdict"]["complete"] is False
    sign_in(page, server, server.assessor_key, then=f"/checks/{check['id']}")
    choose(page, "decision", "request_information")
    for box in page.locator("input[name='questions']").all():
        if box.get_attribute("value") not in ("animal.vertebrate", "animal.cephalopod"):
            box.uncheck()
    page.fill("#f-reason", "Please tell us whether the animals are vertebrates or cephalopods.")
    page.click("form[action$='/review'] button:has-text('Record decision')")
    expect(page.locator("#check-status")).to_contain_text("Information requested")

    page.context.clear_cookies()
    sign_in(page, server, server.other_applicant_key, then=f"/checks/{check['id']}")
    form = page.locator("#answers")
    expect(form).to_contain_text("The assessor asks for more information")
    expect(form).to_contain_text("Are the animals vertebrates?")
    shot(page, "applicant-8-information-requested")
    choose(page, "animal.vertebrate:answer", "yes")  # (the licence's status is asked once the design is known)
    choose(page, "animal.cephalopod:answer", "no")
    expect(page.locator("input[name='animal.project_licence:answer']")).to_have_count(0)
    page.fill("#f-message", "Mice; the CCD granted the project licence last month.")
    page.click("#answers button[type=submit]")
    expect(page.locator(".notice.success")).to_contain_text("Your answers were received")
    expect(page.locator("main")).to_contain_text("Submitted")

    page.context.clear_cookies()
    sign_in(page, server, server.assessor_key, then=f"/checks/{check['id']}")
    expect(page.locator("#review-history")).to_contain_text("the CCD granted the project licence")
    expect(page.locator("main")).to_contain_text("Evaluation 2")
    expect(page.locator("#answer-f-animal-vertebrate")).to_contain_text("Yes")
    shot(page, "assessor-6-after-answers")


def test_pages_need_a_session_and_forms_need_the_csrf_token(page: Page, server: Server) -> None:
    page.goto(f"{server.base}/queue")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fqueue$"))
    page.fill("#key", "btk_nope_" + "x" * 30)
    page.click("button[type=submit].button")
    expect(page.locator(".error-summary")).to_contain_text("This key is not valid")
    shot(page, "login-error")
    sign_in(page, server, server.applicant_key, then="/queue")
    expect(page.locator("h1")).to_have_text("No access")  # an applicant may not open the review queue
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["biotoets_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    # A form posted without the session's token changes nothing.
    response = page.request.post(f"{server.base}/apply", form={"csrf": "forged"})
    assert response.status == 403
    page.goto(f"{server.base}/apply")
    page.click("button:has-text('Sign out')")
    expect(page.locator(".notice.success")).to_contain_text("You have signed out.")
    page.goto(f"{server.base}/checks")
    expect(page).to_have_url(re.compile(r"/login"))


def test_the_api_docs_work_without_the_internet_and_try_a_call(page: Page, server: Server) -> None:
    """Swagger UI on /docs loads everything from this server: any request elsewhere is blocked and counted."""
    elsewhere: list[str] = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith(server.base):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    page.goto(f"{server.base}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("biotoets")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 20  # every operation of the OpenAPI document
    # Try GET /v1/rules/{rule_id} from the page: the answer comes back into it.
    block = page.locator(".opblock", has=page.locator(".opblock-summary-path", has_text="/v1/rules/{rule_id}"))
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    block.locator("input[placeholder='rule_id']").fill("xeno.ban")
    block.locator("button.execute").click()
    expect(block.locator(".live-responses-table tbody td.response-col_status").first).to_have_text("200")
    expect(block.locator(".responses-wrapper .highlight-code").first).to_contain_text("xeno.ban")
    shot(page, "api-docs")
    assert elsewhere == [], f"the docs page reached out to {elsewhere}"
