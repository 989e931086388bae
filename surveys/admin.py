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


def _frozen(version: InstrumentVersion | None) -> bool:
    return version is not None and version.is_frozen


class ScaleInline(admin.TabularInline):
    """A frozen version's scales are shown, never changed, added or removed (the models refuse
    it too): stored scores refer to them. ``obj`` is the version being edited."""

    model = Scale
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return not _frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not _frozen(obj) and super().has_delete_permission(request, obj)


@admin.register(InstrumentVersion)
class InstrumentVersionAdmin(admin.ModelAdmin):
    list_display = ["instrument", "number", "frozen_at"]
    list_filter = ["instrument"]
    readonly_fields = ["frozen_at"]
    inlines = [ScaleInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not _frozen(obj) and super().has_delete_permission(request, obj)


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    """Items of a frozen version are read-only here: answers were given against their wording.
    To change one, edit the questionnaire, which makes a new version."""

    list_display = ["code", "version", "kind", "scale", "reverse_coded", "required"]
    list_filter = ["kind", "version__instrument"]
    search_fields = ["code", "text"]
    list_select_related = ["version__instrument", "scale"]

    def has_change_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.version.is_frozen) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.version.is_frozen) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # New items (or an item moved) only into versions nobody has answered.
        if db_field.name == "version":
            kwargs["queryset"] = InstrumentVersion.objects.filter(frozen_at__isnull=True).select_related(
                "instrument"
            )
        elif db_field.name == "scale":
            kwargs["queryset"] = Scale.objects.filter(version__frozen_at__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Administration)
class AdministrationAdmin(admin.ModelAdmin):
    list_display = ["session", "phase", "offset_days", "version", "opens_at", "closes_at", "anonymous"]
    list_filter = ["phase", "anonymous"]
    raw_id_fields = ["session", "version", "created_by"]
    list_select_related = ["session__course", "version__instrument"]
    date_hierarchy = "opens_at"
    # Once links have gone out, people answered on the terms they were given: switching anonymity
    # off would reveal who said what, and changing the version or phase would misfile answers.
    fixed_once_invited = ["session", "phase", "offset_days", "version", "anonymous"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.invitations.exists():
            return self.fixed_once_invited
        return super().get_readonly_fields(request, obj)


@admin.register(Invitation)
class InvitationAdmin(AccessLoggedAdminMixin, admin.ModelAdmin):
    # Which people were invited and whether they answered, but not what they answered. For an
    # anonymous questionnaire not even whether: reminders stop once someone answers, so their
    # count and date tell it too.
    list_display = ["id", "administration", "staff", "sent_at", "reminders", "answered", "opted_out_at"]
    list_filter = ["administration__phase"]
    search_fields = ["staff__name", "staff__work_email"]
    raw_id_fields = ["administration", "staff"]
    exclude = ["reminder_count", "last_reminded_at"]
    readonly_fields = ["sent_at", "reminders", "opted_out_at"]
    list_select_related = ["administration__session__course", "staff", "response"]

    @admin.display(boolean=True)
    def answered(self, invitation: Invitation) -> bool | None:
        if invitation.administration.anonymous:
            return None
        return invitation.is_answered

    @admin.display(description="reminders")
    def reminders(self, invitation: Invitation) -> str:
        if invitation.administration.anonymous:
            return "not shown (anonymous)"
        return str(invitation.reminder_count)
