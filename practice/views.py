"""Pages for referrals, audits, moderation and coverage. Thin: check input, call a service or
selector, render. Objects outside the user's scope are 404 through the selectors.

Case references are posted to the referral forms only: those views mark the field sensitive so
error reports never contain it, and nothing here logs request bodies.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from practice import imports, selectors, services
from practice.forms import EVIDENCE_NO_NAMES, AuditForm, ModerationForm, ReferralForm, SecondAuditForm
from practice.models import Audit, AuditStatus, Outcome, Referral
from training.access_log import access_log_record, access_logged
from training.models import AccessAction, Role, StaffMember, Team, User
from training.views import _apply_validation_error, _csv_import_page, _get_or_404, _paginate, role_required

logger = logging.getLogger(__name__)


def _log_list(request: HttpRequest, object_type: str) -> None:
    """A page of records is a view of them, logged once with no object id, as the API's lists are."""
    access_log_record(
        user=request.user, action=AccessAction.VIEW, object_type=object_type, summary="list", request=request
    )


@role_required(Role.MANAGER, Role.WORKFORCE_LEAD)
def referral_list(request: HttpRequest) -> HttpResponse:
    team = request.GET.get("team", "").strip()
    outcome = request.GET.get("outcome", "").strip()
    referrals = selectors.referral_list(user=request.user, team=team, outcome=outcome)
    page = _paginate(request, referrals)
    _log_list(request, "practice.referral")
    return render(
        request,
        "practice/referral_list.html",
        {
            "page": page,
            "team": team,
            "outcome": outcome,
            "outcomes": Outcome.choices,
            "teams": Team.objects.for_user(request.user),
            "label_teams": selectors.managed_team_ids(user=request.user),
            "query": "&".join(f"{k}={v}" for k, v in (("team", team), ("outcome", outcome)) if v),
        },
    )


def _referral_form_context(form, referral=None) -> dict:
    return {"form": form, "referral": referral}


@sensitive_post_parameters("case_reference")
@role_required(Role.MANAGER, Role.WORKFORCE_LEAD)
@require_http_methods(["GET", "POST"])
def referral_create(request: HttpRequest) -> HttpResponse:
    staff = StaffMember.objects.for_user(request.user).filter(active=True).select_related("team")
    form = ReferralForm(request.POST or None, staff=staff, show_label=request.user.role == Role.MANAGER)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            access_log_record(user=request.user, action=AccessAction.CREATE, obj=referral, request=request)
            messages.success(request, f"Referral {referral.pk} recorded.")
            return redirect("referral-detail", pk=referral.pk)
    return render(request, "practice/referral_form.html", _referral_form_context(form))


