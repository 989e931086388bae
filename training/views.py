"""Server-rendered pages for trainers, managers and workforce leads. Thin: check input, call a
service or selector, render. Objects outside the user's scope are 404 through the selectors."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from config.security import client_ip
from training import imports, mfa, selectors, services, totp
from training.access_log import access_logged
from training.forms import AddAttendeesForm, CourseForm, CsvUploadForm, TOTPCodeForm, TrainingSessionForm
from training.models import AttendanceStatus, Course, Role, StaffMember, TrainingSession, User

PAGE_SIZE = 25


def role_required(*roles: str):
    """Pages for particular roles. Administrators may open every page."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.has_role(*roles):
                raise PermissionDenied("This page is not part of your role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _get_or_404(selector, **kwargs):
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist:
        raise Http404("Not found, or not within your teams and courses.") from None


def _paginate(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _apply_validation_error(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    context = {"counts": selectors.dashboard_counts(user=user)}
    if user.has_role(Role.TRAINER):
        context["my_courses"] = selectors.course_list(user=user)[:10]
        context["upcoming"] = selectors.upcoming_sessions(user=user)
    if user.has_role(Role.MANAGER, Role.WORKFORCE_LEAD):
        context["teams"] = selectors.teams_for(user=user)[:20]
    if user.has_role(Role.WORKFORCE_LEAD):
        context["organisations"] = selectors.organisations_for(user=user)
        context["partnership"] = selectors.partnership_seen_by(user=user)
    return render(request, "training/dashboard.html", context)


@role_required(Role.TRAINER, Role.MANAGER, Role.WORKFORCE_LEAD)
def course_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    page = _paginate(request, selectors.course_list(user=request.user, search=search))
    return render(request, "training/course_list.html", {"page": page, "search": search})


@role_required(Role.TRAINER)
@require_http_methods(["GET", "POST"])
def course_create(request: HttpRequest) -> HttpResponse:
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.course_create(owner=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, f"Course “{course.title}” created. Now add its sessions.")
            return redirect(course)
    return render(request, "training/course_form.html", {"form": form, "course": None})


@role_required(Role.TRAINER, Role.MANAGER, Role.WORKFORCE_LEAD)
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    course = _get_or_404(selectors.course_detail, user=request.user, slug=slug)
    page = _paginate(request, selectors.course_sessions(user=request.user, course=course))
    can_manage = Course.objects.managed_by(request.user).filter(pk=course.pk).exists()
    return render(
        request, "training/course_detail.html", {"course": course, "page": page, "can_manage": can_manage}
    )


@role_required(Role.TRAINER)
@require_http_methods(["GET", "POST"])
def course_edit(request: HttpRequest, slug: str) -> HttpResponse:
    course = _get_or_404(lambda **kw: Course.objects.managed_by(request.user).get(slug=slug))
    form = CourseForm(request.POST or None, initial=CourseForm.initial_from(course))
    if request.method == "POST" and form.is_valid():
        try:
            services.course_update(course=course, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, "Course details saved.")
            return redirect(course)
    return render(request, "training/course_form.html", {"form": form, "course": course})


def _trainer_choices(course: Course):
    return User.objects.filter(
        role=Role.TRAINER, organisation__partnership=course.organisation.partnership_id
    )


@role_required(Role.TRAINER)
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest, slug: str) -> HttpResponse:
    course = _get_or_404(lambda **kw: Course.objects.managed_by(request.user).get(slug=slug))
    form = TrainingSessionForm(request.POST or None, trainers=_trainer_choices(course))
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(course=course, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, "Session added. Add people to its register when they book.")
            return redirect(session)
    return render(request, "training/session_form.html", {"form": form, "course": course, "session": None})


@role_required(Role.TRAINER, Role.MANAGER, Role.WORKFORCE_LEAD)
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_or_404(selectors.session_detail, user=request.user, pk=pk)
    register = selectors.session_register(user=request.user, session=session)
    can_manage = TrainingSession.objects.managed_by(request.user).filter(pk=session.pk).exists()
    return render(
        request,
        "training/session_detail.html",
        {"session": session, "register": register, "can_manage": can_manage},
    )


@role_required(Role.TRAINER)
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_or_404(lambda **kw: TrainingSession.objects.managed_by(request.user).get(pk=pk))
    form = TrainingSessionForm(
        request.POST or None,
        initial=TrainingSessionForm.initial_from(session),
        trainers=_trainer_choices(session.course),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["trainer"] = data["trainer"] or session.trainer
        try:
            services.session_update(session=session, by=request.user, **data)
        except ValidationError as error:
            _apply_validation_error(form, error)
        else:
            messages.success(request, "Session details saved.")
            return redirect(session)
    return render(
        request, "training/session_form.html", {"form": form, "course": session.course, "session": session}
    )


@role_required(Role.TRAINER)
@require_http_methods(["GET", "POST"])
def session_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """The register: every booked person with a status, saved in one go."""
    session = _get_or_404(
        lambda **kw: TrainingSession.objects.managed_by(request.user).select_related("course").get(pk=pk)
    )
    register = list(selectors.session_register(user=request.user, session=session))
    bookable = (
        StaffMember.objects.for_user(request.user)
        .filter(active=True)
        .exclude(attendances__session=session)
        .select_related("team")
    )
    add_form = AddAttendeesForm(staff=bookable)
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        if "add" in request.POST:
            add_form = AddAttendeesForm(request.POST, staff=bookable)
            if add_form.is_valid():
                statuses = {person.pk: AttendanceStatus.BOOKED for person in add_form.cleaned_data["staff"]}
                services.attendance_mark(session=session, by=request.user, statuses=statuses)
                messages.success(request, f"Added {len(statuses)} people to the register.")
                return redirect("session-attendance", pk=session.pk)
            errors = add_form.error_list
        else:
            statuses = {}
            for attendance in register:
                value = request.POST.get(f"status-{attendance.staff_id}")
                if value is not None:
                    statuses[attendance.staff_id] = value
            try:
                services.attendance_mark(session=session, by=request.user, statuses=statuses)
            except ValidationError as error:
                errors = [("", message) for message in error.messages]
            else:
                messages.success(request, "Attendance saved.")
                return redirect(session)
    return render(
        request,
        "training/session_attendance.html",
        {
            "session": session,
            "register": register,
            "statuses": AttendanceStatus.choices,
            "add_form": add_form,
            "errors": errors,
        },
    )


@role_required(Role.MANAGER, Role.WORKFORCE_LEAD, Role.TRAINER)
def staff_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    team = request.GET.get("team", "").strip()
    page = _paginate(request, selectors.staff_list(user=request.user, search=search, team=team))
    teams = selectors.teams_for(user=request.user)
    return render(
        request, "training/staff_list.html", {"page": page, "search": search, "team": team, "teams": teams}
    )


@role_required(Role.MANAGER, Role.WORKFORCE_LEAD, Role.TRAINER)
@access_logged("training.staffmember")
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_or_404(selectors.staff_detail, user=request.user, pk=pk)
    return render(request, "training/staff_detail.html", {"person": person})


def _csv_import_page(
    request: HttpRequest, *, importer, template: str, title: str, columns: str
) -> HttpResponse:
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = importer(data=form.cleaned_data["file"].read(), by=request.user)
        if result.ok:
            messages.success(
                request, f"Imported {result.saved} rows: {result.created} new, {result.updated} updated."
            )
            return redirect(request.path)
    return render(request, template, {"form": form, "result": result, "title": title, "columns": columns})


@role_required(Role.WORKFORCE_LEAD)
@require_http_methods(["GET", "POST"])
def import_staff(request: HttpRequest) -> HttpResponse:
    return _csv_import_page(
        request,
        importer=imports.staff_import,
        template="training/import.html",
        title="Import the staff directory",
        columns=(
            "name, work_email, profession, organisation, team, "
            "start_date_in_role (optional), active (optional)"
        ),
    )


@role_required(Role.TRAINER)
@require_http_methods(["GET", "POST"])
def import_attendance(request: HttpRequest) -> HttpResponse:
    return _csv_import_page(
        request,
        importer=imports.attendance_import,
        template="training/import.html",
        title="Import attendance registers",
        columns="session_id, work_email, status (booked, attended, partial, no_show or cancelled)",
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _check_code(request: HttpRequest, form: TOTPCodeForm) -> bool:
    try:
        mfa.totp_check(user=request.user, code=form.cleaned_data["code"], ip_address=client_ip(request))
    except ValidationError as error:
        _apply_validation_error(form, error)
        return False
    mfa.mfa_mark_verified(request.session, request.user)
    return True


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request: HttpRequest) -> HttpResponse:
    """An administrator's first sign-in: add the secret to an authenticator app, then prove it
    with a code. The secret is shown here only until the first code is accepted."""
    if not mfa.mfa_required(request.user):
        raise Http404("Only administrators set up an authenticator.")
    try:
        device = mfa.totp_enrolment_start(user=request.user)
    except ValidationError:
        return redirect(f"{reverse('mfa-verify')}?{urlencode({'next': _safe_next(request)})}")
    form = TOTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_code(request, form):
        messages.success(request, "Your authenticator is set up. You will need a code each time you sign in.")
        return redirect(_safe_next(request))
    secret = mfa.device_secret(device)
    return render(
        request,
        "training/mfa_setup.html",
        {
            "form": form,
            "secret": totp.to_base32(secret),
            "uri": totp.provisioning_uri(
                secret, account=request.user.get_username(), issuer=settings.MFA_TOTP_ISSUER
            ),
            "next": _safe_next(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    if not mfa.mfa_required(request.user):
        raise Http404("Only administrators need a code.")
    form = TOTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _check_code(request, form):
        return redirect(_safe_next(request))
    return render(request, "training/mfa_verify.html", {"form": form, "next": _safe_next(request)})
