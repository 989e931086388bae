"""Admin for referrals and audits. The case hash is shown read-only; there is no clear reference
to show. Audit answers are edited only through the audit pages, which enforce the revision check."""

from django.contrib import admin

from practice.models import Audit, AuditAssignment, Moderation, ModerationGrade, Referral
from training.access_log import AccessLoggedAdminMixin


@admin.register(Referral)
class ReferralAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    list_display = ["id", "staff", "made_on", "route", "outcome", "is_rereferral", "exploitation_flag"]
    list_filter = ["outcome", "route", "is_rereferral", "exploitation_flag"]
    readonly_fields = ["case_hash", "is_rereferral", "created_by", "created_at"]
    raw_id_fields = ["staff"]
    date_hierarchy = "made_on"


@admin.register(Audit)
class AuditAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    list_display = ["id", "referral", "auditor", "is_second", "status", "overall_grade", "score_0_100"]
    list_filter = ["status", "is_second"]
    readonly_fields = [
        "response",
        "version",
        "revision",
        "overall_grade",
        "score_0_100",
        "criterion_grades",
        "submitted_at",
    ]
    raw_id_fields = ["referral", "auditor"]


class ModerationGradeInline(admin.TabularInline):
    model = ModerationGrade
    extra = 0
    raw_id_fields = ["item"]


@admin.register(Moderation)
class ModerationAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    list_display = ["referral", "moderator", "agreed_overall_grade", "created_at"]
    raw_id_fields = ["referral", "moderator"]
    inlines = [ModerationGradeInline]


@admin.register(AuditAssignment)
class AuditAssignmentAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    list_display = ["referral", "reason", "due_on", "assigned_manager", "status"]
    list_filter = ["reason", "status"]
    raw_id_fields = ["referral", "assigned_manager", "compared_with"]
