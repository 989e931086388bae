"""Helpers for browser tests and the screenshot script: launching Debian's chromium through
Playwright (no browser download), visiting pages, and checking each page with axe-core.

Every page a test looks at must be checked with axe. `visit` and `submit` navigate and check in
one step; a page fixture that loaded a document nobody checked fails the test at teardown (see
`A11yTracker`), so a new journey cannot silently skip the accessibility check.
"""

from __future__ import annotations

import json
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
]

# WCAG 2.0, 2.1 and 2.2 at levels A and AA: the public sector accessibility standard.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@dataclass
class A11yTracker:
    """Counts the documents a page loads and how many of them were checked with axe."""

    loaded: list[str] = field(default_factory=list)
    checked: int = 0

    def unchecked(self) -> list[str]:
        return self.loaded[self.checked :]


_trackers: dict[int, A11yTracker] = {}


def track(page: Page) -> A11yTracker:
    tracker = A11yTracker()
    _trackers[id(page)] = tracker
    page.on("load", lambda loaded: tracker.loaded.append(loaded.url))
    return tracker


def untrack(page: Page) -> A11yTracker | None:
    return _trackers.pop(id(page), None)


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
        tracker.checked = len(tracker.loaded)
    if result:
        raise AccessibilityError(format_violations(page.url, json.loads(json.dumps(result))))


def visit(page: Page, url: str, *, status: int | None = 200) -> Page:
    """Open a URL (relative to the context's base URL), check the status and run axe."""
    response = page.goto(url)
    if status is not None:
        assert response is not None, f"no response for {url}"
        assert response.status == status, f"{url} answered {response.status}, expected {status}"
    axe_check(page)
    return page


def submit(page: Page, button: Locator | str) -> Page:
    """Click a button that submits a form, wait for the next page and run axe on it."""
    locator = page.locator(button) if isinstance(button, str) else button
    with page.expect_navigation():
        locator.click()
    axe_check(page)
    return page


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
