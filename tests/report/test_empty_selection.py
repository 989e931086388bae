"""A partnership that has only just started: training recorded, but no questionnaire answered,
no referral made and no audit done. Every view of the report says so instead of failing."""

import pytest

from tests.factories import AttendanceFactory, CourseFactory, StaffMemberFactory, TrainingSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def just_started(trainer, team):
    session = TrainingSessionFactory(course=CourseFactory(owner=trainer, title="Exploitation basics"))
    AttendanceFactory(session=session, staff=StaffMemberFactory(team=team))


def test_page_pdf_api_and_tables_work_with_no_audits(just_started, client, lead, api_as):
    client.force_login(lead)
    page = client.get("/reports/impact/")
    assert page.status_code == 200
    assert b"Not enough" in page.content or b"No audits" in page.content

    pdf = client.get("/reports/impact/report.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")

    api = api_as(lead).get("/api/v1/reports/impact/")
    assert api.status_code == 200
    practice = next(s for s in api.json()["sections"] if s["key"] == "practice")
    assert practice["verdict"]
    assert "rose" not in practice["verdict"] and "fell" not in practice["verdict"]
