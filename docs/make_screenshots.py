"""Screenshots of the main pages for the README, taken from the demo partnership.

    .venv/bin/python docs/make_screenshots.py            # a fresh demo database and its own server
    .venv/bin/python docs/make_screenshots.py --base-url http://127.0.0.1:8000 \
        --questionnaire /q/<token>/                      # a running `make demo` (it prints the link)

Against a running demo, the audit-form shot starts a draft audit of the first referral due (as
pressing "Start the audit" does); nothing is submitted. Without --questionnaire the trainee's
phone shot is left out, because invitation links are stored only as digests and cannot be rebuilt.

Uses the browser tests' helpers (tests/browser/helpers.py): Debian's chromium through Playwright,
and axe-core on every page shot, so a screenshot is never taken of a page that fails WCAG 2.2 AA.
Writes PNGs to docs/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser.helpers import (  # noqa: E402
    DESKTOP,
    PHONE,
    axe_check,
    css_loaded,
    launch_chromium,
    sign_in_with_form,
    submit,
    visit,
)

OUT = ROOT / "docs" / "screenshots"
DEMO_PASSWORD = "closing-the-loop-demo"  # noqa: S105 (the demo accounts' published password)
PORT = 8765


def _wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not start on port {port}")


def _start_demo_server(database: Path) -> tuple[subprocess.Popen, str | None]:
    """Serve a freshly seeded demo; also returns the trainee questionnaire link seed_demo prints."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_DEBUG": "true"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)  # noqa: S603
    seeded = subprocess.run(  # noqa: S603
        [*manage, "seed_demo"], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    )
    link = re.search(r"(/q/[\w-]+/)", seeded.stdout)
    server = subprocess.Popen(  # noqa: S603
        [*manage, "runserver", "--noreload", f"127.0.0.1:{PORT}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(PORT)
    return server, link.group(1) if link else None


def shoot(page: Page, name: str, *, height: int | None = None) -> None:
    """Save the viewport, or the top `height` pixels of the whole page (for long pages such as the
    report, where the viewport alone would show only the filters)."""
    if not css_loaded(page):
        raise RuntimeError(f"{name}: the GOV.UK styles did not load")
    path = OUT / f"{name}.png"
    if height is None:
        page.screenshot(path=str(path))
    else:
        width = page.viewport_size["width"]
        page.screenshot(
            path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height}
        )
    print(f"{path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


def take_screenshots(base_url: str, questionnaire: str | None = None) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)

        phone = browser.new_context(base_url=base_url, **{**PHONE, "device_scale_factor": 1}).new_page()
        visit(phone, "/accounts/login/")
        shoot(phone, "sign-in-phone")
        if questionnaire:
            # Long enough to show the introduction, the warning and the first questions.
            visit(phone, questionnaire)
            shoot(phone, "questionnaire-phone", height=1500)
        else:
            print("questionnaire-phone.png left out: give --questionnaire /q/<token>/")

        trainer = browser.new_context(base_url=base_url, **DESKTOP).new_page()
        sign_in_with_form(trainer, "trainer", DEMO_PASSWORD)
        shoot(trainer, "dashboard-trainer")
        courses = trainer.locator("main ul.govuk-list a")
        cse = courses.filter(has_text="sexual exploitation")
        course = (cse if cse.count() else courses).first.get_attribute("href")
        visit(trainer, course)
        shoot(trainer, "course")
        # A past session, so the register shows who attended rather than only bookings.
        rows = trainer.locator("main table tbody tr")
        trained = [row for row in rows.all() if row.locator("td").last.inner_text().strip() != "0"]
        session = (trained[0] if trained else rows.first).locator("a").get_attribute("href")
        visit(trainer, f"{session}attendance/")
        shoot(trainer, "attendance-register")

        manager = browser.new_context(base_url=base_url, **DESKTOP).new_page()
        sign_in_with_form(manager, "manager", DEMO_PASSWORD)
        visit(manager, "/staff/")
        shoot(manager, "staff-list")
        _audit_form(manager)
        shoot(manager, "audit-form", height=1400)

        lead = browser.new_context(base_url=base_url, **DESKTOP).new_page()
        sign_in_with_form(lead, "lead", DEMO_PASSWORD)
        # The demo's exploitation course, whose effect seed_demo built in: verdicts and charts.
        visit(lead, "/reports/impact/?course=cse-recognise-respond-refer")
        shoot(lead, "impact-report", height=1800)

        browser.close()


def _audit_form(manager: Page) -> None:
    """The audit form for the first referral due, with the first two criteria graded (not saved),
    so the shot shows chosen grades next to the descriptors."""
    visit(manager, "/audits/due/")
    due = manager.locator("main table tbody tr a").first.get_attribute("href")
    visit(manager, due)
    start = manager.get_by_role("button", name="Start the audit")
    if start.count():
        submit(manager, start)
    else:  # already started: the draft is linked from the referral's audits
        visit(manager, manager.locator("main table tbody tr a").first.get_attribute("href"))
    manager.locator("main form input[type=radio][value='3']").first.check()
    manager.locator("main form input[type=radio][value='2']").nth(1).check()
    manager.evaluate("document.activeElement.blur()")  # no focus ring in the picture
    axe_check(manager)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", help="a running server with the demo data (default: start one)")
    parser.add_argument("--questionnaire", help="with --base-url: the trainee link `make demo` printed")
    args = parser.parse_args()
    if args.base_url:
        take_screenshots(args.base_url, args.questionnaire)
        return
    with tempfile.TemporaryDirectory() as tmp:
        server, questionnaire = _start_demo_server(Path(tmp) / "demo.sqlite3")
        try:
            take_screenshots(f"http://127.0.0.1:{PORT}", questionnaire)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
