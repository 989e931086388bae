"""Fixtures for browser tests: Debian's chromium through Playwright against pytest-django's live
server. Tests here need `@pytest.mark.django_db(transaction=True)` (the live server runs in
another thread) and are marked `browser`; they are skipped when /usr/bin/chromium is absent.

Use `visit(page, url)`, `submit(page, button)` and `follow(page, link)` from
`tests.browser.helpers`: each runs axe-core on the page it arrives at. Every document each tab
loads is tracked on its own: moving on with one of them from a document nobody checked fails, and
so does a test that ends with one, at teardown.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from tests.browser.helpers import CHROMIUM, DESKTOP, PHONE, launch_chromium, track, untrack

BROWSER_DB = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Every test in this folder is a browser test on a transactional database (the live server
    answers from another thread), even if its module forgets to say so; and is skipped, with the
    reason, where chromium is not installed."""
    here = os.path.dirname(__file__)
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
    for item in items:
        if not str(item.fspath).startswith(here):
            continue
        if item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.browser)
        db = item.get_closest_marker("django_db")
        if db is None or not db.kwargs.get("transaction") or not db.kwargs.get("serialized_rollback"):
            item.add_marker(BROWSER_DB)
        if not CHROMIUM.exists():
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_call_failed] = report.failed
    return report


_call_failed = pytest.StashKey[bool]()


def _reload_migrated_rows(contents: str | None) -> None:
    """Empty the database and put back the rows that migrations created (content types,
    permissions, default instruments and rubrics), as they were when the test database was made."""
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import DEFAULT_DB_ALIAS, connections

    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=bool(contents))
    if contents:
        connection = connections[DEFAULT_DB_ALIAS]
        connection.creation.deserialize_db_from_string(contents)
        # flush restarts PostgreSQL's sequences and the rows come back with their old ids, so move
        # each sequence past them (as loaddata does), or the next insert reuses id 1.
        statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


@pytest.fixture(scope="module")
def _migrated_rows(django_db_setup, django_db_blocker):
    """The rows migrations created, serialized when the test database was made (the
    serialized_rollback marker asks for that), and put back when this module's tests are done:
    a transactional test leaves the tables empty, and ordinary tests may follow on this worker."""
    from django.db import DEFAULT_DB_ALIAS, connections

    contents = getattr(connections[DEFAULT_DB_ALIAS], "_test_serialized_contents", None)
    yield contents
    with django_db_blocker.unblock():
        _reload_migrated_rows(contents)


@pytest.fixture(scope="module")
def browser(_migrated_rows, django_db_blocker):
    """Chromium, started once per test module.

    Not once per session: Playwright's sync API marks an asyncio loop as running in the main
    thread for as long as it is started. Django then refuses ORM calls (SynchronousOnlyOperation)
    and, because asgiref's locals follow the running loop, hands out other connection objects;
    every later test on the same xdist worker would be affected. Per module, that lasts only while
    browser tests run; Django's async-safety check is off for that time (browser tests are
    synchronous throughout), and the extra connections are closed before Playwright stops.
    Starting chromium costs about a second.
    """
    from django.db import connections
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            yield browser
            browser.close()
            with django_db_blocker.unblock():
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _migrated_rows_for_each_test(_migrated_rows, browser, transactional_db):
    """Each browser test starts from the freshly migrated database, whatever ran before it.
    (Django's serialized_rollback cannot do this here: inside Playwright's loop the connection
    object is not the one that holds the serialized rows.)"""
    _reload_migrated_rows(_migrated_rows)


def _page(request, browser, live_server, options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(15_000)
    context.set_default_navigation_timeout(30_000)  # the first request imports the whole project
    # Every tab of the context is tracked, including any a test opens itself (a second tab).
    pages = []

    def opened(new):
        if all(new is not known for known, _ in pages):
            pages.append((new, track(new)))

    context.on("page", opened)
    page = context.new_page()
    opened(page)
    yield page
    try:
        if not request.node.stash.get(_call_failed, True):
            unchecked = []
            for each, tracker in pages:
                if not each.is_closed():
                    each.evaluate("0")  # deliver any pending load events
                unchecked += tracker.unchecked()
            assert not unchecked, (
                "These pages were loaded but never checked with axe; use visit()/submit()/follow() "
                f"or call axe_check(page): {unchecked}"
            )
    finally:
        for each, _ in pages:
            untrack(each)
        context.close()


@pytest.fixture
def page(request, browser, live_server):
    """A desktop-sized page whose relative URLs go to the live server."""
    yield from _page(request, browser, live_server, DESKTOP)


@pytest.fixture
def phone(request, browser, live_server):
    """A phone-sized page (390x844, touch, mobile viewport)."""
    yield from _page(request, browser, live_server, PHONE)


@pytest.fixture
def sign_in(live_server):
    """sign_in(page, user): signs the page's browser in as user without the sign-in form
    (which has its own tests), by giving it a session cookie."""
    from django.conf import settings
    from django.test import Client

    host = urlsplit(live_server.url).hostname

    def sign_in(page, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": cookie.value,
                    "domain": host,
                    "path": "/",
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
            ]
        )
        return page

    return sign_in


@pytest.fixture
def course(trainer, team):
    """A course with one past session and four people on its register."""
    from tests.factories import AttendanceFactory, CourseFactory, StaffMemberFactory, TrainingSessionFactory

    course = CourseFactory(
        owner=trainer,
        title="Child sexual exploitation: spotting the signs",
        learning_outcomes="Recognise grooming\nMake a good referral",
        target_professions=["social_worker", "police"],
    )
    session = TrainingSessionFactory(course=course)
    for status in ["attended", "attended", "partial", "no_show"]:
        AttendanceFactory(session=session, staff=StaffMemberFactory(team=team), status=status)
    return course


@pytest.fixture
def session(course):
    return course.sessions.get()
