"""The Django admin is for administrators, by role: ``User.is_administrator`` opens it, Django's
``is_staff`` flag does not. So the admin sits behind the same authenticator step as every other
administrator page (training/mfa.py), and a trainer, manager or workforce lead who was once given
``is_staff`` cannot reach it, with or without a code."""

from django.contrib import admin
from django.http import HttpRequest

from training.forms import AdminSignInForm


class AdministratorAdminSite(admin.AdminSite):
    site_header = "Closing the Loop administration"
    site_title = "Closing the Loop administration"
    # The admin's own sign-in page counts failures and locks out like the service's.
    login_form = AdminSignInForm

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_administrator
