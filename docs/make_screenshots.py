"""Screenshots of the main pages for the README, taken from the demo partnership.

    .venv/bin/python docs/make_screenshots.py            # a fresh demo database and its own server
    .venv/bin/python docs/make_screenshots.py --base-url http://127.0.0.1:8000   # a running `make demo`

Uses the browser tests' helpers (tests/browser/helpers.py): Debian's chromium through Playwright,
and axe-core on every page shot, so a screenshot is never taken of a page that fails WCAG 2.2 AA.
Writes PNGs to docs/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.browser.helpers import DESKTOP, PHONE, css_loaded, launch_chromium, sign_in_with_form, visit  # noqa: E402

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


def _start_demo_server(database: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_DEBUG": "true"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)  # noqa: S603
    subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # noqa: S603
    server = subprocess.Popen(  # noqa: S603
        [*manage, "runserver", "--noreload", f"127.0.0.1:{PORT}"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(PORT)
    return server


def shoot(page: Page, name: str) -> None:
    if not css_loaded(page):
        raise RuntimeError(f"{name}: the GOV.UK styles did not load")
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"{path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


def take_screenshots(base_url: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)

        phone = browser.new_context(base_url=base_url, **{**PHONE, "device_scale_factor": 1}).new_page()
        visit(phone, "/accounts/login/")
        shoot(phone, "sign-in-phone")

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

        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", help="a running server with the demo data (default: start one)")
    args = parser.parse_args()
    if args.base_url:
        take_screenshots(args.base_url)
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = _start_demo_server(Path(tmp) / "demo.sqlite3")
        try:
            take_screenshots(f"http://127.0.0.1:{PORT}")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
