"""Questionnaire pages: trainers' instrument and session pages, and the trainee's form at /q/<token>/.

Thin: parse input, call one service or selector, render. The trainee pages need no account and
show nothing about anyone: an unknown link is a plain 404.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from surveys import selectors, services
from surveys.forms import AttachForm, ItemAddForm, ItemForm, questions_for, questions_html
from surveys.models import Instrument, Invitation, ItemKind
from training.access_log import access_log_record
from training.models import AccessAction, Role, TrainingSession
from training.views import _apply_validation_error, _get_or_404, role_required


def _instrument_or_404(request: HttpRequest, slug: str) -> Instrument:
    return _get_or_404(selectors.instrument_detail, user=request.user, slug=slug)


@role_required(Role.TRAINER, Role.WORKFORCE_LEAD)
def instrument_list(request: HttpRequest) -> HttpResponse:
    instruments = selectors.instrument_list(user=request.user)
    return render(request, "surveys/instrument_list.html", {"instruments": instruments})


@role_required(Role.TRAINER, Role.WORKFORCE_LEAD)
def instrument_detail(request: HttpRequest, slug: str) -> HttpResponse:
    instrument = _instrument_or_404(request, slug)
    version = selectors.version_with_contents(instrument=instrument)
    can_edit = services.instrument_can_edit(user=request.user, instrument=instrument)
    return render(
        request,
        "surveys/instrument_detail.html",
        {"instrument": instrument, "version": version, "can_edit": can_edit},
    )


@role_required(Role.TRAINER)
@require_POST
def instrument_copy(request: HttpRequest, slug: str) -> HttpResponse:
    instrument = _instrument_or_404(request, slug)
    copy = services.instrument_copy(instrument=instrument, owner=request.user)
    messages.success(request, f"Copied. “{copy.name}” is yours to adapt.")
    return redirect("instrument-detail", slug=copy.slug)


def _frozen_notice(instrument: Instrument) -> bool:
    """True when saving will start a new version because the current one has been answered."""
    latest = services.version_latest(instrument)
    return latest is not None and latest.is_frozen


@role_required(Role.TRAINER)
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    instrument = _instrument_or_404(request, slug)
    if not services.instrument_can_edit(user=request.user, instrument=instrument):
        raise PermissionDenied("Copy this questionnaire to adapt it.")
    item = _get_or_404(lambda **kw: services.version_latest(instrument).items.get(code=code))
    form = ItemForm(request.POST or None, kind=item.kind, initial=ItemForm.initial_from(item))
    if request.method == "POST" and form.is_valid():
        try:
            services.item_update(instrument=instrument, code=code, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, "Question saved.")
            return redirect("instrument-detail", slug=slug)
    return render(
        request,
        "surveys/item_form.html",
        {"instrument": instrument, "item": item, "form": form, "frozen": _frozen_notice(instrument)},
    )


@role_required(Role.TRAINER)
@require_http_methods(["GET", "POST"])
def item_add(request: HttpRequest, slug: str) -> HttpResponse:
    instrument = _instrument_or_404(request, slug)
    if not services.instrument_can_edit(user=request.user, instrument=instrument):
        raise PermissionDenied("Copy this questionnaire to adapt it.")
    scales = services.version_latest(instrument).scales.all()
    form = ItemAddForm(request.POST or None, scales=scales, initial={"kind": ItemKind.LIKERT_5})
    if request.method == "POST" and form.is_valid():
        try:
            services.item_add(instrument=instrument, by=request.user, **form.service_kwargs())
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, "Question added.")
            return redirect("instrument-detail", slug=slug)
    return render(
        request,
        "surveys/item_form.html",
        {"instrument": instrument, "item": None, "form": form, "frozen": _frozen_notice(instrument)},
    )


@role_required(Role.TRAINER)
@require_POST
def item_remove(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    instrument = _instrument_or_404(request, slug)
    try:
        version = services.item_remove(instrument=instrument, code=code, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Question removed from version {version.number}.")
    return redirect("instrument-detail", slug=slug)


# --- A session's questionnaires ------------------------------------------------------------------


def _session_or_404(request: HttpRequest, pk: int) -> TrainingSession:
    return _get_or_404(selectors.session_for_results, user=request.user, pk=pk)


@role_required(Role.TRAINER, Role.WORKFORCE_LEAD)
def session_questionnaires(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_or_404(request, pk)
    administrations = list(selectors.session_administrations(session=session))
    for administration in administrations:
        administration.rate = selectors.response_rate(
            invited=administration.invited, answered=administration.answered
        )
        administration.open_now = administration.is_open(timezone.now())
    can_manage = TrainingSession.objects.managed_by(request.user).filter(pk=session.pk).exists()
    access_log_record(
        user=request.user,
        action=AccessAction.VIEW,
        object_type="surveys.response",
        object_id=session.pk,
        summary="session results",
        request=request,
    )
    chase = [
        (a, list(selectors.not_yet_answered(administration=a)))
        for a in administrations
        if can_manage and not a.anonymous and a.open_now
    ]
    return render(
        request,
        "surveys/session_questionnaires.html",
        {
            "session": session,
            "administrations": administrations,
            "summary": selectors.scale_summary(administrations=administrations),
            "can_manage": can_manage,
            "anonymous": any(a.anonymous for a in administrations),
            "chase": chase,
        },
    )


@role_required(Role.TRAINER)
@require_http_methods(["GET", "POST"])
def session_attach(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_or_404(
        lambda **kw: TrainingSession.objects.managed_by(request.user).select_related("course").get(pk=pk)
    )
    current = list(session.administrations.select_related("version__instrument"))
    initial = {}
    if current:
        initial = {
            "instrument": current[0].version.instrument,
            "follow_up_offsets": ", ".join(str(a.offset_days) for a in current if a.offset_days),
            "anonymous": current[0].anonymous,
        }
    form = AttachForm(
        request.POST or None, instruments=services.instruments_available(user=request.user), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.administrations_attach(
                session=session,
                instrument=form.cleaned_data["instrument"],
                by=request.user,
                follow_up_offsets=form.cleaned_data["follow_up_offsets"],
                anonymous=form.cleaned_data["anonymous"],
            )
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, "Questionnaires set up for this session.")
            return redirect("session-questionnaires", pk=session.pk)
    windows = services.administration_windows(session=session, follow_up_offsets=[])
    return render(
        request,
        "surveys/session_attach.html",
        {"session": session, "form": form, "current": current, "windows": windows},
    )


@role_required(Role.TRAINER)
@require_POST
def session_send(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_or_404(lambda **kw: TrainingSession.objects.managed_by(request.user).get(pk=pk))
    sent = 0
    for administration in session.administrations.all():
        sent += services.invitations_send(administration=administration)
    messages.success(request, f"Sent {sent} invitation{'s' if sent != 1 else ''} for open questionnaires.")
    return redirect("session-questionnaires", pk=session.pk)


class _Echo:
    def write(self, value: str) -> str:
        return value


@role_required(Role.TRAINER, Role.WORKFORCE_LEAD)
def session_export(request: HttpRequest, pk: int, layout: str) -> HttpResponse | StreamingHttpResponse:
    if layout not in ("long", "wide"):
        raise Http404("Exports come in two layouts: long and wide.")
    session = _session_or_404(request, pk)
    try:
        administrations = selectors.export_administrations(
            administrations=list(selectors.session_administrations(session=session))
        )
    except selectors.ExportRefused as refused:
        messages.error(request, str(refused))
        return redirect("session-questionnaires", pk=session.pk)
    rows = (selectors.export_long if layout == "long" else selectors.export_wide)(
        administrations=administrations
    )
    access_log_record(
        user=request.user,
        action=AccessAction.EXPORT,
        object_type="surveys.response",
        object_id=session.pk,
        summary=f"session export, {layout}",
        request=request,
    )
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="session-{session.pk}-responses-{layout}.csv"'
    return response


# --- The trainee's questionnaire (no account) ----------------------------------------------------


def _invitation_or_404(token: str) -> Invitation:
    try:
        return selectors.invitation_for_token(token=token)
    except ObjectDoesNotExist:
        raise Http404("No questionnaire at this address.") from None


def _unavailable(request: HttpRequest, invitation: Invitation, state: str) -> HttpResponse:
    return render(
        request,
        "surveys/questionnaire_unavailable.html",
        {"state": state, "administration": invitation.administration},
    )


@require_http_methods(["GET", "POST"])
def questionnaire(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation_or_404(token)
    administration = invitation.administration
    state = services.invitation_state(invitation=invitation, now=timezone.now())
    if state != services.InvitationState.OPEN:
        return _unavailable(request, invitation, state)
    # Read once: the form shows the phase's questions, and the services validate, store and score
    # against all of the version's items.
    all_items = services.version_items(version=administration.version)
    items = services.items_for_phase(
        version=administration.version, phase=administration.phase, items=all_items
    )
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {item.code: request.POST.get(item.code, "").strip() for item in items}
        try:
            response = services.invitation_respond(
                invitation=invitation, values={c: v for c, v in values.items() if v}, items=all_items
            )
        except services.InvitationUnavailable as refused:
            return _unavailable(request, invitation, refused.state)
        except ValidationError as error:
            errors = {code: " ".join(messages_) for code, messages_ in error.message_dict.items()}
        else:
            # A trainee has no account: the entry records that answers arrived, not who sent them.
            access_log_record(user=None, action=AccessAction.SUBMIT, obj=response, request=request)
            return render(request, "surveys/questionnaire_done.html", {"administration": administration})
    questions = questions_for(items=items, values=values, errors=errors)
    return render(
        request,
        "surveys/questionnaire.html",
        {
            "administration": administration,
            "questions_html": questions_html(
                version=administration.version, phase=administration.phase, questions=questions
            ),
            "error_list": [(q.anchor, q.error) for q in questions if q.error],
            "token": token,
        },
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
def questionnaire_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    # GET only asks; the change needs a POST, so link checkers in mail systems cannot opt people out.
    invitation = _invitation_or_404(token)
    done = invitation.opted_out_at is not None
    if request.method == "POST":
        services.invitation_opt_out(invitation=invitation)
        done = True
    return render(
        request,
        "surveys/questionnaire_opt_out.html",
        {"administration": invitation.administration, "done": done, "token": token},
    )
