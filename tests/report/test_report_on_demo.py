"""The impact report on the seeded demo: verdicts match the effects seed_demo built in, scope,
suppression, caching, a constant number of queries, and every way of taking the report away."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from analysis.frames import build_frames, selection_from_params
from analysis.reports import impact_report_get
from training.models import Attendance, StaffMember, User

CSE = "cse-recognise-respond-refer"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Seed the demo once for this module, inside a transaction rolled back at the end."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        call_command("seed_demo", "--seed", "2014", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def lead(demo, db):
    return User.objects.get(username="lead")


def _report(user, **params):
    return impact_report_get(
        user=user, selection=selection_from_params(user=user, params=params), use_cache=False
    )


def test_cse_course_verdicts_match_the_effects_built_into_the_demo(lead):
    report = _report(lead, course=CSE)
    practice = report.section("practice")
    # seed_demo: +0.3 grade points (about +10 on the 0-100 score) at the peak, fading to half by a year.
    assert practice.direction == "rise", practice.verdict
    assert practice.figures["ci_low"] < 10 and practice.figures["ci_high"] > 4
    learning = report.section("learning").figures
    assert learning["knowledge"]["direction"] == "rise"
    # attitudes were built to move less than knowledge, in standard deviations
    assert learning["attitudes"]["d_z"] < learning["knowledge"]["d_z"] or learning["attitudes"]["d_z"] < 1.5
    assert all(0 < v < 100 for v in learning["knowledge"]["retention_percent"].values())  # gains partly fade


def test_a_course_with_no_built_in_effect_is_not_called_a_rise(lead):
    practice = _report(lead, course="online-harm-frontline").section("practice")
    assert practice.direction != "rise"


def test_manager_cannot_select_another_team(demo, db):
    from django.core.exceptions import ValidationError

    manager = User.objects.get(username="manager")
    with pytest.raises(ValidationError) as raised:
        selection_from_params(user=manager, params={"team": "assessment-team-south"})
    assert "that you can see" in raised.value.message_dict["team"][0]


def test_manager_report_covers_only_their_team(demo, db):
    manager = User.objects.get(username="manager")
    frames = build_frames(user=manager, selection=selection_from_params(user=manager, params={}))
    own = set(StaffMember.objects.filter(team__managers=manager).values_list("id", flat=True))
    assert set(frames.audits["staff"]) <= own
    assert set(frames.referrals["staff"]) <= own
    assert set(frames.scores["person"]) <= own


def test_trainer_cannot_report_on_someone_elses_course(demo, client, db):
    from tests.factories import CourseFactory
    from training.models import Course

    trainer2 = User.objects.get(username="trainer2")
    elsewhere = CourseFactory(owner=User.objects.get(username="trainer"), slug="not-theirs")
    assert not Course.objects.for_user(trainer2).filter(pk=elsewhere.pk).exists()
    client.force_login(trainer2)
    response = client.get("/reports/impact/", {"course": "not-theirs"})
    assert response.status_code == 400
    assert "No course called" in response.content.decode()


def test_small_team_figures_are_suppressed_in_page_api_and_csv(demo, client, db):
    lead = User.objects.get(username="lead")
    # A profession x team with few people: every people figure must be "c" everywhere.
    params = {"team": "detached-youth-work", "course": CSE}
    report = _report(lead, **params)
    people_figures = [
        row
        for table in report.tables().values()
        if "n" in table.frame.columns
        for row in table.frame.to_dict(orient="records")
        if isinstance(row["n"], int) and 0 < row["n"] < 5
    ]
    assert people_figures == []  # no count below 5 is ever shown
    client.force_login(lead)
    api = client.get("/api/v1/reports/impact/", params).json()
    shown_counts = [
        row["n"]
        for section in api["sections"]
        for table in section["tables"]
        for row in table["rows"]
        if "n" in row and isinstance(row["n"], int)
    ]
    assert all(n >= 5 for n in shown_counts)


def test_page_renders_verdicts_charts_and_downloads(demo, client, db):
    client.force_login(User.objects.get(username="lead"))
    response = client.get("/reports/impact/", {"course": CSE})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Referral quality rose by" in body
    assert "<svg" in body and "<figcaption" in body
    csv = client.get("/reports/impact/tables/practice_event_study.csv", {"course": CSE})
    assert csv.status_code == 200
    assert csv.content.decode().splitlines()[0] == "event_time,att,ci_low,ci_high"
    xlsx = client.get("/reports/impact/tables/learning_change.xlsx", {"course": CSE})
    assert xlsx.content[:2] == b"PK"  # a zip container, as XLSX files are
    assert client.get("/reports/impact/tables/nope.csv").status_code == 404


def test_pdf_renders(demo, client, db):
    client.force_login(User.objects.get(username="lead"))
    response = client.get("/reports/impact/report.pdf", {"course": CSE})
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    from weasyprint import HTML

    from analysis.rendering import report_print_html

    pages = (
        HTML(string=report_print_html(_report(User.objects.get(username="lead"), course=CSE))).render().pages
    )
    assert len(pages) >= 3  # checked by eye as PNG pages too (pdftoppm), see the issue note


def test_bad_dates_get_a_clear_error(demo, client, db):
    client.force_login(User.objects.get(username="lead"))
    response = client.get("/reports/impact/", {"from": "31/02/2025"})
    assert response.status_code == 400
    assert "Enter the date as YYYY-MM-DD" in response.content.decode()
    assert (
        client.get("/api/v1/reports/impact/", {"to": "2024-01-01", "from": "2025-01-01"}).status_code == 400
    )


def test_frames_use_a_constant_number_of_queries(demo, db, django_assert_max_num_queries):
    lead = User.objects.get(username="lead")
    small = selection_from_params(user=lead, params={"team": "assessment-team-north"})
    everything = selection_from_params(user=lead, params={})
    with django_assert_max_num_queries(12) as few:
        build_frames(user=lead, selection=small)
    with django_assert_max_num_queries(len(few.captured_queries)):
        build_frames(user=lead, selection=everything)


def test_repeated_views_are_cached_until_new_data_arrives(demo, db, django_assert_max_num_queries):
    lead = User.objects.get(username="lead")
    selection = selection_from_params(user=lead, params={"team": "assessment-team-north"})
    first = impact_report_get(user=lead, selection=selection)
    with django_assert_max_num_queries(5):  # only the data stamp is read
        assert impact_report_get(user=lead, selection=selection) is not None
    Attendance.objects.filter(pk=Attendance.objects.first().pk).update(status="attended")
    attendance = Attendance.objects.first()
    attendance.save()  # a new attendance mark changes the stamp
    again = impact_report_get(user=lead, selection=selection)
    assert again.generated_at > first.generated_at


def test_impact_report_command_writes_every_format(demo, db, tmp_path):
    for fmt in ("json", "csv", "html", "pdf"):
        out = tmp_path / f"report.{fmt}"
        call_command(
            "impact_report", "--course", CSE, "--format", fmt, "--output", str(out), stdout=io.StringIO()
        )
        assert out.stat().st_size > 1000
    data = json.loads((tmp_path / "report.json").read_text())
    assert [s["key"] for s in data["sections"]][:3] == ["reaction", "learning", "practice"]


def test_impact_report_command_refuses_bad_input(demo, db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No course called 'nope'"):
        call_command("impact_report", "--course", "nope", "--format", "json", "--output", str(tmp_path / "x"))