@sensitive_post_parameters("case_reference")
@role_required(Role.MANAGER, Role.WORKFORCE_LEAD)
@require_http_methods(["GET", "POST"])
@access_logged("practice.referral", write_action=AccessAction.UPDATE)
def referral_edit(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_or_404(selectors.referral_detail, user=request.user, pk=pk)
    show_label = services.label_visible(user=request.user, referral=referral)
    form = ReferralForm(
        request.POST or None, initial=ReferralForm.initial_from(referral), editing=True, show_label=show_label
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.referral_update(referral=referral, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_validation_error(form, error)
        except PermissionDenied:
            form.add_error(None, "You can see this referral but not change it.")
        else:
            messages.success(request, "Referral saved.")
            return redirect("referral-detail", pk=referral.pk)
    return render(request, "practice/referral_form.html", _referral_form_context(form, referral))


@role_required(Role.MANAGER, Role.WORKFORCE_LEAD)
@access_logged("practice.referral")
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user
    referral = _get_or_404(selectors.referral_detail, user=user, pk=pk)
    audits = list(selectors.referral_audits(user=user, referral=referral))
    all_audits = {
        a.is_second: a for a in Audit.objects.filter(referral=referral).only("is_second", "auditor_id")
    }
    first = all_audits.get(False)
    is_team_manager = services.label_visible(user=user, referral=referral) and user.role == Role.MANAGER
    second_form = None
    if (
        is_team_manager
        and first
        and True not in all_audits
        and not referral.assignments.filter(services.Q_SECOND)
    ):
        second_form = SecondAuditForm(managers=_second_auditors(referral, exclude=first.auditor_id))
    return render(
        request,
        "practice/referral_detail.html",
        {
            "referral": referral,
            "audits": audits,
            "show_label": services.label_visible(user=user, referral=referral),
            "can_start_first": user.has_role(Role.MANAGER)
            and first is None
            and (is_team_manager or user.is_administrator),
            "can_start_second": user.has_role(Role.MANAGER)
            and first is not None
            and first.auditor_id != user.pk
            and True not in all_audits,
            "second_form": second_form,
            "disagreements": services.disagreements(referral=referral) if len(audits) == 2 else [],
        },
    )


def _second_auditors(referral: Referral, *, exclude: int):
    return (
        User.objects.filter(
            role=Role.MANAGER, managed_teams__organisation_id=referral.staff.team.organisation_id
        )
        .exclude(pk=exclude)
        .distinct()
        .order_by("last_name", "first_name")
    )


@role_required(Role.MANAGER)
@require_POST
def second_audit_request(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_or_404(selectors.referral_detail, user=request.user, pk=pk)
    first = referral.audits.filter(is_second=False).first()
    form = SecondAuditForm(
        request.POST, managers=_second_auditors(referral, exclude=first.auditor_id if first else 0)
    )
    if form.is_valid():
        try:
            assignment = services.second_audit_assign(
                referral=referral, by=request.user, manager=form.cleaned_data["manager"]
            )
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            access_log_record(user=request.user, action=AccessAction.CREATE, obj=assignment, request=request)
            messages.success(
                request, f"Blind second audit asked of {form.cleaned_data['manager'].get_full_name()}."
            )
    else:
        messages.error(request, "Choose a manager for the second audit.")
    return redirect("referral-detail", pk=referral.pk)


@role_required(Role.MANAGER)
@require_POST
def audit_start(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_or_404(selectors.referral_detail, user=request.user, pk=pk)
    second = request.POST.get("second") == "1"
    try:
        audit = services.audit_start(referral=referral, by=request.user, second=second)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect("referral-detail", pk=referral.pk)
    access_log_record(user=request.user, action=AccessAction.CREATE, obj=audit, request=request)
    return redirect("audit-detail", pk=audit.pk)


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The audit form for a draft its user may edit; otherwise a read-only record."""
    user: User = request.user
    audit = _get_or_404(selectors.audit_detail, user=user, pk=pk)
    editable = (
        audit.status == AuditStatus.DRAFT and Audit.objects.editable_by(user).filter(pk=audit.pk).exists()
    )
    items = audit.version.items.order_by("position")
    errors: list[tuple[str, str]] = []
    field_errors: dict[str, str] = {}
    form = AuditForm(request.POST or None, items=items, initial={"revision": audit.revision})
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("This audit cannot be changed.")
        if form.is_valid():
            try:
                services.audit_save(
                    audit=audit,
                    by=user,
                    grades=form.grades(),
                    evidence=form.evidence(),
                    revision=form.cleaned_data["revision"],
                    submit=form.submitting,
                )
            except services.StaleEditError as stale:
                errors.append(("", str(stale)))
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    field_errors = {code: " ".join(msgs) for code, msgs in error.message_dict.items()}
                else:
                    errors += [("", message) for message in error.messages]
            else:
                saved = AccessAction.SUBMIT if form.submitting else AccessAction.UPDATE
                access_log_record(user=user, action=saved, obj=audit, request=request)
                if form.submitting:
                    messages.success(request, "Audit submitted.")
                    return redirect("referral-detail", pk=audit.referral_id)
                messages.success(request, "Draft saved.")
                return redirect("audit-detail", pk=audit.pk)
        else:
            errors.append(("", "The page was out of date or incomplete. Reload it and try again."))
    rows = selectors.audit_criteria(audit=audit)
    if request.method == "POST":
        # Show what the user entered, even when it was not saved, so nothing they typed is lost.
        rows = [
            selectors.CriterionRow(
                row.item,
                request.POST.get(f"grade-{row.item.code}", ""),
                request.POST.get(f"evidence-{row.item.code}", ""),
            )
            for row in rows
        ]
    # The grades and evidence are on the page that follows: a view of the audit.
    access_log_record(user=user, action=AccessAction.VIEW, obj=audit, request=request)
    for row in rows:
        if row.item.code in field_errors:
            errors.append((f"grade-{row.item.code}", f"{row.item.text}: {field_errors[row.item.code]}"))
    return render(
        request,
        "practice/audit_form.html" if editable else "practice/audit_view.html",
        {
            "audit": audit,
            "evidence_warning": EVIDENCE_NO_NAMES,
            "rows": rows,
            "errors": errors,
            "field_errors": field_errors,
            "revision": form.data.get("revision", audit.revision)
            if request.method == "POST"
            else audit.revision,
        },
    )


@role_required(Role.MANAGER)
def audits_due(request: HttpRequest) -> HttpResponse:
    page = _paginate(request, selectors.audits_due(user=request.user))
    _log_list(request, "practice.auditassignment")
    return render(request, "practice/audits_due.html", {"page": page, "today": timezone.localdate()})


@role_required(Role.MANAGER)
def audit_history(request: HttpRequest) -> HttpResponse:
    team = request.GET.get("team", "").strip()
    page = _paginate(request, selectors.audit_history(user=request.user, team=team))
    _log_list(request, "practice.audit")
    return render(
        request,
        "practice/audit_history.html",
        {
            "page": page,
            "team": team,
            "teams": Team.objects.for_user(request.user),
            "query": f"team={team}" if team else "",
        },
    )


@role_required(Role.MANAGER)
def moderation_list(request: HttpRequest) -> HttpResponse:
    page = _paginate(request, selectors.moderation_queue(user=request.user))
    _log_list(request, "practice.referral")
    return render(request, "practice/moderation_list.html", {"page": page})


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
@access_logged("practice.referral", write_action=AccessAction.CREATE)
def moderation_form(request: HttpRequest, pk: int) -> HttpResponse:
    referral = _get_or_404(lambda **kw: selectors.moderation_queue(user=request.user).get(pk=pk))
    found = services.disagreements(referral=referral)
    form = ModerationForm(request.POST or None, items=[d.item for d in found if d.item is not None])
    if request.method == "POST" and form.is_valid():
        try:
            services.moderation_record(
                referral=referral,
                by=request.user,
                grades=form.grades(),
                overall_grade=form.cleaned_data["overall_grade"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, "Moderation recorded.")
            return redirect("moderation-list")
    audits = {a.is_second: a for a in referral.audits.select_related("auditor")}
    return render(
        request,
        "practice/moderation_form.html",
        {
            "referral": referral,
            "disagreements": found,
            "form": form,
            "first": audits[False],
            "second": audits[True],
        },
    )


@role_required(Role.MANAGER, Role.WORKFORCE_LEAD)
def coverage(request: HttpRequest) -> HttpResponse:
    since = timezone.localdate().replace(day=1) - dt.timedelta(days=730)
    rows = selectors.coverage(user=request.user, since=since)
    return render(request, "practice/coverage.html", {"rows": rows})


def _logged_import(request: HttpRequest, importer, object_type: str):
    """An import creates or changes many records at once: one entry says who imported how many."""

    def run(*, data, by: User):
        result = importer(data=data, by=by)
        if result.ok and result.saved:
            access_log_record(
                user=by,
                action=AccessAction.CREATE,
                object_type=object_type,
                summary=f"import, {result.created} new, {result.updated} updated",
                request=request,
            )
        return result

    return run


@sensitive_post_parameters()
@role_required(Role.MANAGER, Role.WORKFORCE_LEAD)
@require_http_methods(["GET", "POST"])
def import_referrals(request: HttpRequest) -> HttpResponse:
    return _csv_import_page(
        request,
        importer=_logged_import(request, imports.referral_import, "practice.referral"),
        template="training/import.html",
        title="Import past referrals",
        columns=(
            "work_email, made_on, case_reference, route, concerns (separated by semicolons), outcome, "
            "outcome_on (optional), exploitation_flag (optional), local_label (optional). Case references "
            "are turned into a one-way code as the file is read and are never stored"
        ),
    )


@sensitive_post_parameters()
@role_required(Role.MANAGER, Role.WORKFORCE_LEAD)
@require_http_methods(["GET", "POST"])
def import_audits(request: HttpRequest) -> HttpResponse:
    codes = ", ".join(services.rubric_current().items.order_by("position").values_list("code", flat=True))
    return _csv_import_page(
        request,
        importer=_logged_import(request, imports.audit_import, "practice.audit"),
        template="training/import.html",
        title="Import past audits",
        columns=(
            "referral_id, or work_email, made_on and case_reference; auditor (username); audit_date; "
            f"second (optional, yes or no); a grade from 1 to 4 in each of: {codes}; and, optionally, "
            "evidence_ followed by a criterion's code (for example evidence_timely) for that criterion's "
            f"evidence comment, up to {services.EVIDENCE_MAX_LENGTH:,} characters. {EVIDENCE_NO_NAMES} "
            "Columns left out or cells left blank mean no evidence comment"
        ),
    )
