from django.contrib.admin.apps import AdminConfig


class AdministratorAdminConfig(AdminConfig):
    """django.contrib.admin with our site (config/admin_site.py) as ``admin.site``."""

    default_site = "config.admin_site.AdministratorAdminSite"
