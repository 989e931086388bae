"""Impact report pages and downloads. Thin: read the selection, get the (cached) report, render."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify

from analysis import rendering
from analysis.frames import report_roles, selection_from_params
from analysis.reports import impact_report_get
from training.models import Course, Organisation, Partnership, Profession, Team, TrainingSession
from training.views import role_required


def _choices(user):
    organisations = Organisation.objects.for_user(user)
    partnerships = Partnership.objects.filter(organisations__in=organisations).distinct().order_by("name")
    return {
        "courses": Course.objects.for_user(user).only("slug", "title").order_by("title"),
        "sessions": TrainingSession.objects.for_user(user)
        .select_related("course")
        .only("pk", "start", "course__title")
        .order_by("-start"),
        "organisations": organisations.only("slug", "name"),
        # A partnership is worth choosing only for someone who sees more than one organisation in it:
        # for anyone else it is the same as their own organisation.
        "partnerships": partnerships if organisations.count() > 1 else Partnership.objects.none(),
        "teams": Team.objects.for_user(user).only("slug", "name").order_by("name"),
        "professions": Profession.choices,
        "agencies": Organisation.Kind.choices,
    }


def _selection_or_errors(request: HttpRequest):
    try:
        return selection_from_params(user=request.user, params=request.GET), {}
    except ValidationError as error:
        return None, {field: messages[0] for field, messages in error.message_dict.items()}


@role_required(*report_roles())
def impact_report(request: HttpRequest) -> HttpResponse:
    selection, field_errors = _selection_or_errors(request)
    report = impact_report_get(user=request.user, selection=selection) if selection else None
    keys = ("course", "session", "organisation", "partnership", "team", "from", "to")
    params = {key: request.GET.get(key, "") for key in keys} | {
        "professions": request.GET.getlist("profession"),
        "agencies": request.GET.getlist("agency"),
    }
    return render(
        request,
        "analysis/report.html",
        {
            "report": report,
            "choices": _choices(request.user),
            "params": params,
            "query": request.GET.urlencode(),
            "field_errors": field_errors,
            "errors": [(field, message) for field, message in field_errors.items()],
        },
        status=400 if field_errors else 200,
    )


def _report_or_400(request: HttpRequest, *, charts: bool):
    selection, field_errors = _selection_or_errors(request)
    if selection is None:
        return None, HttpResponse(
            "; ".join(field_errors.values()), status=400, content_type="text/plain; charset=utf-8"
        )
    return impact_report_get(user=request.user, selection=selection, charts=charts), None


@role_required(*report_roles())
def impact_report_pdf(request: HttpRequest) -> HttpResponse:
    report, error = _report_or_400(request, charts=True)
    if error:
        return error
    response = HttpResponse(rendering.report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="impact-report.pdf"'
    return response


@role_required(*report_roles())
def impact_report_table(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    report, error = _report_or_400(request, charts=False)
    if error:
        return error
    table = report.tables().get(key)
    if table is None:
        raise Http404("There is no table with that name in this report.")
    filename = slugify(key) or "table"
    if fmt == "csv":
        response = HttpResponse(rendering.table_csv(table.frame), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            rendering.table_xlsx(table.frame, table.title),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
