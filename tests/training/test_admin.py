"""The Django admin is for administrators by role, behind their authenticator code; Django's
is_staff flag opens nothing."""

import pytest
import time_machine
from django.utils import timezone

from tests.auth import SignedInClient
from tests.factories import TEST_PASSWORD, UserFactory
from training import totp
from training.mfa import totp_enrol_with_secret
from training.models import Role, SignInFailure

pytestmark = pytest.mark.django_db

SECRET = b"12345678901234567890"


@pytest.fixture
def administrator(council):
    """An administrator by role alone: neither staff nor superuser in Django's terms."""
    user = UserFactory(username="admin2", role=Role.ADMINISTRATOR, organisation=council)
    assert not user.is_staff and not user.is_superuser
    totp_enrol_with_secret(user=user, secret=SECRET)
    return user


def _give_a_code(client, next_url: str) -> None:
    with time_machine.travel(timezone.now(), tick=False):
        response = client.post("/accounts/mfa/verify/", {"code": totp.totp(SECRET), "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == next_url


def test_an_administrator_by_role_opens_the_admin_after_giving_a_code(administrator):
    client = SignedInClient()
    signed_in = client.post("/accounts/login/", {"username": "admin2", "password": TEST_PASSWORD})
    assert signed_in.status_code == 302

    before_code = client.get("/admin/")
    assert before_code.status_code == 302
    assert before_code["Location"].startswith("/accounts/mfa/verify/?next=")

    _give_a_code(client, "/admin/")
    index = client.get("/admin/")
    assert index.status_code == 200
    # The role brings the permissions too, not an empty admin.
    assert 'href="/admin/training/staffmember/"' in index.content.decode()
    assert client.get("/admin/training/staffmember/").status_code == 200
    assert client.get("/admin/training/user/add/").status_code == 200


def test_an_administrator_by_role_signs_in_on_the_admins_own_page(administrator):
    client = SignedInClient()
    response = client.post("/admin/login/?next=/admin/", {"username": "admin2", "password": TEST_PASSWORD})
    assert response.status_code == 302
    # Signed in, and the code step still stands between them and the admin.
    assert client.get("/admin/")["Location"].startswith("/accounts/mfa/verify/")
    _give_a_code(client, "/admin/")
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("role", [Role.TRAINER, Role.MANAGER, Role.WORKFORCE_LEAD])
def test_other_roles_cannot_open_the_admin_even_as_staff(client, council, role):
    user = UserFactory(role=role, organisation=council, is_staff=True)
    client.force_login(user)
    for url in ["/admin/", "/admin/training/staffmember/", "/admin/training/accesslog/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
    page = client.get("/admin/login/").content.decode()
    assert "not authorized to access this page" in page


def test_a_staff_flag_on_another_role_does_not_pass_the_admin_sign_in(client, council):
    UserFactory(username="staffy", role=Role.TRAINER, organisation=council, is_staff=True)
    response = client.post("/admin/login/?next=/admin/", {"username": "staffy", "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "for an administrator account" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert SignInFailure.objects.filter(username="staffy").exists()  # counted towards the lockout


def test_only_administrators_hold_permissions_by_role(administrator, council):
    staff_trainer = UserFactory(role=Role.TRAINER, organisation=council, is_staff=True)
    assert administrator.has_perm("training.change_staffmember")
    assert administrator.has_module_perms("training")
    assert not staff_trainer.has_perm("training.change_staffmember")
    assert not staff_trainer.has_module_perms("training")

    administrator.is_active = False
    assert not administrator.has_perm("training.change_staffmember")


def test_the_user_form_does_not_offer_the_staff_flag(client, admin_user):
    client.force_login(admin_user)
    page = client.get(f"/admin/training/user/{admin_user.pk}/change/").content.decode()
    assert 'name="role"' in page
    assert 'name="is_staff"' not in page
