"""Administrators' view of instruments and questionnaires. Answers are shown without names: an
invitation's staff member and its response are never listed side by side."""

from django.contrib import admin

from surveys.models import Administration, Instrument, InstrumentVersion, Invitation, Item, Scale
from training.access_log import AccessLoggedAdminMixin


class VersionInline(admin.TabularInline):
    model = InstrumentVersion
    fields = ["number", "frozen_at", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "is_default", "owner"]
    list_filter = ["kind", "is_default"]
    search_fields = ["name", "slug"]
    raw_id_fields = ["owner", "copied_from"]
    inlines = [VersionInline]


class ScaleInline(admin.TabularInline):
    model = Scale
    extra = 0


@admin.register(InstrumentVersion)
class InstrumentVersionAdmin(admin.ModelAdmin):
    list_display = ["instrument", "number", "frozen_at"]
    list_filter = ["instrument"]
    readonly_fields = ["frozen_at"]
    inlines = [ScaleInline]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["code", "version", "kind", "scale", "reverse_coded", "required"]
    list_filter = ["kind", "version__instrument"]
    search_fields = ["code", "text"]
    list_select_related = ["version__instrument", "scale"]


@admin.register(Administration)
class AdministrationAdmin(admin.ModelAdmin):
    list_display = ["session", "phase", "offset_days", "version", "opens_at", "closes_at", "anonymous"]
    list_filter = ["phase", "anonymous"]
    raw_id_fields = ["session", "version", "created_by"]
    list_select_related = ["session__course", "version__instrument"]
    date_hierarchy = "opens_at"


@admin.register(Invitation)
class InvitationAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    # Which people were invited and whether they answered, but not what they answered. For an
    # anonymous questionnaire not even whether: reminders stop once someone answers, so their
    # count and date tell it too.
    list_display = ["id", "administration", "staff", "sent_at", "reminders", "answered", "opted_out_at"]
    list_filter = ["administration__phase"]
    search_fields = ["staff__name", "staff__work_email"]
    raw_id_fields = ["administration", "staff"]
    exclude = ["response", "reminder_count", "last_reminded_at"]
    readonly_fields = ["sent_at", "reminders", "opted_out_at"]
    list_select_related = ["administration__session__course", "staff"]

    @admin.display(boolean=True)
    def answered(self, invitation: Invitation) -> bool | None:
        if invitation.administration.anonymous:
            return None
        return invitation.response_id is not None

    @admin.display(description="reminders")
    def reminders(self, invitation: Invitation) -> str:
        if invitation.administration.anonymous:
            return "not shown (anonymous)"
        return str(invitation.reminder_count)
