"""The access log: who viewed or changed which record. One service writes entries; a view
decorator and a DRF mixin wire it into pages and API views in one line each (docs/security.md).

Summaries are fixed phrases written by code. Never pass free text, search terms or anything from
a record's content: the log must not become a second copy of the data it protects.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from functools import wraps

from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone

from config.logfilters import redact_invitation_tokens
from config.security import client_ip
from training.models import AccessAction, AccessLog, User

PURGE_FLAG = "closing_the_loop.access_log_purge"


def access_log_record(
    *,
    user: User | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: object = None,
    summary: str = "",
    request: HttpRequest | None = None,
) -> AccessLog:
    """Appends one entry. Give ``obj``, or ``object_type`` ("app_label.model") and ``object_id``."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
    if not object_type:
        raise ValueError("access_log_record needs obj or object_type.")
    return AccessLog.objects.create(
        actor=user if user is not None and user.is_authenticated else None,
        action=AccessAction(action),
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        summary=summary[:200],
        at=timezone.now(),
        ip_address=client_ip(request) if request is not None else None,
        path=redact_invitation_tokens(request.path)[:500] if request is not None else "",
    )


def access_logged(object_type: str, *, id_kwarg: str = "pk", write_action: str = AccessAction.UPDATE):
    """Logs each successful use of a page about one record: GET as a view, a form post that
    succeeded (redirected) as ``write_action``, and a form shown again after a failed post as a
    view. Refused and not-found responses are not logged (nothing was disclosed)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code < 400:
                # Forms redirect after a successful change; a form shown again (200) was not
                # saved, but the record was on the page: a view.
                changed = request.method not in ("GET", "HEAD") and 300 <= response.status_code < 400
                action = write_action if changed else AccessAction.VIEW
                access_log_record(
                    user=request.user,
                    action=action,
                    object_type=object_type,
                    object_id=kwargs.get(id_kwarg),
                    request=request,
                )
            return response

        return wrapped

    return decorator


class AccessLoggedMixin:
    """For DRF viewsets: logs list, retrieve, create, update and destroy of ``access_log_type``
    records when they succeed. A list is logged once, as a view with no object id. A viewset with
    extra actions that show or change records adds them to ``access_log_actions``."""

    access_log_type: str = ""
    access_log_actions = {
        "list": AccessAction.VIEW,
        "retrieve": AccessAction.VIEW,
        "create": AccessAction.CREATE,
        "update": AccessAction.UPDATE,
        "partial_update": AccessAction.UPDATE,
        "destroy": AccessAction.DELETE,
    }

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        action = self.access_log_actions.get(getattr(self, "action", None) or "")
        if action is not None and response.status_code < 400:
            object_id = kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            if object_id is None and self.action == "create" and isinstance(response.data, dict):
                object_id = response.data.get("id")
            access_log_record(
                user=request.user,
                action=action,
                object_type=self.access_log_type,
                object_id=object_id,
                summary="list" if self.action == "list" else "",
                request=request,
            )
        return response


class AccessLoggedAdminMixin:
    """For ModelAdmins of logged records: the change list and a record's page are views, and
    additions, changes and deletions are logged through the admin's own hooks, which Django calls
    only once the change is saved. Forms refused as invalid are logged as views."""

    access_log_list_summary = "admin list"

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if request.method == "GET" and response.status_code == 200:
            access_log_record(
                user=request.user,
                action=AccessAction.VIEW,
                object_type=self.model._meta.label_lower,
                summary=self.access_log_list_summary,
                request=request,
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        # A saved change redirects and is logged by log_change; anything else shown is a view.
        if response.status_code == 200:
            access_log_record(
                user=request.user,
                action=AccessAction.VIEW,
                object_type=self.model._meta.label_lower,
                object_id=object_id,
                request=request,
            )
        return response

    def log_addition(self, request, obj, message):
        access_log_record(user=request.user, action=AccessAction.CREATE, obj=obj, request=request)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        access_log_record(user=request.user, action=AccessAction.UPDATE, obj=obj, request=request)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            access_log_record(user=request.user, action=AccessAction.DELETE, obj=obj, request=request)
        return super().log_deletions(request, queryset)


def _csv_cell(value: object) -> str:
    # A cell starting with = + - @ would run as a formula when the export is opened in a spreadsheet.
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


EXPORT_COLUMNS = ["at", "actor", "action", "object_type", "object_id", "summary", "ip_address", "path"]


def access_log_export_csv(*, entries: Iterable[AccessLog], out, by: User, request: HttpRequest | None) -> int:
    """Writes entries as CSV to ``out`` and logs the export itself. Returns the number written."""
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for entry in entries:
        writer.writerow(
            _csv_cell(value)
            for value in (
                entry.at.isoformat(),
                entry.actor.get_username() if entry.actor else "",
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.summary,
                entry.ip_address,
                entry.path,
            )
        )
        count += 1
    access_log_record(
        user=by,
        action=AccessAction.EXPORT,
        object_type="training.accesslog",
        summary=f"{count} entries",
        request=request,
    )
    return count


@transaction.atomic
def access_log_purge(*, now: dt.datetime, retention_days: int, dry_run: bool) -> int:
    """The one way entries leave the log: older than the retention period. On PostgreSQL the
    trigger lets these deletes through because of the transaction-local flag set here."""
    expired = AccessLog.objects.filter(at__lt=now - dt.timedelta(days=retention_days))
    count = expired.count()
    if count and not dry_run:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', true)", [PURGE_FLAG])
        models.QuerySet.delete(expired)
    return count
