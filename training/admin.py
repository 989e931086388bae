import io
import json

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from training.access_log import access_log_export_csv
from training.models import (
    AccessLog,
    Attendance,
    Course,
    Organisation,
    Partnership,
    SignInFailure,
    StaffMember,
    Team,
    TOTPDevice,
    TrainingSession,
    User,
)
from training.staff_data import staff_data_erase, staff_data_export


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "get_full_name", "role", "organisation", "is_active"]
    list_filter = ["role", "organisation", "is_active"]
    # The role, not Django's staff flag, opens this admin (config/admin_site.py), so the flag is
    # not offered: ticking it would grant nothing and mislead whoever ticked it.
    fieldsets = [
        *(
            (name, {**options, "fields": [f for f in options["fields"] if f != "is_staff"]})
            for name, options in BaseUserAdmin.fieldsets
        ),
        ("Role and scope", {"fields": ["role", "organisation", "sees_partnership"]}),
    ]


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "partnership"]
    list_filter = ["kind", "partnership"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation"]
    list_filter = ["organisation"]
    filter_horizontal = ["managers"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["name", "work_email", "profession", "team", "active"]
    list_filter = ["profession", "active", "team__organisation"]
    search_fields = ["name", "work_email"]
    list_select_related = ["team"]
    raw_id_fields = ["user"]
    actions = ["export_data", "erase_data"]

    @admin.action(description="Export the selected people's data (JSON, for a subject access request)")
    def export_data(self, request, queryset):
        people = queryset.select_related("team__organisation", "user")
        data = [staff_data_export(person=person, by=request.user, request=request) for person in people]
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="staff-data.json"'
        return response

    @admin.action(description="Erase the selected people's data (pseudonymise; cannot be undone)")
    def erase_data(self, request, queryset):
        # Irreversible, so the first click shows a confirmation page, like Django's own delete action.
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/training/staffmember/erase_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Erase these people's data?",
                    "people": queryset,
                    "opts": self.model._meta,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        for person in queryset.select_related("user"):
            staff_data_erase(person=person, by=request.user, request=request)
        self.message_user(request, f"Erased {queryset.count()} people's data.", messages.SUCCESS)
        return None


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "topic", "delivery_mode", "owner"]
    list_filter = ["topic", "delivery_mode"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["trainers"]


@admin.register(TrainingSession)
class TrainingSessionAdmin(admin.ModelAdmin):
    list_display = ["course", "start", "end", "trainer", "capacity"]
    list_filter = ["course"]
    date_hierarchy = "start"


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ["session", "staff", "status"]
    list_filter = ["status"]
    raw_id_fields = ["session", "staff"]
    list_select_related = ["session__course", "staff"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Administrators read these records; nobody adds or edits them in the admin."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_administrator


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "summary", "ip_address"]
    list_filter = ["action", "object_type", "at"]
    search_fields = ["object_id", "actor__username", "path"]
    date_hierarchy = "at"
    list_select_related = ["actor"]
    actions = ["export_csv"]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Export the selected entries as CSV")
    def export_csv(self, request, queryset):
        buffer = io.StringIO()
        access_log_export_csv(
            entries=queryset.select_related("actor").order_by("at", "id"),
            out=buffer,
            by=request.user,
            request=request,
        )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="access-log-{stamp}.csv"'
        return response


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(ReadOnlyAdmin):
    """Deleting an authenticator resets it: the administrator enrols again at next sign-in.
    The secret is never displayed."""

    list_display = ["user", "confirmed_at", "created_at"]
    fields = ["user", "confirmed_at", "created_at"]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_administrator


@admin.register(SignInFailure)
class SignInFailureAdmin(ReadOnlyAdmin):
    """Deleting a username's failures lifts its lockout early."""

    list_display = ["username", "ip_address", "at"]
    search_fields = ["username", "ip_address"]
    date_hierarchy = "at"

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_administrator
