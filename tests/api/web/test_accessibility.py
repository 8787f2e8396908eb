"""Accessibility, checked by axe-core in the browser: every page an applicant and an assessor meet, at a desktop
width (1280 px) and a phone width (390 px), has no serious or critical violation, and none scrolls sideways.

axe-core comes from its npm package, pinned in the Makefile (``make axe`` puts it under build/axe); Playwright
injects it into each page (the pages' Content-Security-Policy allows no inline script, so the test context
bypasses it for the injected file only). Screenshots of each page at each width go to test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from ...browser import screenshot_path
from .conftest import Server
from .test_browser import ANIMALS, sign_in

AXE = Path(__file__).resolve().parents[3] / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}

RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(RUN)
    return [v for v in found if v["impact"] in ("serious", "critical")]


# Elements wider than the window: the page scrolls sideways (unusable on a phone). The innermost offenders.
OVERFLOW = """() => {
  const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= w) return [];
  return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1
      && ![...e.children].some(c => c.getBoundingClientRect().right > w + 1))
    .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ': '
      + (e.textContent || '').trim().slice(0, 40));
}"""


def audit(page: Page, name: str, width: str, problems: dict[str, Any]) -> None:
    page.screenshot(path=str(screenshot_path(f"axe-{width}-{name}")), full_page=True)
    found = violations(page)
    if found:
        problems[f"{width} {name} ({page.url})"] = found
    wide = page.evaluate(OVERFLOW)
    if wide:
        problems[f"{width} {name} ({page.url}) scrolls sideways"] = wide


@pytest.mark.parametrize("width", list(WIDTHS))
def test_no_page_has_a_serious_or_critical_accessibility_violation(browser: Browser, server: Server,
                                                                    width: str) -> None:
    assert AXE.is_file(), "axe-core is missing: run 'make axe' (the Makefile fetches its npm package)"
    w, h = WIDTHS[width]
    problems: dict[str, Any] = {}
    submitted = server.post_check(ANIMALS)
    for lang in ("en", "nl"):
        context = browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True)
        try:
            page = context.new_page()
            page.goto(f"{server.base}/login?lang={lang}")
            audit(page, f"{lang}-login", width, problems)
            sign_in(page, server, server.other_applicant_key, then="/apply", lang=lang)
            audit(page, f"{lang}-apply-start", width, problems)
            page.click("button.start")
            audit(page, f"{lang}-apply-about", width, problems)
            page.goto(f"{server.base}/apply/involves")
            audit(page, f"{lang}-apply-involves", width, problems)
            page.goto(f"{server.base}/apply/q/human.embryo")
            audit(page, f"{lang}-apply-question", width, problems)
            page.goto(f"{server.base}/apply/check")
            audit(page, f"{lang}-apply-check", width, problems)
            page.click("form[action='/apply/result'] button")
            audit(page, f"{lang}-result-draft", width, problems)
            page.click("#f-submit")
            page.wait_for_selector("#submitted")
            audit(page, f"{lang}-result-submitted", width, problems)
            page.goto(page.url + "/receipt")
            audit(page, f"{lang}-receipt", width, problems)
            page.goto(f"{server.base}/checks")
            audit(page, f"{lang}-my-checks", width, problems)
            page.goto(f"{server.base}/apply/no-such-page")  # the error pages (signed in: with the menu)
            audit(page, f"{lang}-error-404", width, problems)
            page.goto(f"{server.base}/apply/result")  # a form's address opened as a page
            audit(page, f"{lang}-error-405", width, problems)
        finally:
            context.close()
        context = browser.new_context(viewport={"width": w, "height": h}, bypass_csp=True)
        try:
            page = context.new_page()
            sign_in(page, server, server.assessor_key, then="/queue", lang=lang)
            audit(page, f"{lang}-queue", width, problems)
            page.goto(f"{server.base}/checks/{submitted['id']}")
            audit(page, f"{lang}-review", width, problems)
            page.click(f"form[action='/checks/{submitted['id']}/replay'] button")
            page.wait_for_url(f"**/checks/{submitted['id']}/replay")
            audit(page, f"{lang}-replay", width, problems)
            page.goto(f"{server.base}/audit")
            audit(page, f"{lang}-audit", width, problems)
        finally:
            context.close()
    assert not problems, problems


def test_the_check_finds_a_violation_when_there_is_one(browser: Browser) -> None:
    """The check itself can fail: an image without a text alternative is a critical violation."""
    context = browser.new_context(bypass_csp=True)
    try:
        page = context.new_page()
        page.set_content('<html lang="en"><title>t</title><main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">'
                         '</main></html>')
        assert [v["id"] for v in violations(page)] == ["image-alt"]
    finally:
        context.close()


def luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else float(((v + 0.055) / 1.055) ** 2.4)
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# The focused element's ring: its outline, the halo (box-shadow) between it and the element, and the colour of
# what lies behind (the nearest ancestor with a background).
RING = """(selector) => { const e = document.querySelector(selector); e.focus();
  const s = getComputedStyle(document.activeElement);
  let b = e.parentElement, bg = 'rgba(0, 0, 0, 0)';
  while (b && (bg = getComputedStyle(b).backgroundColor) === 'rgba(0, 0, 0, 0)') b = b.parentElement;
  return {active: document.activeElement === e, outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
          color: s.outlineColor, shadow: s.boxShadow, behind: bg}; }"""


def rgb(text: str) -> tuple[int, ...]:
    found = re.search(r"rgba?\((\d+), (\d+), (\d+)", text)
    assert found, text
    return tuple(int(x) for x in found.groups())


@pytest.mark.parametrize("selector", ["a.brand", ".masthead nav a", "main a", "main button[type=submit]",
                                      "main input#key"])
def test_every_kind_of_focusable_element_has_a_ring_with_a_contrast_of_at_least_3_to_1_against_its_background(
        browser: Browser, server: Server, selector: str) -> None:
    """Links in the dark header, links, buttons and fields in the page: a solid ring at least 2 px wide, and a part
    of it (the outline or the yellow halo) at 3:1 or more against what is behind the element."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{server.base}/no-such-page")  # an error page: header, a link in the page
        if selector.startswith("main button") or selector.startswith("main input"):
            page.goto(f"{server.base}/login")
        ring = page.evaluate(RING, selector)
        assert ring["active"] and ring["outline"] == "solid" and ring["width"] >= 2, ring
        behind = rgb(ring["behind"])
        best = max(contrast(rgb(ring["color"]), behind),
                   contrast(rgb(ring["shadow"]), behind) if ring["shadow"] != "none" else 0)
        assert best >= 3, ring
    finally:
        context.close()


def test_the_focus_ring_is_visible_with_a_contrast_of_at_least_3_to_1(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{server.base}/login")
        page.focus("#key")
        style = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor,
                    getComputedStyle(document.querySelector('main')).backgroundColor]; }""")
        kind, width, color, _ = style
        assert kind == "solid" and width >= 2
        ring = tuple(int(x) for x in color[color.index("(") + 1:-1].split(",")[:3])
        assert contrast(ring, (255, 255, 255)) >= 3, style  # against the page's white
    finally:
        context.close()
