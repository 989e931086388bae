"""Issue 9's workforce-lead journey: open the impact report, narrow it to one course and a period
(getting the dates the wrong way round once), and download it as a PDF."""

import datetime as dt
import re
import zlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from practice import services
from tests.browser.helpers import axe_check, follow, submit, visit
from tests.factories import (
    AttendanceFactory,
    CourseFactory,
    ReferralFactory,
    StaffMemberFactory,
    TrainingSessionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CSE = "Exploitation: recognise and refer"
ONLINE = "Online harm for the front line"


@pytest.fixture
def courses(trainer, team, lead, manager):
    """Two of the council's courses, run a month ago, and the referrals their trainees made before
    and since, audited by their manager, so the report has practice to report on."""
    today = timezone.localdate()
    found = {}
    for title, slug in ((CSE, "cse-recognise-refer"), (ONLINE, "online-harm-frontline")):
        course = CourseFactory(owner=trainer, title=title, slug=slug)
        session = TrainingSessionFactory(course=course)
        for _ in range(3):
            staff = StaffMemberFactory(team=team)
            AttendanceFactory(session=session, staff=staff)
            for days_ago in (120, 10):
                referral = ReferralFactory(staff=staff, made_on=today - dt.timedelta(days=days_ago))
                audit = services.audit_start(referral=referral, by=manager)
                grades = {item.code: "3" for item in audit.version.items.all()}
                services.audit_save(
                    audit=audit, by=manager, grades=grades, evidence={}, revision=1, submit=True
                )
        found[slug] = course
    return found


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF's compressed streams, inflated and joined (the document's objects, for searching)."""
    streams = re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    inflated = []
    for stream in streams:
        try:
            inflated.append(zlib.decompress(stream.group(1)))
        except zlib.error:  # an image or font stream that is not deflated
            continue
    return b"\n".join(inflated)


def scope(page) -> str:
    return page.locator("main p", has_text="Covering:").locator("strong").first.inner_text()


def test_lead_filters_the_impact_report_and_downloads_the_pdf(page, sign_in, lead, courses):
    sign_in(page, lead)
    visit(page, "/")
    follow(page, page.get_by_role("navigation", name="Menu").get_by_role("link", name="Impact report"))
    assert page.get_by_role("heading", level=1).inner_text() == "Impact of training"
    everything = scope(page)
    assert "Course:" not in everything
    # The report's sections are listed, and each entry leads to its section.
    contents = page.get_by_role("navigation", name="Sections of the report").get_by_role("link")
    assert contents.count() >= 3
    for href in contents.evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(href).count() == 1, f"{href} leads nowhere"

    # One course, over a period given the wrong way round: refused, with the choices kept.
    filters = page.get_by_role("form", name="Choose what the report covers")
    filters.get_by_label("Course").select_option(label=CSE)
    start, end = (timezone.localdate() - dt.timedelta(days=365)).isoformat(), timezone.localdate().isoformat()
    filters.get_by_label("From (optional)").fill(end)
    filters.get_by_label("To (optional)").fill(start)
    submit(page, filters.get_by_role("button", name="Update report"))
    assert page.title().startswith("Error: ")
    summary = page.get_by_role("alert")
    assert summary.get_by_role("link").all_inner_texts() == [
        "The end date must be on or after the start date."
    ]
    assert page.get_by_role("link", name="Download the report as PDF").count() == 0  # no report yet
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "to"
    # The field itself says what is wrong, for a screen reader landing on it.
    expect(page.locator("#to")).to_have_accessible_description(
        re.compile("must be on or after the start date")
    )
    filters = page.get_by_role("form", name="Choose what the report covers")
    assert filters.get_by_label("Course").evaluate("s => s.selectedOptions[0].text") == CSE
    assert filters.get_by_label("From (optional)").input_value() == end

    filters.get_by_label("From (optional)").fill(start)
    filters.get_by_label("To (optional)").fill(end)
    submit(page, filters.get_by_role("button", name="Update report"))
    assert not page.title().startswith("Error: ")
    assert scope(page) == f"Course: {CSE}; Period: {start} to {end}"
    query = parse_qs(urlsplit(page.url).query)
    assert (query["course"], query["from"], query["to"]) == (
        ["cse-recognise-refer"],
        [start],
        [end],
    )

    # The PDF is of the report as filtered: the link carries the same selection.
    pdf_link = page.get_by_role("link", name="Download the report as PDF")
    href = pdf_link.get_attribute("href")
    assert parse_qs(urlsplit(href).query) == parse_qs(urlsplit(page.url).query)
    with page.expect_download() as download_info:
        pdf_link.click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == "impact-report.pdf"
    with open(download.path(), "rb") as downloaded:
        pdf = downloaded.read()
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 10_000, f"a {len(pdf)}-byte PDF is too small to hold the report"
    # WeasyPrint compresses the document's objects; inflated, they show whose report it is.
    objects = pdf_objects(pdf)
    assert f"/Title (Impact of training: {scope(page)})".encode() in objects
    assert b"/Lang (en-GB)" in objects  # read out in the right language by assistive technology
    assert int(re.search(rb"/Type /Pages/Kids \[[^\]]*\]/Count (\d+)", objects).group(1)) >= 1

    # The headers, fetched with the same session: a PDF, offered as a file to save.
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="impact-report.pdf"'
    assert response.body().startswith(b"%PDF-")


def test_report_opens_before_any_audit_is_done(page, sign_in, lead, trainer, team):
    """A new partnership has courses and attendance but no audits yet; the report should say there
    is nothing to report on practice, not fail."""
    session = TrainingSessionFactory(course=CourseFactory(owner=trainer, title=CSE))
    AttendanceFactory(session=session, staff=StaffMemberFactory(team=team))
    sign_in(page, lead)
    response = page.goto("/reports/impact/")
    axe_check(page)
    assert response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Impact of training"
