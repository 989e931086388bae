"""Helpers for browser tests and the screenshot script: launching Debian's chromium through
Playwright (no browser download), visiting pages, and checking each page with axe-core.

Every page a test looks at must be checked with axe. `visit`, `submit` and `follow` navigate and
check in one step. Each document a tracked page loads is recorded on its own and marked only when
axe has checked that very document (see `A11yTracker`): `visit`, `submit` and `follow` refuse to go
on from a page that loaded a document nobody checked (one reached by a bare `.click()`, say), and
the page fixtures fail the test at teardown for the same reason, so a journey cannot skip the
accessibility check of a page by moving on to the next one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, Playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Without the background-networking flags chromium tries to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # British English for the browser's own interface, which is what date fields follow (the
    # context's locale sets only navigator.language and Intl): they show and take dd/mm/yyyy.
    # On Linux chromium takes it from LANGUAGE (CHROMIUM_ENV) and needs its en-GB language pack,
    # Debian's chromium-l10n (.ci/run installs it); without either, date fields show mm/dd/yyyy.
    "--lang=en-GB",
]
CHROMIUM_ENV = {"LANGUAGE": "en_GB", "LANG": "en_GB.UTF-8"}

# WCAG 2.0, 2.1 and 2.2 at levels A and AA: the public sector accessibility standard.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# A British browser: dates typed into date fields, and shown in them, are day first.
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "locale": "en-GB",
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env={**os.environ, **CHROMIUM_ENV}
    )


@dataclass
class Load:
    """One document a page loaded, and whether axe has checked it."""

    url: str
    checked: bool = False


@dataclass
class A11yTracker:
    """Every document a page loads, one entry per load event, each marked when axe checks it.

    Only the document on screen can be checked, and it is the page's latest load: checking it
    marks that load and no other, so a document that was shown and then left unchecked stays
    unchecked, whatever is checked after it."""

    loads: list[Load] = field(default_factory=list)

    def loaded(self, url: str) -> None:
        if url != "about:blank":  # a new tab's empty document, before it goes anywhere
            self.loads.append(Load(url))

    def mark_current_checked(self) -> None:
        if self.loads:
            self.loads[-1].checked = True

    def unchecked(self) -> list[str]:
        return [load.url for load in self.loads if not load.checked]


_trackers: dict[int, A11yTracker] = {}


def track(page: Page) -> A11yTracker:
    tracker = A11yTracker()
    _trackers[id(page)] = tracker
    page.on("load", lambda loaded: tracker.loaded(loaded.url))
    return tracker


def untrack(page: Page) -> A11yTracker | None:
    return _trackers.pop(id(page), None)


def _deliver_load_events(page: Page) -> None:
    """Playwright hands events over in order with the replies: after one round trip, every load
    the browser reported before it has reached the tracker."""
    if not page.is_closed():
        page.evaluate("0")


def assert_all_checked(page: Page) -> None:
    """Fail if this page loaded a document that was never checked with axe."""
    tracker = _trackers.get(id(page))
    if tracker is None:
        return
    _deliver_load_events(page)
    unchecked = tracker.unchecked()
    if unchecked:
        raise AccessibilityError(
            "These pages were loaded but never checked with axe; reach them with visit(), submit() "
            f"or follow(), or call axe_check(page) on each: {unchecked}"
        )


class AccessibilityError(AssertionError):
    pass


_axe_source: str | None = None


def _axe() -> str:
    global _axe_source
    if _axe_source is None:
        if not AXE_JS.exists():
            raise FileNotFoundError(f"{AXE_JS} is missing: run `npm install` (or `make install`).")
        _axe_source = AXE_JS.read_text(encoding="utf-8")
    return _axe_source


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) (WCAG 2.2 A/AA) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} [{violation.get('impact')}]: {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:10]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"       {summary[:300]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def axe_check(page: Page) -> None:
    """Run axe-core on the page as it is now; raise with rule, help and selectors on any violation."""
    # The document on screen must have finished loading, so that its load is the latest recorded.
    page.wait_for_load_state("load")
    _deliver_load_events(page)
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy
        # (script-src 'self') does not govern; a <script> tag would be refused.
        page.evaluate(_axe())
    result = page.evaluate(
        """async (tags) => {
            const options = {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']};
            const r = await axe.run(document, options);
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, failureSummary: n.failureSummary}))}));
        }""",
        WCAG_TAGS,
    )
    tracker = _trackers.get(id(page))
    if tracker is not None:
        tracker.mark_current_checked()
    if result:
        raise AccessibilityError(format_violations(page.url, json.loads(json.dumps(result))))
    broken = broken_references(page)
    if broken:
        raise AccessibilityError(
            f"aria-describedby or aria-labelledby names ids that are not on {page.url}, so hints or "
            f"error messages are never read out: {broken}"
        )
    summary = error_summary_problems(page)
    if summary:
        raise AccessibilityError(f"The error summary on {page.url} does not lead to the fields: {summary}")
    unseen = invisible_controls(page)
    if unseen:
        raise AccessibilityError(
            f"Checkboxes or radios on {page.url} are transparent with nothing drawn in their place, so "
            f"nobody can see them, what is chosen or where the focus is: {unseen}"
        )


def broken_references(page: Page) -> list[str]:
    """Controls whose aria-describedby or aria-labelledby names an id the page does not have.

    axe-core only marks these for review (it passes when any one id of the list exists), yet a
    hint or an error message linked by a wrong id is silent for a screen reader user. Django's
    BoundField adds {id}_helptext and {id}_error to a control's aria-describedby whatever the
    template calls them, which is how this went wrong once."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby], [aria-labelledby]')].flatMap(e =>
            ['aria-describedby', 'aria-labelledby'].flatMap(attribute =>
                (e.getAttribute(attribute) || '').split(/\\s+/)
                    .filter(id => id && !document.getElementById(id))
                    .map(id => `${e.tagName.toLowerCase()}#${e.id} ${attribute}="${id}"`)))"""
    )


def error_summary_problems(page: Page) -> list[str]:
    """Links in a GOV.UK error summary that lead nowhere, or that say the same as another link
    leading somewhere else (several "This field is required." links, which only sighted users,
    looking at where each one scrolls to, could tell apart: WCAG 2.4.4 and 3.3.1)."""
    return page.evaluate(
        """() => {
            const links = [...document.querySelectorAll('.govuk-error-summary a')];
            const problems = links
                .filter(a => !document.getElementById(decodeURIComponent(a.hash.slice(1))))
                .map(a => `${a.getAttribute('href')} is on no element ("${a.textContent.trim()}")`);
            const targets = {};
            for (const a of links) {
                const text = a.textContent.trim();
                (targets[text] = targets[text] || new Set()).add(a.hash);
            }
            return problems.concat(Object.entries(targets).filter(([, t]) => t.size > 1)
                .map(([text, t]) => `"${text}" leads to ${[...t].join(', ')}`));
        }"""
    )


def invisible_controls(page: Page) -> list[str]:
    """Checkboxes and radios that nobody can see.

    GOV.UK Frontend makes the browser's own box transparent (govuk-checkboxes__input,
    govuk-radios__input) and draws one on the label instead, which it does only for a
    govuk-checkboxes__label or govuk-radios__label inside govuk-checkboxes or govuk-radios. A
    control with the input class but not the rest of the pattern is there for axe and for screen
    readers but invisible on screen, and so is its focus (WCAG 1.4.11, 2.4.7)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input[type=checkbox], input[type=radio]')]
            .filter(e => getComputedStyle(e).opacity === '0')
            .filter(e => {
                const drawn = [...(e.labels || [])].some(l =>
                    l.matches('.govuk-checkboxes__label, .govuk-radios__label')
                    && getComputedStyle(l, '::before').borderStyle !== 'none');
                return !(drawn && e.closest('.govuk-checkboxes, .govuk-radios'));
            })
            .map(e => `input#${e.id}[name="${e.name}"]`)"""
    )


def visit(page: Page, url: str, *, status: int | None = 200) -> Page:
    """Open a URL (relative to the context's base URL), check the status and run axe. Refused if
    the page is leaving a document that was never checked."""
    assert_all_checked(page)
    response = page.goto(url)
    if status is not None:
        assert response is not None, f"no response for {url}"
        assert response.status == status, f"{url} answered {response.status}, expected {status}"
    axe_check(page)
    return page


def submit(page: Page, button: Locator | str) -> Page:
    """Click a button that submits a form, wait for the next page and run axe on it. Refused if
    the page is leaving a document that was never checked."""
    assert_all_checked(page)
    locator = page.locator(button) if isinstance(button, str) else button
    with page.expect_navigation() as navigation:
        locator.click()
    _no_server_error(navigation.value)
    axe_check(page)
    return page


def _no_server_error(response) -> None:
    # The error page is accessible too, so axe alone would let a crash pass unnoticed.
    if response is not None:
        assert response.status < 500, f"{response.url} answered {response.status}"


def css_loaded(page: Page) -> bool:
    """True when GOV.UK Frontend's styles have been applied (not just linked)."""
    return page.evaluate(
        """() => {
            const sheets = [...document.styleSheets];
            const sheet = sheets.find(s => (s.href || '').includes('/static/build/app.css'));
            if (!sheet || !sheet.cssRules.length) return false;
            const header = document.querySelector('.govuk-header');
            return !!header && getComputedStyle(header).backgroundColor !== 'rgba(0, 0, 0, 0)';
        }"""
    )


def sign_in_with_form(page: Page, username: str, password: str) -> Page:
    """Sign in through the sign-in page, as a person does; both pages are checked with axe."""
    visit(page, "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    return submit(page, page.get_by_role("button", name="Sign in"))


def follow(page: Page, link: Locator | str) -> Page:
    """Click a link, wait for the page it opens and run axe on it (as `submit` does)."""
    return submit(page, link)


def tab_to(page: Page, text: str, *, limit: int = 100) -> dict:
    """Press Tab until a link or button with this text has the focus (and fail if it never does)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["text"] == text:
            return now
    raise AssertionError(f"Tab never reached {text!r}")


# --- The keyboard alone -------------------------------------------------------------------------


def focused(page: Page) -> dict:
    """What has the keyboard focus: its tag, type, name, id and text."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            return {tag: e.tagName, type: e.type || '', name: e.name || '', id: e.id,
                    text: (e.textContent || '').trim()};
        }"""
    )


def chosen(page: Page) -> dict[str, str]:
    """The radio buttons chosen on the page, as {question code: value}."""
    return page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('input:checked')].map(i => [i.name, i.value]))"
    )


# GOV.UK Frontend's focus colour, used by every focus indicator.
FOCUS_YELLOW = "rgb(255, 221, 0)"


def focus_is_visible(page: Page) -> bool:
    """WCAG 2.4.7: the focused control shows GOV.UK's yellow focus indicator. A radio's is drawn on
    its label's circle (the input itself is transparent), a text box's on its outline."""
    return page.evaluate(
        """(yellow) => {
            const e = document.activeElement;
            const styles = e.type === 'radio'
                ? [getComputedStyle(e.labels[0], '::before')]
                : [getComputedStyle(e)];
            return styles.some(s => (s.boxShadow + ' ' + s.outlineColor).includes(yellow));
        }""",
        FOCUS_YELLOW,
    )


def answer_with_keyboard(
    page: Page, choices: dict[str, str], texts: dict[str, str], button: str
) -> list[str]:
    """Complete a form with Tab, arrow keys, Space, typing and Enter only, as someone who cannot
    use a mouse does: Tab into each radio group, choose with Space (the first option) or the down
    arrow, type into text boxes, and press Enter on the button. Returns the groups and boxes in the
    order the keyboard reached them."""
    assert_all_checked(page)
    reached: list[str] = []
    for _ in range(500):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["tag"] == "BUTTON" and now["text"] == button:
            with page.expect_navigation() as navigation:
                page.keyboard.press("Enter")
            _no_server_error(navigation.value)
            axe_check(page)
            return reached
        name = now["name"]
        if now["type"] == "radio" and name in choices:
            reached.append(name)
            assert focus_is_visible(page), f"no visible focus on {name}"
            values = page.evaluate(f"[...document.getElementsByName({name!r})].map(r => r.value)")
            # Tab lands on the first radio of a group with nothing chosen.
            assert now["id"] == page.locator(f'input[name="{name}"]').first.get_attribute("id")
            index = values.index(choices[name])
            if index == 0:
                page.keyboard.press("Space")
            for _ in range(index):
                page.keyboard.press("ArrowDown")
            assert page.locator(f'input[name="{name}"]:checked').get_attribute("value") == choices[name]
        elif now["tag"] == "TEXTAREA" and name in texts:
            reached.append(name)
            assert focus_is_visible(page), f"no visible focus on {name}"
            page.keyboard.type(texts[name])
    raise AssertionError(f"Tab never reached the {button!r} button; it reached {reached}")
