"""Permissions that follow the role: an active administrator holds every permission.

The Django admin checks a model permission before each page and action. Superusers pass by their
flag; this backend lets an administrator by role pass in the same way, so the role alone decides
what the admin offers. Signing in is still ModelBackend's alone: this backend authenticates no one.
"""

from django.contrib.auth.backends import BaseBackend


class AdministratorRoleBackend(BaseBackend):
    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return user_obj.is_active and getattr(user_obj, "is_administrator", False)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return user_obj.is_active and getattr(user_obj, "is_administrator", False)
