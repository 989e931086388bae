"""Re-referrals: a second referral for the same child within 12 months is flagged, and not after."""

import datetime as dt

import pytest

from practice import selectors, services
from practice.models import Referral

pytestmark = pytest.mark.django_db


def _refer(by, staff, day, reference="NB200001"):
    return services.referral_create(
        by=by,
        staff=staff,
        made_on=day,
        route="police",
        concerns=["neglect"],
        outcome="nfa",
        outcome_on=day,
        case_reference=reference,
    )


def test_second_referral_within_twelve_months_is_a_rereferral(manager, our_staff):
    first = _refer(manager, our_staff, dt.date(2024, 3, 1))
    second = _refer(
        manager, our_staff, dt.date(2025, 3, 1), reference=" nb 200001 "
    )  # same child, typed differently
    assert (first.is_rereferral, second.is_rereferral) == (False, True)


def test_referral_more_than_twelve_months_later_is_not(manager, our_staff):
    _refer(manager, our_staff, dt.date(2024, 3, 1))
    assert _refer(manager, our_staff, dt.date(2025, 3, 2)).is_rereferral is False


def test_a_different_child_is_not_a_rereferral(manager, our_staff):
    _refer(manager, our_staff, dt.date(2025, 1, 1))
    assert _refer(manager, our_staff, dt.date(2025, 2, 1), reference="NB200002").is_rereferral is False


def test_an_earlier_referral_entered_late_flags_the_later_one(manager, our_staff):
    later = _refer(manager, our_staff, dt.date(2025, 5, 1))
    _refer(manager, our_staff, dt.date(2025, 1, 1))
    later.refresh_from_db()
    assert later.is_rereferral is True
    assert Referral.objects.filter(is_rereferral=True).count() == 1


def test_leap_day_year_before(manager, our_staff):
    assert services.one_year_before(dt.date(2024, 2, 29)) == dt.date(2023, 2, 28)


def test_rereferral_rate_selector(manager, our_staff):
    for day in (dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 3, 1)):
        _refer(manager, our_staff, day)
    _refer(manager, our_staff, dt.date(2025, 3, 5), reference="NB200009")
    rate = selectors.rereferral_rate(user=manager, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31))
    assert (rate.referrals, rate.rereferrals, rate.rate) == (4, 2, 0.5)
